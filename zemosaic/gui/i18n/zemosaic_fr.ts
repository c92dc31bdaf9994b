<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>Frames</name>
    <message>
        <source>WCS in header</source>
        <translation>WCS dans l&apos;en-tête</translation>
    </message>
    <message>
        <source>to plate-solve (pointing known)</source>
        <translation>à résoudre (pointage connu)</translation>
    </message>
    <message>
        <source>to plate-solve (no pointing)</source>
        <translation>à résoudre (sans pointage)</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>illisible</translation>
    </message>
    <message>
        <source>kept</source>
        <translation>gardée</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>rejetée</translation>
    </message>
    <message>
        <source>excluded</source>
        <translation>exclue</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Fichier</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Heure</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Tuile</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>Position</translation>
    </message>
    <message>
        <source>Stars</source>
        <translation>Étoiles</translation>
    </message>
    <message>
        <source>FWHM (px)</source>
        <translation>FWHM (px)</translation>
    </message>
    <message>
        <source>Elongation</source>
        <translation>Élongation</translation>
    </message>
    <message>
        <source>Sky (ADU)</source>
        <translation>Ciel (ADU)</translation>
    </message>
    <message>
        <source>Transparency</source>
        <translation>Transparence</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>Poids</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Décision</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Raison</translation>
    </message>
    <message>
        <source>Use</source>
        <translation>Prendre</translation>
    </message>
    <message>
        <source>Choose an input folder: the frames appear here before any run.</source>
        <translation>Choisissez un dossier d&apos;entrée : les poses apparaissent ici avant tout traitement.</translation>
    </message>
    <message>
        <source>tile %1: click to list its frames</source>
        <translation>tuile %1 : cliquez pour lister ses poses</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tuile %1</translation>
    </message>
</context>
<context>
    <name>FramesTab</name>
    <message>
        <source>Measure frames</source>
        <translation>Mesurer les poses</translation>
    </message>
    <message>
        <source>Measure every frame&apos;s quality as a run would (zemosaic inspect), without stacking</source>
        <translation>Mesurer la qualité de chaque pose comme le ferait un traitement (zemosaic inspect), sans empiler</translation>
    </message>
    <message>
        <source>Rejected only</source>
        <translation>Rejetées seulement</translation>
    </message>
    <message>
        <source>all tiles</source>
        <translation>toutes les tuiles</translation>
    </message>
    <message>
        <source>Thumbnail</source>
        <translation>Vignette</translation>
    </message>
    <message>
        <source>Show the selected frame</source>
        <translation>Afficher la pose choisie</translation>
    </message>
    <message>
        <source>No frames measured yet: choose the input folder, then Measure frames.</source>
        <translation>Aucune pose mesurée : choisissez le dossier d&apos;entrée, puis Mesurer les poses.</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Tuile</translation>
    </message>
    <message>
        <source>Measuring the frames of %1...</source>
        <translation>Mesure des poses de %1…</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tuile %1</translation>
    </message>
    <message>
        <source>%1 frames in %2 tile groups: %3 kept, %4 rejected by the quality rules. Untick a frame to leave it out of the run.</source>
        <translation>%1 poses en %2 groupes de tuiles : %3 gardées, %4 rejetées par les règles de qualité. Décochez une pose pour l&apos;écarter du traitement.</translation>
    </message>
    <message>
        <source>Unreadable: %1.</source>
        <translation>Illisibles : %1.</translation>
    </message>
    <message>
        <source>Measuring frame %1 of %2...</source>
        <translation>Mesure de la pose %1 sur %2…</translation>
    </message>
    <message>
        <source>The frames could not be measured: %1</source>
        <translation>Les poses n&apos;ont pas pu être mesurées : %1</translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>all tags</source>
        <translation>toutes les étiquettes</translation>
    </message>
    <message>
        <source>filter text</source>
        <translation>filtrer le texte</translation>
    </message>
    <message>
        <source>Wrap lines</source>
        <translation>Couper les lignes</translation>
    </message>
    <message>
        <source>Level at least</source>
        <translation>Niveau au moins</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>Étiquette</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Generating the demo dataset in %1...</source>
        <translation>Création des données de démonstration dans %1…</translation>
    </message>
    <message>
        <source>ZeMosaic</source>
        <translation>ZeMosaic</translation>
    </message>
    <message>
        <source>folder of raw FITS frames (never modified)</source>
        <translation>dossier des poses FITS brutes (jamais modifiées)</translation>
    </message>
    <message>
        <source>folder for the mosaic, master tiles and report</source>
        <translation>dossier de la mosaïque, des tuiles maîtresses et du rapport</translation>
    </message>
    <message>
        <source>refuse</source>
        <translation>refuser</translation>
    </message>
    <message>
        <source>overwrite earlier outputs</source>
        <translation>écraser les résultats précédents</translation>
    </message>
    <message>
        <source>resume (reuse finished tiles)</source>
        <translation>reprendre (réutiliser les tuiles finies)</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>Dossiers</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Entrée</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Sortie</translation>
    </message>
    <message>
        <source>Browse...</source>
        <translation>Parcourir…</translation>
    </message>
    <message>
        <source>If the output folder is not empty</source>
        <translation>Si le dossier de sortie n&apos;est pas vide</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Lancer</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Load settings...</source>
        <translation>Charger des réglages…</translation>
    </message>
    <message>
        <source>Save settings...</source>
        <translation>Enregistrer les réglages…</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>Ouvrir le dossier de sortie</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Poses</translation>
    </message>
    <message>
        <source>Sky map</source>
        <translation>Carte du ciel</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Tuiles maîtresses</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mosaïque</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Bilan</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Journal</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Avancement</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Prêt</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>Annulation…</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Fichier</translation>
    </message>
    <message>
        <source>Choose the &amp;input folder...</source>
        <translation>Choisir le dossier d&apos;&amp;entrée…</translation>
    </message>
    <message>
        <source>&amp;Recent input folders</source>
        <translation>Dossiers d&apos;entrée &amp;récents</translation>
    </message>
    <message>
        <source>Choose the &amp;output folder...</source>
        <translation>Choisir le dossier de &amp;sortie…</translation>
    </message>
    <message>
        <source>&amp;Load settings...</source>
        <translation>&amp;Charger des réglages…</translation>
    </message>
    <message>
        <source>&amp;Save settings...</source>
        <translation>&amp;Enregistrer les réglages…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>&amp;Traitement</translation>
    </message>
    <message>
        <source>&amp;Measure frames</source>
        <translation>&amp;Mesurer les poses</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Lancer</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>&amp;Annuler</translation>
    </message>
    <message>
        <source>&amp;Open the output folder</source>
        <translation>&amp;Ouvrir le dossier de sortie</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Affichage</translation>
    </message>
    <message>
        <source>&amp;Dark theme (next start)</source>
        <translation>Thème &amp;sombre (au prochain démarrage)</translation>
    </message>
    <message>
        <source>&amp;Language (next start)</source>
        <translation>&amp;Langue (au prochain démarrage)</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Langue du système</translation>
    </message>
    <message>
        <source>The language changes at the next start.</source>
        <translation>La langue changera au prochain démarrage.</translation>
    </message>
    <message>
        <source>Settings: %1</source>
        <translation>Réglages : %1</translation>
    </message>
    <message>
        <source>Running...</source>
        <translation>Traitement en cours…</translation>
    </message>
    <message>
        <source>The output folder does not exist yet.</source>
        <translation>Le dossier de sortie n&apos;existe pas encore.</translation>
    </message>
    <message>
        <source>Settings loaded from %1</source>
        <translation>Réglages chargés depuis %1</translation>
    </message>
    <message>
        <source>Settings saved to %1</source>
        <translation>Réglages enregistrés dans %1</translation>
    </message>
    <message>
        <source>Choose the input folder first.</source>
        <translation>Choisissez d&apos;abord le dossier d&apos;entrée.</translation>
    </message>
    <message>
        <source>Finished: %1 tiles, %2 frames used</source>
        <translation>Terminé : %1 tuiles, %2 poses utilisées</translation>
    </message>
    <message>
        <source>Run cancelled: %1. Temporary files were removed; finished master tiles are kept (choose Resume to reuse them).</source>
        <translation>Traitement annulé : %1. Les fichiers temporaires ont été supprimés ; les tuiles maîtresses finies sont gardées (choisissez Reprendre pour les réutiliser).</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>Le traitement a échoué : %1</translation>
    </message>
    <message>
        <source>Stopped (%1)</source>
        <translation>Arrêté (%1)</translation>
    </message>
    <message>
        <source>file</source>
        <translation>fichier</translation>
    </message>
    <message>
        <source>frames used</source>
        <translation>poses utilisées</translation>
    </message>
    <message>
        <source>coverage</source>
        <translation>couverture</translation>
    </message>
    <message>
        <source>Rejected inputs</source>
        <translation>Entrées rejetées</translation>
    </message>
    <message>
        <source>none</source>
        <translation>aucune</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Détails</translation>
    </message>
    <message>
        <source>Input folder (FITS frames)</source>
        <translation>Dossier d&apos;entrée (poses FITS)</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <source>Load settings</source>
        <translation>Charger des réglages</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Save settings</source>
        <translation>Enregistrer les réglages</translation>
    </message>
</context>
<context>
    <name>MosaicPreview</name>
    <message>
        <source>The mosaic appears here when a run has finished.</source>
        <translation>La mosaïque apparaît ici à la fin d&apos;un traitement.</translation>
    </message>
    <message>
        <source>Linked channels</source>
        <translation>Canaux liés</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>Auto</translation>
    </message>
    <message>
        <source>Black point just below the sky, the sky at a quarter of the range</source>
        <translation>Point noir juste sous le ciel, le ciel au quart de la plage</translation>
    </message>
    <message>
        <source>Tile outlines</source>
        <translation>Contours des tuiles</translation>
    </message>
    <message>
        <source>Export view...</source>
        <translation>Exporter la vue…</translation>
    </message>
    <message>
        <source>Save the mosaic at full resolution with this stretch (PNG, or 16-bit TIFF)</source>
        <translation>Enregistrer la mosaïque en pleine résolution avec cet étirement (PNG, ou TIFF 16 bits)</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Canal</translation>
    </message>
    <message>
        <source>Black</source>
        <translation>Noir</translation>
    </message>
    <message>
        <source>Midtones</source>
        <translation>Tons moyens</translation>
    </message>
    <message>
        <source>White</source>
        <translation>Blanc</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Ajuster</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>1:1</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>Agrandir</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>Réduire</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>Impossible de lire %1 : %2</translation>
    </message>
    <message>
        <source>x %1  y %2   RA %3  Dec %4   value %5   weight %6   tiles covering %7</source>
        <translation>x %1  y %2   AD %3  Déc %4   valeur %5   poids %6   tuiles couvrantes %7</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tuile %1</translation>
    </message>
    <message>
        <source>Export view</source>
        <translation>Exporter la vue</translation>
    </message>
    <message>
        <source>PNG (*.png);;16-bit TIFF (*.tif)</source>
        <translation>PNG (*.png);;TIFF 16 bits (*.tif)</translation>
    </message>
</context>
<context>
    <name>PhaseProgress</name>
    <message>
        <source>Demo data</source>
        <translation>Données de démonstration</translation>
    </message>
    <message>
        <source>Phase 1: scan</source>
        <translation>Phase 1 : inventaire</translation>
    </message>
    <message>
        <source>Phase 1b: plate solving</source>
        <translation>Phase 1b : résolution astrométrique</translation>
    </message>
    <message>
        <source>Frames on the global grid</source>
        <translation>Poses sur la grille globale</translation>
    </message>
    <message>
        <source>Phase 3: master tiles</source>
        <translation>Phase 3 : tuiles maîtresses</translation>
    </message>
    <message>
        <source>SDS: sky chunks</source>
        <translation>SDS : zones du ciel</translation>
    </message>
    <message>
        <source>  align (current tile)</source>
        <translation>  alignement (tuile en cours)</translation>
    </message>
    <message>
        <source>  stack (current tile)</source>
        <translation>  empilement (tuile en cours)</translation>
    </message>
    <message>
        <source>Phase 5: assembly</source>
        <translation>Phase 5 : assemblage</translation>
    </message>
    <message>
        <source>Progress appears here when a run starts.</source>
        <translation>L&apos;avancement apparaît ici au lancement d&apos;un traitement.</translation>
    </message>
    <message>
        <source>Whole run</source>
        <translation>Traitement entier</translation>
    </message>
    <message>
        <source>done</source>
        <translation>fini</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>reste %1</translation>
    </message>
    <message>
        <source>done in %1</source>
        <translation>fini en %1</translation>
    </message>
    <message>
        <source>about %1 left</source>
        <translation>reste environ %1</translation>
    </message>
    <message>
        <source>estimating...</source>
        <translation>estimation…</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Input</source>
        <translation>Entrée</translation>
    </message>
    <message>
        <source>Plate solving</source>
        <translation>Résolution astrométrique</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Poses</translation>
    </message>
    <message>
        <source>Stacking</source>
        <translation>Empilement</translation>
    </message>
    <message>
        <source>Tiles and mask</source>
        <translation>Tuiles et masque</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mosaïque</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Sortie</translation>
    </message>
    <message>
        <source>How to build the mosaic</source>
        <translation>Construction de la mosaïque</translation>
    </message>
    <message>
        <source>Master tiles (default), a regular grid, or frames stacked straight onto the mosaic.</source>
        <translation>Tuiles maîtresses (par défaut), une grille régulière, ou les poses empilées directement sur la mosaïque.</translation>
    </message>
    <message>
        <source>The folder holds master tiles</source>
        <translation>Le dossier contient des tuiles maîtresses</translation>
    </message>
    <message>
        <source>Use finished master tiles as they are: no scan, grouping or stacking.</source>
        <translation>Utiliser telles quelles des tuiles maîtresses finies : ni inventaire, ni groupement, ni empilement.</translation>
    </message>
    <message>
        <source>Look in subfolders too</source>
        <translation>Chercher aussi dans les sous-dossiers</translation>
    </message>
    <message>
        <source>Also take the frames of the input folder&apos;s subfolders.</source>
        <translation>Prendre aussi les poses des sous-dossiers du dossier d&apos;entrée.</translation>
    </message>
    <message>
        <source>Pixel-scale tolerance</source>
        <translation>Tolérance d&apos;échelle</translation>
    </message>
    <message>
        <source>Reject a frame whose scale differs this much (fraction) from its group&apos;s.</source>
        <translation>Rejeter une pose dont l&apos;échelle s&apos;écarte d&apos;autant (fraction) de celle de son groupe.</translation>
    </message>
    <message>
        <source>Frame positions from</source>
        <translation>Position des poses depuis</translation>
    </message>
    <message>
        <source>The header&apos;s astrometry when present, else a plate solve; or always one of them.</source>
        <translation>L&apos;astrométrie de l&apos;en-tête si elle existe, sinon une résolution ; ou toujours l&apos;une des deux.</translation>
    </message>
    <message>
        <source>Plate solver</source>
        <translation>Solveur astrométrique</translation>
    </message>
    <message>
        <source>Which installed solver finds where each frame points.</source>
        <translation>Le solveur installé qui trouve où pointe chaque pose.</translation>
    </message>
    <message>
        <source>Search radius (degrees)</source>
        <translation>Rayon de recherche (degrés)</translation>
    </message>
    <message>
        <source>How far around the telescope&apos;s pointing the solver looks.</source>
        <translation>Jusqu&apos;où le solveur cherche autour du pointage du télescope.</translation>
    </message>
    <message>
        <source>ASTAP program</source>
        <translation>Programme ASTAP</translation>
    </message>
    <message>
        <source>Where ASTAP is installed (empty: found automatically).</source>
        <translation>Emplacement d&apos;ASTAP (vide : trouvé automatiquement).</translation>
    </message>
    <message>
        <source>Index folders</source>
        <translation>Dossiers d&apos;index</translation>
    </message>
    <message>
        <source>Folders of astrometry.net index files (empty: the usual places).</source>
        <translation>Dossiers des fichiers d&apos;index astrometry.net (vide : les emplacements habituels).</translation>
    </message>
    <message>
        <source>ASTAP star database</source>
        <translation>Base d&apos;étoiles d&apos;ASTAP</translation>
    </message>
    <message>
        <source>Folder of ASTAP&apos;s star database (empty: ASTAP&apos;s default).</source>
        <translation>Dossier de la base d&apos;étoiles d&apos;ASTAP (vide : celui d&apos;ASTAP).</translation>
    </message>
    <message>
        <source>Time limit per solve (s)</source>
        <translation>Durée maximale par résolution (s)</translation>
    </message>
    <message>
        <source>Longest time one plate solve may take.</source>
        <translation>Le plus long temps qu&apos;une résolution peut prendre.</translation>
    </message>
    <message>
        <source>Blind-solve budget (s)</source>
        <translation>Budget de résolution à l&apos;aveugle (s)</translation>
    </message>
    <message>
        <source>Time a run may spend on frames with no pointing in their header.</source>
        <translation>Temps qu&apos;un traitement peut passer sur les poses sans pointage dans l&apos;en-tête.</translation>
    </message>
    <message>
        <source>Pixel scale hint (arcsec)</source>
        <translation>Échelle indicative (secondes d&apos;arc)</translation>
    </message>
    <message>
        <source>Pixel scale for frames whose header gives none (0: search widely).</source>
        <translation>Échelle des poses dont l&apos;en-tête n&apos;en donne pas (0 : recherche large).</translation>
    </message>
    <message>
        <source>Solve each frame or each field</source>
        <translation>Résoudre chaque pose ou chaque champ</translation>
    </message>
    <message>
        <source>Solve every frame, or one per field and carry it to the others.</source>
        <translation>Résoudre chaque pose, ou une par champ et la reporter sur les autres.</translation>
    </message>
    <message>
        <source>Plate-solution cache</source>
        <translation>Cache des solutions</translation>
    </message>
    <message>
        <source>Folder of saved solutions, reusable between runs (empty: in the output folder).</source>
        <translation>Dossier des solutions enregistrées, réutilisables d&apos;un traitement à l&apos;autre (vide : dans le dossier de sortie).</translation>
    </message>
    <message>
        <source>Write .wcs files</source>
        <translation>Écrire des fichiers .wcs</translation>
    </message>
    <message>
        <source>Also save each frame&apos;s solution as a .wcs file in the output.</source>
        <translation>Enregistrer aussi la solution de chaque pose en fichier .wcs dans la sortie.</translation>
    </message>
    <message>
        <source>Reject poor frames</source>
        <translation>Rejeter les mauvaises poses</translation>
    </message>
    <message>
        <source>Leave out frames that fail a quality rule; the reason is reported.</source>
        <translation>Écarter les poses qui échouent à une règle de qualité ; la raison est indiquée.</translation>
    </message>
    <message>
        <source>Quality rules</source>
        <translation>Règles de qualité</translation>
    </message>
    <message>
        <source>Which measures may reject a frame.</source>
        <translation>Les mesures qui peuvent rejeter une pose.</translation>
    </message>
    <message>
        <source>Cut clouds and obstacles</source>
        <translation>Couper nuages et obstacles</translation>
    </message>
    <message>
        <source>Leave out only the dimmed part of a frame.</source>
        <translation>N&apos;écarter que la partie assombrie d&apos;une pose.</translation>
    </message>
    <message>
        <source>Frames never stacked</source>
        <translation>Poses jamais empilées</translation>
    </message>
    <message>
        <source>A file naming frames to leave out (the Frames tab writes one).</source>
        <translation>Un fichier nommant les poses à écarter (l&apos;onglet Poses en écrit un).</translation>
    </message>
    <message>
        <source>Blur limit (sigmas)</source>
        <translation>Limite de flou (sigmas)</translation>
    </message>
    <message>
        <source>Reject stars blurrier than the group&apos;s by this many sigmas (0: off).</source>
        <translation>Rejeter les étoiles plus floues que celles du groupe d&apos;autant de sigmas (0 : désactivé).</translation>
    </message>
    <message>
        <source>Blur limit (pixels)</source>
        <translation>Limite de flou (pixels)</translation>
    </message>
    <message>
        <source>Reject frames whose star size exceeds this (0: none).</source>
        <translation>Rejeter les poses dont la taille des étoiles dépasse cette valeur (0 : aucune).</translation>
    </message>
    <message>
        <source>Trailing limit (sigmas)</source>
        <translation>Limite de bougé (sigmas)</translation>
    </message>
    <message>
        <source>Reject stars more elongated than the group&apos;s by this many sigmas.</source>
        <translation>Rejeter les étoiles plus allongées que celles du groupe d&apos;autant de sigmas.</translation>
    </message>
    <message>
        <source>Trailing limit</source>
        <translation>Limite de bougé</translation>
    </message>
    <message>
        <source>Reject frames whose stars are more elongated than this.</source>
        <translation>Rejeter les poses dont les étoiles sont plus allongées que cela.</translation>
    </message>
    <message>
        <source>Transparency limit (sigmas)</source>
        <translation>Limite de transparence (sigmas)</translation>
    </message>
    <message>
        <source>Reject frames dimmer than the group&apos;s by this many sigmas.</source>
        <translation>Rejeter les poses plus sombres que celles du groupe d&apos;autant de sigmas.</translation>
    </message>
    <message>
        <source>Lowest transparency</source>
        <translation>Transparence minimale</translation>
    </message>
    <message>
        <source>Reject frames keeping less than this fraction of the star light.</source>
        <translation>Rejeter les poses gardant moins que cette fraction de la lumière des étoiles.</translation>
    </message>
    <message>
        <source>Bright-sky limit (sigmas)</source>
        <translation>Limite de ciel clair (sigmas)</translation>
    </message>
    <message>
        <source>Reject frames whose sky is brighter than the group&apos;s by this many sigmas.</source>
        <translation>Rejeter les poses dont le ciel est plus clair que celui du groupe d&apos;autant de sigmas.</translation>
    </message>
    <message>
        <source>Bright-sky limit (ratio)</source>
        <translation>Limite de ciel clair (rapport)</translation>
    </message>
    <message>
        <source>Reject frames whose sky exceeds this many times the group&apos;s (0: none).</source>
        <translation>Rejeter les poses dont le ciel dépasse autant de fois celui du groupe (0 : aucune).</translation>
    </message>
    <message>
        <source>Star-count limit (sigmas)</source>
        <translation>Limite du nombre d&apos;étoiles (sigmas)</translation>
    </message>
    <message>
        <source>Reject frames with fewer stars than the group&apos;s by this many sigmas.</source>
        <translation>Rejeter les poses ayant moins d&apos;étoiles que le groupe d&apos;autant de sigmas.</translation>
    </message>
    <message>
        <source>Fewest stars (ratio)</source>
        <translation>Étoiles minimales (rapport)</translation>
    </message>
    <message>
        <source>Reject frames with fewer than this fraction of the group&apos;s stars.</source>
        <translation>Rejeter les poses ayant moins que cette fraction des étoiles du groupe.</translation>
    </message>
    <message>
        <source>Region transparency limit</source>
        <translation>Limite de transparence d&apos;une zone</translation>
    </message>
    <message>
        <source>A region keeping less than this fraction of the star light is left out.</source>
        <translation>Une zone gardant moins que cette fraction de la lumière des étoiles est écartée.</translation>
    </message>
    <message>
        <source>Largest part left out</source>
        <translation>Plus grande part écartée</translation>
    </message>
    <message>
        <source>A frame losing more than this fraction is rejected whole.</source>
        <translation>Une pose perdant plus que cette fraction est rejetée entière.</translation>
    </message>
    <message>
        <source>Region size (pixels)</source>
        <translation>Taille des zones (pixels)</translation>
    </message>
    <message>
        <source>Size of the regions judged for clouds and obstacles.</source>
        <translation>Taille des zones jugées pour les nuages et obstacles.</translation>
    </message>
    <message>
        <source>Outlier rejection</source>
        <translation>Rejet des valeurs aberrantes</translation>
    </message>
    <message>
        <source>How satellite trails, planes and hot pixels are removed.</source>
        <translation>Comment les traînées de satellites, avions et pixels chauds sont retirés.</translation>
    </message>
    <message>
        <source>Low rejection (sigma)</source>
        <translation>Rejet bas (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far below the others are rejected.</source>
        <translation>Les pixels aussi loin sous les autres sont rejetés.</translation>
    </message>
    <message>
        <source>High rejection (sigma)</source>
        <translation>Rejet haut (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far above the others are rejected.</source>
        <translation>Les pixels aussi loin au-dessus des autres sont rejetés.</translation>
    </message>
    <message>
        <source>Frame weights</source>
        <translation>Poids des poses</translation>
    </message>
    <message>
        <source>How much each frame counts in the stack.</source>
        <translation>Combien chaque pose compte dans l&apos;empilement.</translation>
    </message>
    <message>
        <source>Frame normalisation</source>
        <translation>Normalisation des poses</translation>
    </message>
    <message>
        <source>How each frame&apos;s sky is matched to the reference before stacking.</source>
        <translation>Comment le ciel de chaque pose est accordé à la référence avant l&apos;empilement.</translation>
    </message>
    <message>
        <source>Combine with</source>
        <translation>Combiner par</translation>
    </message>
    <message>
        <source>Weighted mean (less noise) or median.</source>
        <translation>Moyenne pondérée (moins de bruit) ou médiane.</translation>
    </message>
    <message>
        <source>Tiles at the same time</source>
        <translation>Tuiles simultanées</translation>
    </message>
    <message>
        <source>Master tiles built in parallel (0: one per core).</source>
        <translation>Tuiles maîtresses construites en parallèle (0 : une par cœur).</translation>
    </message>
    <message>
        <source>Use the graphics card</source>
        <translation>Utiliser la carte graphique</translation>
    </message>
    <message>
        <source>Stack on an NVIDIA GPU when one is available.</source>
        <translation>Empiler sur un GPU NVIDIA s&apos;il y en a un.</translation>
    </message>
    <message>
        <source>Winsorisation limits</source>
        <translation>Limites de winsorisation</translation>
    </message>
    <message>
        <source>Low and high fractions clipped by winsorised rejection.</source>
        <translation>Fractions basse et haute écrêtées par le rejet winsorisé.</translation>
    </message>
    <message>
        <source>Stacking memory (MB)</source>
        <translation>Mémoire d&apos;empilement (Mo)</translation>
    </message>
    <message>
        <source>Memory one stack may use at a time.</source>
        <translation>Mémoire qu&apos;un empilement peut utiliser à la fois.</translation>
    </message>
    <message>
        <source>Debayering</source>
        <translation>Dématriçage</translation>
    </message>
    <message>
        <source>How colour is rebuilt from the sensor&apos;s Bayer pattern.</source>
        <translation>Comment la couleur est reconstruite depuis la matrice de Bayer du capteur.</translation>
    </message>
    <message>
        <source>Star detection threshold</source>
        <translation>Seuil de détection des étoiles</translation>
    </message>
    <message>
        <source>How far above the sky (in sigmas) a star must rise.</source>
        <translation>De combien (en sigmas) une étoile doit dépasser le ciel.</translation>
    </message>
    <message>
        <source>Smallest star (pixels)</source>
        <translation>Plus petite étoile (pixels)</translation>
    </message>
    <message>
        <source>Fewest connected pixels that make a star.</source>
        <translation>Nombre minimal de pixels connexes formant une étoile.</translation>
    </message>
    <message>
        <source>Stars matched</source>
        <translation>Étoiles appariées</translation>
    </message>
    <message>
        <source>Most stars used to align two frames.</source>
        <translation>Nombre maximal d&apos;étoiles pour aligner deux poses.</translation>
    </message>
    <message>
        <source>Sky matching order</source>
        <translation>Ordre d&apos;accord du ciel</translation>
    </message>
    <message>
        <source>Shape of the sky difference removed per frame (0: flat, 1: tilt...).</source>
        <translation>Forme de la différence de ciel retirée par pose (0 : plate, 1 : pente…).</translation>
    </message>
    <message>
        <source>Flatten the reference</source>
        <translation>Aplanir la référence</translation>
    </message>
    <message>
        <source>Also remove the reference frame&apos;s own gradient.</source>
        <translation>Retirer aussi le gradient propre à la pose de référence.</translation>
    </message>
    <message>
        <source>Flattening order</source>
        <translation>Ordre d&apos;aplanissement</translation>
    </message>
    <message>
        <source>Shape of that gradient (a plane keeps large nebulae).</source>
        <translation>Forme de ce gradient (un plan préserve les grandes nébuleuses).</translation>
    </message>
    <message>
        <source>Memory for parallel tiles (MB)</source>
        <translation>Mémoire des tuiles parallèles (Mo)</translation>
    </message>
    <message>
        <source>Memory the tiles built together may take (0: 3/4 of the free memory).</source>
        <translation>Mémoire que les tuiles construites ensemble peuvent prendre (0 : 3/4 de la mémoire libre).</translation>
    </message>
    <message>
        <source>Cluster</source>
        <translation>Grappe de calcul</translation>
    </message>
    <message>
        <source>Build tiles on a dask cluster: empty (this computer), local, or an address.</source>
        <translation>Construire les tuiles sur une grappe dask : vide (cet ordinateur), local, ou une adresse.</translation>
    </message>
    <message>
        <source>Alt-Az edge cleanup</source>
        <translation>Nettoyage des bords Alt-Az</translation>
    </message>
    <message>
        <source>Fade out tile edges that too few frames cover (on for Alt-Az mounts).</source>
        <translation>Estomper les bords de tuile couverts par trop peu de poses (actif pour les montures Alt-Az).</translation>
    </message>
    <message>
        <source>Use the frame count</source>
        <translation>Utiliser le nombre de poses</translation>
    </message>
    <message>
        <source>Decide the edges from how many frames cover each pixel.</source>
        <translation>Décider des bords selon le nombre de poses couvrant chaque pixel.</translation>
    </message>
    <message>
        <source>Fewest frames per pixel</source>
        <translation>Poses minimales par pixel</translation>
    </message>
    <message>
        <source>A kept pixel needs at least this many frames.</source>
        <translation>Un pixel gardé demande au moins autant de poses.</translation>
    </message>
    <message>
        <source>Fewest frames (fraction)</source>
        <translation>Poses minimales (fraction)</translation>
    </message>
    <message>
        <source>Or this fraction of the tile&apos;s best coverage.</source>
        <translation>Ou cette fraction de la meilleure couverture de la tuile.</translation>
    </message>
    <message>
        <source>Crop bad borders</source>
        <translation>Rogner les mauvais bords</translation>
    </message>
    <message>
        <source>Crop dark or colour-cast bands at the tile edges.</source>
        <translation>Rogner les bandes sombres ou colorées aux bords de la tuile.</translation>
    </message>
    <message>
        <source>Tile size</source>
        <translation>Taille des tuiles</translation>
    </message>
    <message>
        <source>A tile covers the whole group&apos;s sky, or only its reference frame.</source>
        <translation>Une tuile couvre le ciel de tout le groupe, ou seulement sa pose de référence.</translation>
    </message>
    <message>
        <source>Grouping distance</source>
        <translation>Distance de groupement</translation>
    </message>
    <message>
        <source>Frames closer than this fraction of a field share a tile.</source>
        <translation>Les poses plus proches que cette fraction de champ partagent une tuile.</translation>
    </message>
    <message>
        <source>Keep mount types apart</source>
        <translation>Séparer les types de monture</translation>
    </message>
    <message>
        <source>Never mix Alt-Az and equatorial frames in one tile.</source>
        <translation>Ne jamais mêler poses Alt-Az et équatoriales dans une tuile.</translation>
    </message>
    <message>
        <source>Most frames per tile</source>
        <translation>Poses maximales par tuile</translation>
    </message>
    <message>
        <source>Larger groups are split in time.</source>
        <translation>Les groupes plus grands sont découpés dans le temps.</translation>
    </message>
    <message>
        <source>Fewest frames per tile</source>
        <translation>Poses minimales par tuile</translation>
    </message>
    <message>
        <source>Smaller groups are skipped.</source>
        <translation>Les groupes plus petits sont ignorés.</translation>
    </message>
    <message>
        <source>Separate target distance</source>
        <translation>Distance d&apos;une autre cible</translation>
    </message>
    <message>
        <source>Groups farther than this many fields are another target.</source>
        <translation>Les groupes éloignés de plus d&apos;autant de champs sont une autre cible.</translation>
    </message>
    <message>
        <source>Small groups</source>
        <translation>Petits groupes</translation>
    </message>
    <message>
        <source>How the frame count limit meets a tile of few frames.</source>
        <translation>Comment la limite de poses s&apos;applique à une tuile de peu de poses.</translation>
    </message>
    <message>
        <source>Mask smoothing (pixels)</source>
        <translation>Lissage du masque (pixels)</translation>
    </message>
    <message>
        <source>Removes specks from the coverage mask.</source>
        <translation>Retire les points isolés du masque de couverture.</translation>
    </message>
    <message>
        <source>Feather width (%)</source>
        <translation>Largeur du fondu (%)</translation>
    </message>
    <message>
        <source>Width of the faded edge, in percent of the tile&apos;s short side.</source>
        <translation>Largeur du bord estompé, en pour cent du petit côté de la tuile.</translation>
    </message>
    <message>
        <source>Feather steepness</source>
        <translation>Raideur du fondu</translation>
    </message>
    <message>
        <source>How quickly the edge fades.</source>
        <translation>La vitesse à laquelle le bord s&apos;estompe.</translation>
    </message>
    <message>
        <source>Masked below</source>
        <translation>Masqué en dessous de</translation>
    </message>
    <message>
        <source>Mask values at or below this count as masked.</source>
        <translation>Les valeurs de masque inférieures ou égales comptent comme masquées.</translation>
    </message>
    <message>
        <source>Blank below</source>
        <translation>Vide en dessous de</translation>
    </message>
    <message>
        <source>Tile pixels whose mask is at or below this are written blank.</source>
        <translation>Les pixels de tuile dont le masque est inférieur ou égal sont écrits vides.</translation>
    </message>
    <message>
        <source>Blank masked pixels</source>
        <translation>Vider les pixels masqués</translation>
    </message>
    <message>
        <source>Write blank (NaN) where a tile is fully masked.</source>
        <translation>Écrire vide (NaN) là où une tuile est entièrement masquée.</translation>
    </message>
    <message>
        <source>Trim empty edges</source>
        <translation>Rogner les bords vides</translation>
    </message>
    <message>
        <source>Peel tile rows and columns that are almost fully masked.</source>
        <translation>Retirer les lignes et colonnes de tuile presque entièrement masquées.</translation>
    </message>
    <message>
        <source>Edge trim limit</source>
        <translation>Limite de rognage</translation>
    </message>
    <message>
        <source>A row is peeled while less than this fraction is kept.</source>
        <translation>Une ligne est retirée tant que moins que cette fraction est gardée.</translation>
    </message>
    <message>
        <source>Debug tiles</source>
        <translation>Tuiles à déboguer</translation>
    </message>
    <message>
        <source>Tile numbers whose alignment is logged in detail.</source>
        <translation>Numéros des tuiles dont l&apos;alignement est journalisé en détail.</translation>
    </message>
    <message>
        <source>Match tile brightness</source>
        <translation>Accorder la luminosité des tuiles</translation>
    </message>
    <message>
        <source>Even out the tiles&apos; brightness where they overlap.</source>
        <translation>Égaliser la luminosité des tuiles là où elles se recouvrent.</translation>
    </message>
    <message>
        <source>Remove light pollution</source>
        <translation>Retirer la pollution lumineuse</translation>
    </message>
    <message>
        <source>Subtract the sky gradient left in the mosaic.</source>
        <translation>Soustraire le gradient de ciel restant dans la mosaïque.</translation>
    </message>
    <message>
        <source>Colour balance</source>
        <translation>Balance des couleurs</translation>
    </message>
    <message>
        <source>White-balance the mosaic on its stars.</source>
        <translation>Équilibrer les blancs de la mosaïque sur ses étoiles.</translation>
    </message>
    <message>
        <source>Resampling</source>
        <translation>Rééchantillonnage</translation>
    </message>
    <message>
        <source>Fast bilinear, or flux-conserving (slower).</source>
        <translation>Bilinéaire rapide, ou conservant le flux (plus lent).</translation>
    </message>
    <message>
        <source>Match tile gradients</source>
        <translation>Accorder les gradients des tuiles</translation>
    </message>
    <message>
        <source>Also even out a tilt per tile.</source>
        <translation>Égaliser aussi une pente par tuile.</translation>
    </message>
    <message>
        <source>Tile weight</source>
        <translation>Poids des tuiles</translation>
    </message>
    <message>
        <source>Weight tiles by their number of frames, or equally.</source>
        <translation>Pondérer les tuiles par leur nombre de poses, ou également.</translation>
    </message>
    <message>
        <source>Disk buffer above (MB)</source>
        <translation>Tampon disque au-delà de (Mo)</translation>
    </message>
    <message>
        <source>A mosaic larger than this is assembled on disk.</source>
        <translation>Une mosaïque plus grande est assemblée sur disque.</translation>
    </message>
    <message>
        <source>Largest mosaic (MB)</source>
        <translation>Mosaïque maximale (Mo)</translation>
    </message>
    <message>
        <source>Stop before building a mosaic that needs more memory (0: no limit).</source>
        <translation>S&apos;arrêter avant de construire une mosaïque demandant plus de mémoire (0 : sans limite).</translation>
    </message>
    <message>
        <source>Least filled mosaic</source>
        <translation>Remplissage minimal</translation>
    </message>
    <message>
        <source>Stop when the tiles fill less than this fraction of the mosaic.</source>
        <translation>S&apos;arrêter si les tuiles remplissent moins que cette fraction de la mosaïque.</translation>
    </message>
    <message>
        <source>Allow a sparse mosaic</source>
        <translation>Autoriser une mosaïque clairsemée</translation>
    </message>
    <message>
        <source>Build it even when it is mostly empty.</source>
        <translation>La construire même si elle est presque vide.</translation>
    </message>
    <message>
        <source>Colour star catalogue</source>
        <translation>Catalogue de couleurs d&apos;étoiles</translation>
    </message>
    <message>
        <source>A table of star colours for the balance (empty: the average star).</source>
        <translation>Une table de couleurs d&apos;étoiles pour la balance (vide : l&apos;étoile moyenne).</translation>
    </message>
    <message>
        <source>Grid tile size (pixels)</source>
        <translation>Taille des tuiles de grille (pixels)</translation>
    </message>
    <message>
        <source>Side of a grid tile (0: from the frame size).</source>
        <translation>Côté d&apos;une tuile de grille (0 : d&apos;après la taille des poses).</translation>
    </message>
    <message>
        <source>Grid tile size (frames)</source>
        <translation>Taille des tuiles de grille (poses)</translation>
    </message>
    <message>
        <source>Grid tile side as a multiple of a frame&apos;s short side.</source>
        <translation>Côté de tuile de grille en multiple du petit côté d&apos;une pose.</translation>
    </message>
    <message>
        <source>Grid overlap</source>
        <translation>Recouvrement de la grille</translation>
    </message>
    <message>
        <source>Overlap between neighbouring grid tiles (fraction).</source>
        <translation>Recouvrement entre tuiles de grille voisines (fraction).</translation>
    </message>
    <message>
        <source>Grid frame threshold</source>
        <translation>Seuil de pose de la grille</translation>
    </message>
    <message>
        <source>A frame joins a grid tile covering at least this fraction.</source>
        <translation>Une pose rejoint une tuile de grille qu&apos;elle couvre au moins à cette fraction.</translation>
    </message>
    <message>
        <source>Chunk size (pixels)</source>
        <translation>Taille des zones (pixels)</translation>
    </message>
    <message>
        <source>Side of the sky regions stacked one at a time.</source>
        <translation>Côté des zones du ciel empilées une à une.</translation>
    </message>
    <message>
        <source>Session gap (hours)</source>
        <translation>Écart entre sessions (heures)</translation>
    </message>
    <message>
        <source>Frames further apart in time are stacked as separate sessions.</source>
        <translation>Les poses plus éloignées dans le temps sont empilées en sessions séparées.</translation>
    </message>
    <message>
        <source>Export for image editors</source>
        <translation>Exporter pour les logiciels de retouche</translation>
    </message>
    <message>
        <source>Also write 16-bit TIFF or PNG, or 32-bit TIFF.</source>
        <translation>Écrire aussi un TIFF ou PNG 16 bits, ou un TIFF 32 bits.</translation>
    </message>
    <message>
        <source>Stretch the exports</source>
        <translation>Étirer les exports</translation>
    </message>
    <message>
        <source>Apply the preview&apos;s stretch (off: linear).</source>
        <translation>Appliquer l&apos;étirement de l&apos;aperçu (sinon : linéaire).</translation>
    </message>
    <message>
        <source>Files for other software</source>
        <translation>Fichiers pour d&apos;autres logiciels</translation>
    </message>
    <message>
        <source>Also write the mosaic as Siril, PixInsight, astropy or SWarp expect.</source>
        <translation>Écrire aussi la mosaïque comme l&apos;attendent Siril, PixInsight, astropy ou SWarp.</translation>
    </message>
    <message>
        <source>Framing</source>
        <translation>Cadrage</translation>
    </message>
    <message>
        <source>Keep the whole grid, trim empty borders, or cut the largest full rectangle.</source>
        <translation>Garder toute la grille, rogner les bords vides, ou découper le plus grand rectangle plein.</translation>
    </message>
    <message>
        <source>Write a preview picture</source>
        <translation>Écrire une image d&apos;aperçu</translation>
    </message>
    <message>
        <source>Save mosaic_preview.png.</source>
        <translation>Enregistrer mosaic_preview.png.</translation>
    </message>
    <message>
        <source>Keep the master tiles</source>
        <translation>Garder les tuiles maîtresses</translation>
    </message>
    <message>
        <source>Keep master_tiles/ in the output folder.</source>
        <translation>Garder master_tiles/ dans le dossier de sortie.</translation>
    </message>
    <message>
        <source>Pixel values</source>
        <translation>Valeurs des pixels</translation>
    </message>
    <message>
        <source>The frames&apos; ADU, or scaled to peak at 1.</source>
        <translation>Les ADU des poses, ou mises à l&apos;échelle avec un maximum à 1.</translation>
    </message>
    <message>
        <source>Empty pixels</source>
        <translation>Pixels vides</translation>
    </message>
    <message>
        <source>Value written where nothing was covered (nan or a number).</source>
        <translation>Valeur écrite là où rien n&apos;est couvert (nan ou un nombre).</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatique</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Tuiles maîtresses</translation>
    </message>
    <message>
        <source>Regular grid</source>
        <translation>Grille régulière</translation>
    </message>
    <message>
        <source>Mosaic first (SDS)</source>
        <translation>Mosaïque d&apos;abord (SDS)</translation>
    </message>
    <message>
        <source>Header, else plate solve</source>
        <translation>En-tête, sinon résolution</translation>
    </message>
    <message>
        <source>Header only</source>
        <translation>En-tête seulement</translation>
    </message>
    <message>
        <source>Always plate solve</source>
        <translation>Toujours résoudre</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Aucun</translation>
    </message>
    <message>
        <source>astrometry.net (built in)</source>
        <translation>astrometry.net (intégré)</translation>
    </message>
    <message>
        <source>solve-field (astrometry.net)</source>
        <translation>solve-field (astrometry.net)</translation>
    </message>
    <message>
        <source>ASTAP</source>
        <translation>ASTAP</translation>
    </message>
    <message>
        <source>All but one frame</source>
        <translation>Toutes les poses sauf une</translation>
    </message>
    <message>
        <source>Fraction only</source>
        <translation>Fraction seulement</translation>
    </message>
    <message>
        <source>By number of frames</source>
        <translation>Selon le nombre de poses</translation>
    </message>
    <message>
        <source>Automatic (Alt-Az frames)</source>
        <translation>Automatique (poses Alt-Az)</translation>
    </message>
    <message>
        <source>On</source>
        <translation>Activé</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Désactivé</translation>
    </message>
    <message>
        <source>Plane (lower envelope)</source>
        <translation>Plan (enveloppe inférieure)</translation>
    </message>
    <message>
        <source>From the frames&apos; rotation (default)</source>
        <translation>Par la rotation des poses (par défaut)</translation>
    </message>
    <message>
        <source>Curved surface</source>
        <translation>Surface courbe</translation>
    </message>
    <message>
        <source>None (sensor balance)</source>
        <translation>Aucune (balance du capteur)</translation>
    </message>
    <message>
        <source>On the stars</source>
        <translation>Sur les étoiles</translation>
    </message>
    <message>
        <source>Bilinear (fast)</source>
        <translation>Bilinéaire (rapide)</translation>
    </message>
    <message>
        <source>Flux-conserving</source>
        <translation>Conservant le flux</translation>
    </message>
    <message>
        <source>Whole grid</source>
        <translation>Toute la grille</translation>
    </message>
    <message>
        <source>Trim empty borders</source>
        <translation>Rogner les bords vides</translation>
    </message>
    <message>
        <source>Largest full rectangle</source>
        <translation>Plus grand rectangle plein</translation>
    </message>
    <message>
        <source>Sigma clipping</source>
        <translation>Écrêtage sigma</translation>
    </message>
    <message>
        <source>Winsorised sigma clipping</source>
        <translation>Écrêtage sigma winsorisé</translation>
    </message>
    <message>
        <source>Linear fit clipping</source>
        <translation>Écrêtage par ajustement linéaire</translation>
    </message>
    <message>
        <source>Equal</source>
        <translation>Égaux</translation>
    </message>
    <message>
        <source>By noise</source>
        <translation>Selon le bruit</translation>
    </message>
    <message>
        <source>By noise and sharpness</source>
        <translation>Selon le bruit et la netteté</translation>
    </message>
    <message>
        <source>Additive</source>
        <translation>Additive</translation>
    </message>
    <message>
        <source>Multiplicative</source>
        <translation>Multiplicative</translation>
    </message>
    <message>
        <source>Linear fit</source>
        <translation>Ajustement linéaire</translation>
    </message>
    <message>
        <source>Sky surface match</source>
        <translation>Accord de la surface du ciel</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>Moyenne</translation>
    </message>
    <message>
        <source>Median</source>
        <translation>Médiane</translation>
    </message>
    <message>
        <source>The group&apos;s sky</source>
        <translation>Le ciel du groupe</translation>
    </message>
    <message>
        <source>The reference frame</source>
        <translation>La pose de référence</translation>
    </message>
    <message>
        <source>Edge-aware</source>
        <translation>Respectant les contours</translation>
    </message>
    <message>
        <source>Bilinear</source>
        <translation>Bilinéaire</translation>
    </message>
    <message>
        <source>One per field</source>
        <translation>Une par champ</translation>
    </message>
    <message>
        <source>Every frame</source>
        <translation>Chaque pose</translation>
    </message>
    <message>
        <source>ADU (linear)</source>
        <translation>ADU (linéaire)</translation>
    </message>
    <message>
        <source>Peak at 1</source>
        <translation>Maximum à 1</translation>
    </message>
    <message>
        <source>Seestar Alt-Az</source>
        <translation>Seestar Alt-Az</translation>
    </message>
    <message>
        <source>Seestar equatorial</source>
        <translation>Seestar équatorial</translation>
    </message>
    <message>
        <source>Quick look</source>
        <translation>Aperçu rapide</translation>
    </message>
    <message>
        <source>Best quality</source>
        <translation>Meilleure qualité</translation>
    </message>
    <message>
        <source>on</source>
        <translation>activé</translation>
    </message>
    <message>
        <source>off</source>
        <translation>désactivé</translation>
    </message>
    <message>
        <source>Colour from raw frames</source>
        <translation>Couleur des images brutes</translation>
    </message>
    <message>
        <source>Drizzle sampling</source>
        <translation>Échantillonnage du drizzle</translation>
    </message>
    <message>
        <source>Drizzle drop size</source>
        <translation>Taille de la goutte du drizzle</translation>
    </message>
    <message>
        <source>By frames under each pixel</source>
        <translation>Selon les images sous chaque pixel</translation>
    </message>
    <message>
        <source>Lanczos-3 (sharp stars)</source>
        <translation>Lanczos-3 (étoiles nettes)</translation>
    </message>
    <message>
        <source>Debayer then stack</source>
        <translation>Dématriçage puis empilement</translation>
    </message>
    <message>
        <source>CFA drizzle</source>
        <translation>Drizzle CFA</translation>
    </message>
    <message>
        <source>Debayer each frame, or drop each raw colour sample (CFA drizzle).</source>
        <translation>Dématricer chaque image, ou déposer chaque échantillon de couleur brut (drizzle CFA).</translation>
    </message>
    <message>
        <source>Output pixels per raw pixel a side for CFA drizzle.</source>
        <translation>Pixels de sortie par pixel brut, par côté, pour le drizzle CFA.</translation>
    </message>
    <message>
        <source>Size of a raw pixel&apos;s drop, in raw pixels.</source>
        <translation>Taille de la goutte d&apos;un pixel brut, en pixels bruts.</translation>
    </message>
</context>
<context>
    <name>SettingsPanel</name>
    <message>
        <source>Show expert settings</source>
        <translation>Afficher les réglages experts</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>Préréglage</translation>
    </message>
    <message>
        <source>(choose a preset)</source>
        <translation>(choisir un préréglage)</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>Appliquer</translation>
    </message>
    <message>
        <source>Set the keys listed below; every other setting is kept.</source>
        <translation>Règle les clés listées ci-dessous ; les autres réglages sont gardés.</translation>
    </message>
    <message>
        <source>A preset sets several settings at once; choose one to see which.</source>
        <translation>Un préréglage règle plusieurs réglages d&apos;un coup ; choisissez-en un pour voir lesquels.</translation>
    </message>
    <message>
        <source>Sets:</source>
        <translation>Règle :</translation>
    </message>
</context>
<context>
    <name>TileGallery</name>
    <message>
        <source>no overlay</source>
        <translation>sans surimpression</translation>
    </message>
    <message>
        <source>ALPHA (red: feathered out)</source>
        <translation>ALPHA (rouge : estompé)</translation>
    </message>
    <message>
        <source>COVERAGE (blue: few frames, yellow: most)</source>
        <translation>COUVERTURE (bleu : peu de poses, jaune : le plus)</translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation>Surimpression</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tuile %1</translation>
    </message>
</context>
</TS>
