<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>Frames</name>
    <message>
        <source>WCS in header</source>
        <translation>WCS im Header</translation>
    </message>
    <message>
        <source>to plate-solve (pointing known)</source>
        <translation>zu lösen (Ausrichtung bekannt)</translation>
    </message>
    <message>
        <source>to plate-solve (no pointing)</source>
        <translation>zu lösen (keine Ausrichtung)</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>unlesbar</translation>
    </message>
    <message>
        <source>kept</source>
        <translation>behalten</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>verworfen</translation>
    </message>
    <message>
        <source>excluded</source>
        <translation>ausgeschlossen</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Kachel</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>Position</translation>
    </message>
    <message>
        <source>Stars</source>
        <translation>Sterne</translation>
    </message>
    <message>
        <source>FWHM (px)</source>
        <translation>FWHM (px)</translation>
    </message>
    <message>
        <source>Elongation</source>
        <translation>Elongation</translation>
    </message>
    <message>
        <source>Sky (ADU)</source>
        <translation>Himmel (ADU)</translation>
    </message>
    <message>
        <source>Transparency</source>
        <translation>Transparenz</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>Gewicht</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Entscheidung</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Grund</translation>
    </message>
    <message>
        <source>Use</source>
        <translation>Nutzen</translation>
    </message>
    <message>
        <source>Choose an input folder: the frames appear here before any run.</source>
        <translation>Wählen Sie einen Eingabeordner: die Aufnahmen erscheinen hier vor jedem Lauf.</translation>
    </message>
    <message>
        <source>tile %1: click to list its frames</source>
        <translation>Kachel %1: klicken, um ihre Aufnahmen zu zeigen</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>Kachel %1</translation>
    </message>
</context>
<context>
    <name>FramesTab</name>
    <message>
        <source>Measure frames</source>
        <translation>Aufnahmen messen</translation>
    </message>
    <message>
        <source>Measure every frame&apos;s quality as a run would (zemosaic inspect), without stacking</source>
        <translation>Die Qualität jeder Aufnahme wie ein Lauf messen (zemosaic inspect), ohne zu stapeln</translation>
    </message>
    <message>
        <source>Rejected only</source>
        <translation>Nur verworfene</translation>
    </message>
    <message>
        <source>all tiles</source>
        <translation>alle Kacheln</translation>
    </message>
    <message>
        <source>Thumbnail</source>
        <translation>Vorschaubild</translation>
    </message>
    <message>
        <source>Show the selected frame</source>
        <translation>Die gewählte Aufnahme zeigen</translation>
    </message>
    <message>
        <source>No frames measured yet: choose the input folder, then Measure frames.</source>
        <translation>Noch keine Aufnahmen gemessen: Eingabeordner wählen, dann Aufnahmen messen.</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Kachel</translation>
    </message>
    <message>
        <source>Measuring the frames of %1...</source>
        <translation>Aufnahmen von %1 werden gemessen…</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>Kachel %1</translation>
    </message>
    <message>
        <source>%1 frames in %2 tile groups: %3 kept, %4 rejected by the quality rules. Untick a frame to leave it out of the run.</source>
        <translation>%1 Aufnahmen in %2 Kachelgruppen: %3 behalten, %4 von den Qualitätsregeln verworfen. Haken entfernen, um eine Aufnahme auszulassen.</translation>
    </message>
    <message>
        <source>Unreadable: %1.</source>
        <translation>Unlesbar: %1.</translation>
    </message>
    <message>
        <source>Measuring frame %1 of %2...</source>
        <translation>Aufnahme %1 von %2 wird gemessen…</translation>
    </message>
    <message>
        <source>The frames could not be measured: %1</source>
        <translation>Die Aufnahmen konnten nicht gemessen werden: %1</translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>all tags</source>
        <translation>alle Markierungen</translation>
    </message>
    <message>
        <source>filter text</source>
        <translation>Text filtern</translation>
    </message>
    <message>
        <source>Wrap lines</source>
        <translation>Zeilen umbrechen</translation>
    </message>
    <message>
        <source>Level at least</source>
        <translation>Mindeststufe</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>Markierung</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Generating the demo dataset in %1...</source>
        <translation>Demo-Daten werden in %1 erzeugt…</translation>
    </message>
    <message>
        <source>ZeMosaic</source>
        <translation>ZeMosaic</translation>
    </message>
    <message>
        <source>folder of raw FITS frames (never modified)</source>
        <translation>Ordner der FITS-Rohaufnahmen (nie verändert)</translation>
    </message>
    <message>
        <source>folder for the mosaic, master tiles and report</source>
        <translation>Ordner für Mosaik, Master-Kacheln und Bericht</translation>
    </message>
    <message>
        <source>refuse</source>
        <translation>ablehnen</translation>
    </message>
    <message>
        <source>overwrite earlier outputs</source>
        <translation>frühere Ergebnisse überschreiben</translation>
    </message>
    <message>
        <source>resume (reuse finished tiles)</source>
        <translation>fortsetzen (fertige Kacheln wiederverwenden)</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>Ordner</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Eingabe</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Ausgabe</translation>
    </message>
    <message>
        <source>Browse...</source>
        <translation>Durchsuchen…</translation>
    </message>
    <message>
        <source>If the output folder is not empty</source>
        <translation>Wenn der Ausgabeordner nicht leer ist</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Starten</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Load settings...</source>
        <translation>Einstellungen laden…</translation>
    </message>
    <message>
        <source>Save settings...</source>
        <translation>Einstellungen speichern…</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>Ausgabeordner öffnen</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Aufnahmen</translation>
    </message>
    <message>
        <source>Sky map</source>
        <translation>Himmelskarte</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Master-Kacheln</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mosaik</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Zusammenfassung</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Protokoll</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Fortschritt</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>Choose the &amp;input folder...</source>
        <translation>&amp;Eingabeordner wählen…</translation>
    </message>
    <message>
        <source>&amp;Recent input folders</source>
        <translation>&amp;Zuletzt benutzte Eingabeordner</translation>
    </message>
    <message>
        <source>Choose the &amp;output folder...</source>
        <translation>&amp;Ausgabeordner wählen…</translation>
    </message>
    <message>
        <source>&amp;Load settings...</source>
        <translation>Einstellungen &amp;laden…</translation>
    </message>
    <message>
        <source>&amp;Save settings...</source>
        <translation>Einstellungen &amp;speichern…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>&amp;Lauf</translation>
    </message>
    <message>
        <source>&amp;Measure frames</source>
        <translation>Aufnahmen &amp;messen</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Starten</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>Ab&amp;brechen</translation>
    </message>
    <message>
        <source>&amp;Open the output folder</source>
        <translation>Ausgabeordner ö&amp;ffnen</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Dark theme (next start)</source>
        <translation>&amp;Dunkles Design (beim nächsten Start)</translation>
    </message>
    <message>
        <source>&amp;Language (next start)</source>
        <translation>&amp;Sprache (beim nächsten Start)</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Systemsprache</translation>
    </message>
    <message>
        <source>The language changes at the next start.</source>
        <translation>Die Sprache wechselt beim nächsten Start.</translation>
    </message>
    <message>
        <source>Settings: %1</source>
        <translation>Einstellungen: %1</translation>
    </message>
    <message>
        <source>Running...</source>
        <translation>Läuft…</translation>
    </message>
    <message>
        <source>The output folder does not exist yet.</source>
        <translation>Der Ausgabeordner existiert noch nicht.</translation>
    </message>
    <message>
        <source>Settings loaded from %1</source>
        <translation>Einstellungen geladen aus %1</translation>
    </message>
    <message>
        <source>Settings saved to %1</source>
        <translation>Einstellungen gespeichert in %1</translation>
    </message>
    <message>
        <source>Choose the input folder first.</source>
        <translation>Wählen Sie zuerst den Eingabeordner.</translation>
    </message>
    <message>
        <source>Finished: %1 tiles, %2 frames used</source>
        <translation>Fertig: %1 Kacheln, %2 Aufnahmen verwendet</translation>
    </message>
    <message>
        <source>Run cancelled: %1. Temporary files were removed; finished master tiles are kept (choose Resume to reuse them).</source>
        <translation>Lauf abgebrochen: %1. Temporäre Dateien wurden entfernt; fertige Master-Kacheln bleiben erhalten (Fortsetzen wählen, um sie wiederzuverwenden).</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>Der Lauf ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Stopped (%1)</source>
        <translation>Angehalten (%1)</translation>
    </message>
    <message>
        <source>file</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>frames used</source>
        <translation>verwendete Aufnahmen</translation>
    </message>
    <message>
        <source>coverage</source>
        <translation>Abdeckung</translation>
    </message>
    <message>
        <source>Rejected inputs</source>
        <translation>Verworfene Eingaben</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Details</translation>
    </message>
    <message>
        <source>Input folder (FITS frames)</source>
        <translation>Eingabeordner (FITS-Aufnahmen)</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>Ausgabeordner</translation>
    </message>
    <message>
        <source>Load settings</source>
        <translation>Einstellungen laden</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Save settings</source>
        <translation>Einstellungen speichern</translation>
    </message>
</context>
<context>
    <name>MosaicPreview</name>
    <message>
        <source>The mosaic appears here when a run has finished.</source>
        <translation>Das Mosaik erscheint hier, wenn ein Lauf beendet ist.</translation>
    </message>
    <message>
        <source>Linked channels</source>
        <translation>Kanäle gekoppelt</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>Auto</translation>
    </message>
    <message>
        <source>Black point just below the sky, the sky at a quarter of the range</source>
        <translation>Schwarzpunkt knapp unter dem Himmel, der Himmel bei einem Viertel des Bereichs</translation>
    </message>
    <message>
        <source>Tile outlines</source>
        <translation>Kachelumrisse</translation>
    </message>
    <message>
        <source>Export view...</source>
        <translation>Ansicht exportieren…</translation>
    </message>
    <message>
        <source>Save the mosaic at full resolution with this stretch (PNG, or 16-bit TIFF)</source>
        <translation>Das Mosaik in voller Auflösung mit dieser Streckung speichern (PNG oder 16-Bit-TIFF)</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Kanal</translation>
    </message>
    <message>
        <source>Black</source>
        <translation>Schwarz</translation>
    </message>
    <message>
        <source>Midtones</source>
        <translation>Mitteltöne</translation>
    </message>
    <message>
        <source>White</source>
        <translation>Weiß</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Einpassen</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>1:1</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>Vergrößern</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>Verkleinern</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>x %1  y %2   RA %3  Dec %4   value %5   weight %6   tiles covering %7</source>
        <translation>x %1  y %2   RA %3  Dec %4   Wert %5   Gewicht %6   Kacheln %7</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>Kachel %1</translation>
    </message>
    <message>
        <source>Export view</source>
        <translation>Ansicht exportieren</translation>
    </message>
    <message>
        <source>PNG (*.png);;16-bit TIFF (*.tif)</source>
        <translation>PNG (*.png);;16-Bit-TIFF (*.tif)</translation>
    </message>
</context>
<context>
    <name>PhaseProgress</name>
    <message>
        <source>Demo data</source>
        <translation>Demo-Daten</translation>
    </message>
    <message>
        <source>Phase 1: scan</source>
        <translation>Phase 1: Einlesen</translation>
    </message>
    <message>
        <source>Phase 1b: plate solving</source>
        <translation>Phase 1b: Astrometrie</translation>
    </message>
    <message>
        <source>Frames on the global grid</source>
        <translation>Aufnahmen auf dem globalen Raster</translation>
    </message>
    <message>
        <source>Phase 3: master tiles</source>
        <translation>Phase 3: Master-Kacheln</translation>
    </message>
    <message>
        <source>SDS: sky chunks</source>
        <translation>SDS: Himmelsbereiche</translation>
    </message>
    <message>
        <source>  align (current tile)</source>
        <translation>  ausrichten (aktuelle Kachel)</translation>
    </message>
    <message>
        <source>  stack (current tile)</source>
        <translation>  stapeln (aktuelle Kachel)</translation>
    </message>
    <message>
        <source>Phase 5: assembly</source>
        <translation>Phase 5: Zusammensetzen</translation>
    </message>
    <message>
        <source>Progress appears here when a run starts.</source>
        <translation>Der Fortschritt erscheint hier, wenn ein Lauf beginnt.</translation>
    </message>
    <message>
        <source>Whole run</source>
        <translation>Gesamter Lauf</translation>
    </message>
    <message>
        <source>done</source>
        <translation>fertig</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>noch %1</translation>
    </message>
    <message>
        <source>done in %1</source>
        <translation>fertig in %1</translation>
    </message>
    <message>
        <source>about %1 left</source>
        <translation>noch etwa %1</translation>
    </message>
    <message>
        <source>estimating...</source>
        <translation>wird geschätzt…</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Input</source>
        <translation>Eingabe</translation>
    </message>
    <message>
        <source>Plate solving</source>
        <translation>Astrometrie</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Aufnahmen</translation>
    </message>
    <message>
        <source>Stacking</source>
        <translation>Stapeln</translation>
    </message>
    <message>
        <source>Tiles and mask</source>
        <translation>Kacheln und Maske</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mosaik</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Ausgabe</translation>
    </message>
    <message>
        <source>How to build the mosaic</source>
        <translation>Aufbau des Mosaiks</translation>
    </message>
    <message>
        <source>Master tiles (default), a regular grid, or frames stacked straight onto the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder holds master tiles</source>
        <translation>Der Ordner enthält Master-Kacheln</translation>
    </message>
    <message>
        <source>Use finished master tiles as they are: no scan, grouping or stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Look in subfolders too</source>
        <translation>Auch Unterordner durchsuchen</translation>
    </message>
    <message>
        <source>Also take the frames of the input folder&apos;s subfolders.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel-scale tolerance</source>
        <translation>Toleranz des Abbildungsmaßstabs</translation>
    </message>
    <message>
        <source>Reject a frame whose scale differs this much (fraction) from its group&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame positions from</source>
        <translation>Aufnahmepositionen aus</translation>
    </message>
    <message>
        <source>The header&apos;s astrometry when present, else a plate solve; or always one of them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate solver</source>
        <translation>Astrometrie-Löser</translation>
    </message>
    <message>
        <source>Which installed solver finds where each frame points.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search radius (degrees)</source>
        <translation>Suchradius (Grad)</translation>
    </message>
    <message>
        <source>How far around the telescope&apos;s pointing the solver looks.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP program</source>
        <translation>ASTAP-Programm</translation>
    </message>
    <message>
        <source>Where ASTAP is installed (empty: found automatically).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Index folders</source>
        <translation>Indexordner</translation>
    </message>
    <message>
        <source>Folders of astrometry.net index files (empty: the usual places).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP star database</source>
        <translation>ASTAP-Sterndatenbank</translation>
    </message>
    <message>
        <source>Folder of ASTAP&apos;s star database (empty: ASTAP&apos;s default).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time limit per solve (s)</source>
        <translation>Zeitlimit je Lösung (s)</translation>
    </message>
    <message>
        <source>Longest time one plate solve may take.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blind-solve budget (s)</source>
        <translation>Budget für Blindlösung (s)</translation>
    </message>
    <message>
        <source>Time a run may spend on frames with no pointing in their header.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel scale hint (arcsec)</source>
        <translation>Maßstabshinweis (Bogensekunden)</translation>
    </message>
    <message>
        <source>Pixel scale for frames whose header gives none (0: search widely).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Solve each frame or each field</source>
        <translation>Jede Aufnahme oder jedes Feld lösen</translation>
    </message>
    <message>
        <source>Solve every frame, or one per field and carry it to the others.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate-solution cache</source>
        <translation>Cache der Lösungen</translation>
    </message>
    <message>
        <source>Folder of saved solutions, reusable between runs (empty: in the output folder).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write .wcs files</source>
        <translation>.wcs-Dateien schreiben</translation>
    </message>
    <message>
        <source>Also save each frame&apos;s solution as a .wcs file in the output.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reject poor frames</source>
        <translation>Schlechte Aufnahmen verwerfen</translation>
    </message>
    <message>
        <source>Leave out frames that fail a quality rule; the reason is reported.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quality rules</source>
        <translation>Qualitätsregeln</translation>
    </message>
    <message>
        <source>Which measures may reject a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cut clouds and obstacles</source>
        <translation>Wolken und Hindernisse ausschneiden</translation>
    </message>
    <message>
        <source>Leave out only the dimmed part of a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frames never stacked</source>
        <translation>Nie gestapelte Aufnahmen</translation>
    </message>
    <message>
        <source>A file naming frames to leave out (the Frames tab writes one).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (sigmas)</source>
        <translation>Unschärfegrenze (Sigma)</translation>
    </message>
    <message>
        <source>Reject stars blurrier than the group&apos;s by this many sigmas (0: off).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (pixels)</source>
        <translation>Unschärfegrenze (Pixel)</translation>
    </message>
    <message>
        <source>Reject frames whose star size exceeds this (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit (sigmas)</source>
        <translation>Nachführgrenze (Sigma)</translation>
    </message>
    <message>
        <source>Reject stars more elongated than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit</source>
        <translation>Nachführgrenze</translation>
    </message>
    <message>
        <source>Reject frames whose stars are more elongated than this.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transparency limit (sigmas)</source>
        <translation>Transparenzgrenze (Sigma)</translation>
    </message>
    <message>
        <source>Reject frames dimmer than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lowest transparency</source>
        <translation>Geringste Transparenz</translation>
    </message>
    <message>
        <source>Reject frames keeping less than this fraction of the star light.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (sigmas)</source>
        <translation>Grenze für hellen Himmel (Sigma)</translation>
    </message>
    <message>
        <source>Reject frames whose sky is brighter than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (ratio)</source>
        <translation>Grenze für hellen Himmel (Verhältnis)</translation>
    </message>
    <message>
        <source>Reject frames whose sky exceeds this many times the group&apos;s (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star-count limit (sigmas)</source>
        <translation>Grenze der Sternanzahl (Sigma)</translation>
    </message>
    <message>
        <source>Reject frames with fewer stars than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest stars (ratio)</source>
        <translation>Wenigste Sterne (Verhältnis)</translation>
    </message>
    <message>
        <source>Reject frames with fewer than this fraction of the group&apos;s stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region transparency limit</source>
        <translation>Transparenzgrenze einer Region</translation>
    </message>
    <message>
        <source>A region keeping less than this fraction of the star light is left out.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest part left out</source>
        <translation>Größter ausgelassener Anteil</translation>
    </message>
    <message>
        <source>A frame losing more than this fraction is rejected whole.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region size (pixels)</source>
        <translation>Regionsgröße (Pixel)</translation>
    </message>
    <message>
        <source>Size of the regions judged for clouds and obstacles.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outlier rejection</source>
        <translation>Ausreißerverwerfung</translation>
    </message>
    <message>
        <source>How satellite trails, planes and hot pixels are removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Low rejection (sigma)</source>
        <translation>Untere Verwerfung (Sigma)</translation>
    </message>
    <message>
        <source>Pixels this far below the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>High rejection (sigma)</source>
        <translation>Obere Verwerfung (Sigma)</translation>
    </message>
    <message>
        <source>Pixels this far above the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame weights</source>
        <translation>Aufnahmegewichte</translation>
    </message>
    <message>
        <source>How much each frame counts in the stack.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame normalisation</source>
        <translation>Normalisierung der Aufnahmen</translation>
    </message>
    <message>
        <source>How each frame&apos;s sky is matched to the reference before stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Combine with</source>
        <translation>Kombinieren mit</translation>
    </message>
    <message>
        <source>Weighted mean (less noise) or median.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tiles at the same time</source>
        <translation>Gleichzeitige Kacheln</translation>
    </message>
    <message>
        <source>Master tiles built in parallel (0: one per core).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the graphics card</source>
        <translation>Grafikkarte verwenden</translation>
    </message>
    <message>
        <source>Stack on an NVIDIA GPU when one is available.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Winsorisation limits</source>
        <translation>Winsorisierungsgrenzen</translation>
    </message>
    <message>
        <source>Low and high fractions clipped by winsorised rejection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stacking memory (MB)</source>
        <translation>Stapelspeicher (MB)</translation>
    </message>
    <message>
        <source>Memory one stack may use at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debayering</source>
        <translation>Debayering</translation>
    </message>
    <message>
        <source>How colour is rebuilt from the sensor&apos;s Bayer pattern.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star detection threshold</source>
        <translation>Sternerkennungsschwelle</translation>
    </message>
    <message>
        <source>How far above the sky (in sigmas) a star must rise.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Smallest star (pixels)</source>
        <translation>Kleinster Stern (Pixel)</translation>
    </message>
    <message>
        <source>Fewest connected pixels that make a star.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stars matched</source>
        <translation>Zugeordnete Sterne</translation>
    </message>
    <message>
        <source>Most stars used to align two frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sky matching order</source>
        <translation>Ordnung des Himmelsabgleichs</translation>
    </message>
    <message>
        <source>Shape of the sky difference removed per frame (0: flat, 1: tilt...).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flatten the reference</source>
        <translation>Referenz ebnen</translation>
    </message>
    <message>
        <source>Also remove the reference frame&apos;s own gradient.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flattening order</source>
        <translation>Ordnung der Ebnung</translation>
    </message>
    <message>
        <source>Shape of that gradient (a plane keeps large nebulae).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory for parallel tiles (MB)</source>
        <translation>Speicher für parallele Kacheln (MB)</translation>
    </message>
    <message>
        <source>Memory the tiles built together may take (0: 3/4 of the free memory).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cluster</source>
        <translation>Cluster</translation>
    </message>
    <message>
        <source>Build tiles on a dask cluster: empty (this computer), local, or an address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Alt-Az edge cleanup</source>
        <translation>Alt-Az-Randbereinigung</translation>
    </message>
    <message>
        <source>Fade out tile edges that too few frames cover (on for Alt-Az mounts).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the frame count</source>
        <translation>Aufnahmezahl verwenden</translation>
    </message>
    <message>
        <source>Decide the edges from how many frames cover each pixel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per pixel</source>
        <translation>Wenigste Aufnahmen je Pixel</translation>
    </message>
    <message>
        <source>A kept pixel needs at least this many frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames (fraction)</source>
        <translation>Wenigste Aufnahmen (Anteil)</translation>
    </message>
    <message>
        <source>Or this fraction of the tile&apos;s best coverage.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Crop bad borders</source>
        <translation>Schlechte Ränder beschneiden</translation>
    </message>
    <message>
        <source>Crop dark or colour-cast bands at the tile edges.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile size</source>
        <translation>Kachelgröße</translation>
    </message>
    <message>
        <source>A tile covers the whole group&apos;s sky, or only its reference frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grouping distance</source>
        <translation>Gruppierungsabstand</translation>
    </message>
    <message>
        <source>Frames closer than this fraction of a field share a tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep mount types apart</source>
        <translation>Montierungsarten trennen</translation>
    </message>
    <message>
        <source>Never mix Alt-Az and equatorial frames in one tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Most frames per tile</source>
        <translation>Meiste Aufnahmen je Kachel</translation>
    </message>
    <message>
        <source>Larger groups are split in time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per tile</source>
        <translation>Wenigste Aufnahmen je Kachel</translation>
    </message>
    <message>
        <source>Smaller groups are skipped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Separate target distance</source>
        <translation>Abstand eines anderen Ziels</translation>
    </message>
    <message>
        <source>Groups farther than this many fields are another target.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Small groups</source>
        <translation>Kleine Gruppen</translation>
    </message>
    <message>
        <source>How the frame count limit meets a tile of few frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mask smoothing (pixels)</source>
        <translation>Maskenglättung (Pixel)</translation>
    </message>
    <message>
        <source>Removes specks from the coverage mask.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather width (%)</source>
        <translation>Überblendbreite (%)</translation>
    </message>
    <message>
        <source>Width of the faded edge, in percent of the tile&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather steepness</source>
        <translation>Überblendsteilheit</translation>
    </message>
    <message>
        <source>How quickly the edge fades.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Masked below</source>
        <translation>Maskiert unter</translation>
    </message>
    <message>
        <source>Mask values at or below this count as masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank below</source>
        <translation>Leer unter</translation>
    </message>
    <message>
        <source>Tile pixels whose mask is at or below this are written blank.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank masked pixels</source>
        <translation>Maskierte Pixel leeren</translation>
    </message>
    <message>
        <source>Write blank (NaN) where a tile is fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trim empty edges</source>
        <translation>Leere Ränder beschneiden</translation>
    </message>
    <message>
        <source>Peel tile rows and columns that are almost fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edge trim limit</source>
        <translation>Randbeschnittgrenze</translation>
    </message>
    <message>
        <source>A row is peeled while less than this fraction is kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debug tiles</source>
        <translation>Kacheln zum Debuggen</translation>
    </message>
    <message>
        <source>Tile numbers whose alignment is logged in detail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile brightness</source>
        <translation>Kachelhelligkeit angleichen</translation>
    </message>
    <message>
        <source>Even out the tiles&apos; brightness where they overlap.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove light pollution</source>
        <translation>Lichtverschmutzung entfernen</translation>
    </message>
    <message>
        <source>Subtract the sky gradient left in the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour balance</source>
        <translation>Farbabgleich</translation>
    </message>
    <message>
        <source>White-balance the mosaic on its stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resampling</source>
        <translation>Neuabtastung</translation>
    </message>
    <message>
        <source>Fast bilinear, or flux-conserving (slower).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile gradients</source>
        <translation>Kachelgradienten angleichen</translation>
    </message>
    <message>
        <source>Also even out a tilt per tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile weight</source>
        <translation>Kachelgewicht</translation>
    </message>
    <message>
        <source>Weight tiles by their number of frames, or equally.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disk buffer above (MB)</source>
        <translation>Plattenpuffer ab (MB)</translation>
    </message>
    <message>
        <source>A mosaic larger than this is assembled on disk.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest mosaic (MB)</source>
        <translation>Größtes Mosaik (MB)</translation>
    </message>
    <message>
        <source>Stop before building a mosaic that needs more memory (0: no limit).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Least filled mosaic</source>
        <translation>Geringste Füllung des Mosaiks</translation>
    </message>
    <message>
        <source>Stop when the tiles fill less than this fraction of the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allow a sparse mosaic</source>
        <translation>Dünnes Mosaik erlauben</translation>
    </message>
    <message>
        <source>Build it even when it is mostly empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour star catalogue</source>
        <translation>Sternfarbkatalog</translation>
    </message>
    <message>
        <source>A table of star colours for the balance (empty: the average star).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (pixels)</source>
        <translation>Rasterkachelgröße (Pixel)</translation>
    </message>
    <message>
        <source>Side of a grid tile (0: from the frame size).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (frames)</source>
        <translation>Rasterkachelgröße (Aufnahmen)</translation>
    </message>
    <message>
        <source>Grid tile side as a multiple of a frame&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid overlap</source>
        <translation>Rasterüberlappung</translation>
    </message>
    <message>
        <source>Overlap between neighbouring grid tiles (fraction).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid frame threshold</source>
        <translation>Aufnahmeschwelle des Rasters</translation>
    </message>
    <message>
        <source>A frame joins a grid tile covering at least this fraction.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chunk size (pixels)</source>
        <translation>Bereichsgröße (Pixel)</translation>
    </message>
    <message>
        <source>Side of the sky regions stacked one at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session gap (hours)</source>
        <translation>Sitzungsabstand (Stunden)</translation>
    </message>
    <message>
        <source>Frames further apart in time are stacked as separate sessions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export for image editors</source>
        <translation>Export für Bildbearbeitung</translation>
    </message>
    <message>
        <source>Also write 16-bit TIFF or PNG, or 32-bit TIFF.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stretch the exports</source>
        <translation>Exporte strecken</translation>
    </message>
    <message>
        <source>Apply the preview&apos;s stretch (off: linear).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Files for other software</source>
        <translation>Dateien für andere Programme</translation>
    </message>
    <message>
        <source>Also write the mosaic as Siril, PixInsight, astropy or SWarp expect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Framing</source>
        <translation>Bildausschnitt</translation>
    </message>
    <message>
        <source>Keep the whole grid, trim empty borders, or cut the largest full rectangle.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a preview picture</source>
        <translation>Vorschaubild schreiben</translation>
    </message>
    <message>
        <source>Save mosaic_preview.png.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep the master tiles</source>
        <translation>Master-Kacheln behalten</translation>
    </message>
    <message>
        <source>Keep master_tiles/ in the output folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel values</source>
        <translation>Pixelwerte</translation>
    </message>
    <message>
        <source>The frames&apos; ADU, or scaled to peak at 1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Empty pixels</source>
        <translation>Leere Pixel</translation>
    </message>
    <message>
        <source>Value written where nothing was covered (nan or a number).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatisch</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Master-Kacheln</translation>
    </message>
    <message>
        <source>Regular grid</source>
        <translation>Regelmäßiges Raster</translation>
    </message>
    <message>
        <source>Mosaic first (SDS)</source>
        <translation>Mosaik zuerst (SDS)</translation>
    </message>
    <message>
        <source>Header, else plate solve</source>
        <translation>Header, sonst lösen</translation>
    </message>
    <message>
        <source>Header only</source>
        <translation>Nur Header</translation>
    </message>
    <message>
        <source>Always plate solve</source>
        <translation>Immer lösen</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Keine</translation>
    </message>
    <message>
        <source>astrometry.net (built in)</source>
        <translation>astrometry.net (eingebaut)</translation>
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
        <translation>Alle Aufnahmen bis auf eine</translation>
    </message>
    <message>
        <source>Fraction only</source>
        <translation>Nur Anteil</translation>
    </message>
    <message>
        <source>By number of frames</source>
        <translation>Nach Anzahl der Aufnahmen</translation>
    </message>
    <message>
        <source>Automatic (Alt-Az frames)</source>
        <translation>Automatisch (Alt-Az-Aufnahmen)</translation>
    </message>
    <message>
        <source>On</source>
        <translation>Ein</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Aus</translation>
    </message>
    <message>
        <source>Plane (lower envelope)</source>
        <translation>Ebene (untere Hülle)</translation>
    </message>
    <message>
        <source>From the frames&apos; rotation (default)</source>
        <translation>Aus der Drehung der Aufnahmen (Standard)</translation>
    </message>
    <message>
        <source>Curved surface</source>
        <translation>Gekrümmte Fläche</translation>
    </message>
    <message>
        <source>None (sensor balance)</source>
        <translation>Keiner (Sensorbalance)</translation>
    </message>
    <message>
        <source>On the stars</source>
        <translation>An den Sternen</translation>
    </message>
    <message>
        <source>Bilinear (fast)</source>
        <translation>Bilinear (schnell)</translation>
    </message>
    <message>
        <source>Flux-conserving</source>
        <translation>Flusserhaltend</translation>
    </message>
    <message>
        <source>Whole grid</source>
        <translation>Ganzes Raster</translation>
    </message>
    <message>
        <source>Trim empty borders</source>
        <translation>Leere Ränder beschneiden</translation>
    </message>
    <message>
        <source>Largest full rectangle</source>
        <translation>Größtes volles Rechteck</translation>
    </message>
    <message>
        <source>Sigma clipping</source>
        <translation>Sigma-Clipping</translation>
    </message>
    <message>
        <source>Winsorised sigma clipping</source>
        <translation>Winsorisiertes Sigma-Clipping</translation>
    </message>
    <message>
        <source>Linear fit clipping</source>
        <translation>Clipping mit linearer Anpassung</translation>
    </message>
    <message>
        <source>Equal</source>
        <translation>Gleich</translation>
    </message>
    <message>
        <source>By noise</source>
        <translation>Nach Rauschen</translation>
    </message>
    <message>
        <source>By noise and sharpness</source>
        <translation>Nach Rauschen und Schärfe</translation>
    </message>
    <message>
        <source>Additive</source>
        <translation>Additiv</translation>
    </message>
    <message>
        <source>Multiplicative</source>
        <translation>Multiplikativ</translation>
    </message>
    <message>
        <source>Linear fit</source>
        <translation>Lineare Anpassung</translation>
    </message>
    <message>
        <source>Sky surface match</source>
        <translation>Abgleich der Himmelsfläche</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>Mittelwert</translation>
    </message>
    <message>
        <source>Median</source>
        <translation>Median</translation>
    </message>
    <message>
        <source>The group&apos;s sky</source>
        <translation>Der Himmel der Gruppe</translation>
    </message>
    <message>
        <source>The reference frame</source>
        <translation>Die Referenzaufnahme</translation>
    </message>
    <message>
        <source>Edge-aware</source>
        <translation>Kantenbewusst</translation>
    </message>
    <message>
        <source>Bilinear</source>
        <translation>Bilinear</translation>
    </message>
    <message>
        <source>One per field</source>
        <translation>Eine je Feld</translation>
    </message>
    <message>
        <source>Every frame</source>
        <translation>Jede Aufnahme</translation>
    </message>
    <message>
        <source>ADU (linear)</source>
        <translation>ADU (linear)</translation>
    </message>
    <message>
        <source>Peak at 1</source>
        <translation>Maximum bei 1</translation>
    </message>
    <message>
        <source>Seestar Alt-Az</source>
        <translation>Seestar Alt-Az</translation>
    </message>
    <message>
        <source>Seestar equatorial</source>
        <translation>Seestar äquatorial</translation>
    </message>
    <message>
        <source>Quick look</source>
        <translation>Schnellansicht</translation>
    </message>
    <message>
        <source>Best quality</source>
        <translation>Beste Qualität</translation>
    </message>
    <message>
        <source>on</source>
        <translation>ein</translation>
    </message>
    <message>
        <source>off</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>Colour from raw frames</source>
        <translation>Farbe aus Rohbildern</translation>
    </message>
    <message>
        <source>Drizzle sampling</source>
        <translation>Drizzle-Abtastung</translation>
    </message>
    <message>
        <source>Drizzle drop size</source>
        <translation>Drizzle-Tropfengröße</translation>
    </message>
    <message>
        <source>By frames under each pixel</source>
        <translation>Nach Bildern unter jedem Pixel</translation>
    </message>
    <message>
        <source>Lanczos-3 (sharp stars)</source>
        <translation>Lanczos-3 (scharfe Sterne)</translation>
    </message>
    <message>
        <source>Debayer then stack</source>
        <translation>Debayern, dann stapeln</translation>
    </message>
    <message>
        <source>CFA drizzle</source>
        <translation>CFA-Drizzle</translation>
    </message>
    <message>
        <source>Debayer each frame, or drop each raw colour sample (CFA drizzle).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output pixels per raw pixel a side for CFA drizzle.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Size of a raw pixel&apos;s drop, in raw pixels.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsPanel</name>
    <message>
        <source>Show expert settings</source>
        <translation>Experteneinstellungen zeigen</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>Voreinstellung</translation>
    </message>
    <message>
        <source>(choose a preset)</source>
        <translation>(Voreinstellung wählen)</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>Anwenden</translation>
    </message>
    <message>
        <source>Set the keys listed below; every other setting is kept.</source>
        <translation>Setzt die unten genannten Schlüssel; alle anderen Einstellungen bleiben.</translation>
    </message>
    <message>
        <source>A preset sets several settings at once; choose one to see which.</source>
        <translation>Eine Voreinstellung setzt mehrere Einstellungen auf einmal; wählen Sie eine, um zu sehen, welche.</translation>
    </message>
    <message>
        <source>Sets:</source>
        <translation>Setzt:</translation>
    </message>
</context>
<context>
    <name>TileGallery</name>
    <message>
        <source>no overlay</source>
        <translation>keine Überlagerung</translation>
    </message>
    <message>
        <source>ALPHA (red: feathered out)</source>
        <translation>ALPHA (rot: ausgeblendet)</translation>
    </message>
    <message>
        <source>COVERAGE (blue: few frames, yellow: most)</source>
        <translation>COVERAGE (blau: wenige Aufnahmen, gelb: die meisten)</translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation>Überlagerung</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>Kachel %1</translation>
    </message>
</context>
</TS>
