<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="nl_NL">
<context>
    <name>Frames</name>
    <message>
        <source>WCS in header</source>
        <translation>WCS in de header</translation>
    </message>
    <message>
        <source>to plate-solve (pointing known)</source>
        <translation>op te lossen (richting bekend)</translation>
    </message>
    <message>
        <source>to plate-solve (no pointing)</source>
        <translation>op te lossen (geen richting)</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>onleesbaar</translation>
    </message>
    <message>
        <source>kept</source>
        <translation>behouden</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>afgewezen</translation>
    </message>
    <message>
        <source>excluded</source>
        <translation>uitgesloten</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Bestand</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Tijd</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Tegel</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>Positie</translation>
    </message>
    <message>
        <source>Stars</source>
        <translation>Sterren</translation>
    </message>
    <message>
        <source>FWHM (px)</source>
        <translation>FWHM (px)</translation>
    </message>
    <message>
        <source>Elongation</source>
        <translation>Elongatie</translation>
    </message>
    <message>
        <source>Sky (ADU)</source>
        <translation>Hemel (ADU)</translation>
    </message>
    <message>
        <source>Transparency</source>
        <translation>Transparantie</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>Gewicht</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Besluit</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Reden</translation>
    </message>
    <message>
        <source>Use</source>
        <translation>Gebruiken</translation>
    </message>
    <message>
        <source>Choose an input folder: the frames appear here before any run.</source>
        <translation>Kies een invoermap: de opnamen verschijnen hier vóór elke verwerking.</translation>
    </message>
    <message>
        <source>tile %1: click to list its frames</source>
        <translation>tegel %1: klik om de opnamen te tonen</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tegel %1</translation>
    </message>
</context>
<context>
    <name>FramesTab</name>
    <message>
        <source>Measure frames</source>
        <translation>Opnamen meten</translation>
    </message>
    <message>
        <source>Measure every frame&apos;s quality as a run would (zemosaic inspect), without stacking</source>
        <translation>De kwaliteit van elke opname meten zoals een verwerking doet (zemosaic inspect), zonder te stapelen</translation>
    </message>
    <message>
        <source>Rejected only</source>
        <translation>Alleen afgewezen</translation>
    </message>
    <message>
        <source>all tiles</source>
        <translation>alle tegels</translation>
    </message>
    <message>
        <source>Thumbnail</source>
        <translation>Miniatuur</translation>
    </message>
    <message>
        <source>Show the selected frame</source>
        <translation>De gekozen opname tonen</translation>
    </message>
    <message>
        <source>No frames measured yet: choose the input folder, then Measure frames.</source>
        <translation>Nog geen opnamen gemeten: kies de invoermap en dan Opnamen meten.</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Tegel</translation>
    </message>
    <message>
        <source>Measuring the frames of %1...</source>
        <translation>Opnamen van %1 worden gemeten…</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tegel %1</translation>
    </message>
    <message>
        <source>%1 frames in %2 tile groups: %3 kept, %4 rejected by the quality rules. Untick a frame to leave it out of the run.</source>
        <translation>%1 opnamen in %2 tegelgroepen: %3 behouden, %4 afgewezen door de kwaliteitsregels. Vink een opname uit om haar buiten de verwerking te laten.</translation>
    </message>
    <message>
        <source>Unreadable: %1.</source>
        <translation>Onleesbaar: %1.</translation>
    </message>
    <message>
        <source>Measuring frame %1 of %2...</source>
        <translation>Opname %1 van %2 wordt gemeten…</translation>
    </message>
    <message>
        <source>The frames could not be measured: %1</source>
        <translation>De opnamen konden niet gemeten worden: %1</translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>all tags</source>
        <translation>alle labels</translation>
    </message>
    <message>
        <source>filter text</source>
        <translation>tekst filteren</translation>
    </message>
    <message>
        <source>Wrap lines</source>
        <translation>Regels afbreken</translation>
    </message>
    <message>
        <source>Level at least</source>
        <translation>Niveau minstens</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>Label</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Generating the demo dataset in %1...</source>
        <translation>Demogegevens worden gemaakt in %1…</translation>
    </message>
    <message>
        <source>ZeMosaic</source>
        <translation>ZeMosaic</translation>
    </message>
    <message>
        <source>folder of raw FITS frames (never modified)</source>
        <translation>map met ruwe FITS-opnamen (nooit gewijzigd)</translation>
    </message>
    <message>
        <source>folder for the mosaic, master tiles and report</source>
        <translation>map voor het mozaïek, de mastertegels en het rapport</translation>
    </message>
    <message>
        <source>refuse</source>
        <translation>weigeren</translation>
    </message>
    <message>
        <source>overwrite earlier outputs</source>
        <translation>eerdere resultaten overschrijven</translation>
    </message>
    <message>
        <source>resume (reuse finished tiles)</source>
        <translation>hervatten (klare tegels hergebruiken)</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>Mappen</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Invoer</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Uitvoer</translation>
    </message>
    <message>
        <source>Browse...</source>
        <translation>Bladeren…</translation>
    </message>
    <message>
        <source>If the output folder is not empty</source>
        <translation>Als de uitvoermap niet leeg is</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Verwerken</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuleren</translation>
    </message>
    <message>
        <source>Load settings...</source>
        <translation>Instellingen laden…</translation>
    </message>
    <message>
        <source>Save settings...</source>
        <translation>Instellingen opslaan…</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>Uitvoermap openen</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Opnamen</translation>
    </message>
    <message>
        <source>Sky map</source>
        <translation>Hemelkaart</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Mastertegels</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mozaïek</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Samenvatting</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Logboek</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Voortgang</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Klaar</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>Annuleren…</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Bestand</translation>
    </message>
    <message>
        <source>Choose the &amp;input folder...</source>
        <translation>&amp;Invoermap kiezen…</translation>
    </message>
    <message>
        <source>&amp;Recent input folders</source>
        <translation>&amp;Recente invoermappen</translation>
    </message>
    <message>
        <source>Choose the &amp;output folder...</source>
        <translation>&amp;Uitvoermap kiezen…</translation>
    </message>
    <message>
        <source>&amp;Load settings...</source>
        <translation>Instellingen &amp;laden…</translation>
    </message>
    <message>
        <source>&amp;Save settings...</source>
        <translation>Instellingen &amp;opslaan…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Afsluiten</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>&amp;Verwerking</translation>
    </message>
    <message>
        <source>&amp;Measure frames</source>
        <translation>Opnamen &amp;meten</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Starten</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>&amp;Annuleren</translation>
    </message>
    <message>
        <source>&amp;Open the output folder</source>
        <translation>Uitvoermap &amp;openen</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Beeld</translation>
    </message>
    <message>
        <source>&amp;Dark theme (next start)</source>
        <translation>&amp;Donker thema (bij volgende start)</translation>
    </message>
    <message>
        <source>&amp;Language (next start)</source>
        <translation>&amp;Taal (bij volgende start)</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Systeemtaal</translation>
    </message>
    <message>
        <source>The language changes at the next start.</source>
        <translation>De taal verandert bij de volgende start.</translation>
    </message>
    <message>
        <source>Settings: %1</source>
        <translation>Instellingen: %1</translation>
    </message>
    <message>
        <source>Running...</source>
        <translation>Bezig…</translation>
    </message>
    <message>
        <source>The output folder does not exist yet.</source>
        <translation>De uitvoermap bestaat nog niet.</translation>
    </message>
    <message>
        <source>Settings loaded from %1</source>
        <translation>Instellingen geladen uit %1</translation>
    </message>
    <message>
        <source>Settings saved to %1</source>
        <translation>Instellingen opgeslagen in %1</translation>
    </message>
    <message>
        <source>Choose the input folder first.</source>
        <translation>Kies eerst de invoermap.</translation>
    </message>
    <message>
        <source>Finished: %1 tiles, %2 frames used</source>
        <translation>Klaar: %1 tegels, %2 opnamen gebruikt</translation>
    </message>
    <message>
        <source>Run cancelled: %1. Temporary files were removed; finished master tiles are kept (choose Resume to reuse them).</source>
        <translation>Verwerking geannuleerd: %1. Tijdelijke bestanden zijn verwijderd; klare mastertegels blijven bewaard (kies Hervatten om ze te hergebruiken).</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>De verwerking is mislukt: %1</translation>
    </message>
    <message>
        <source>Stopped (%1)</source>
        <translation>Gestopt (%1)</translation>
    </message>
    <message>
        <source>file</source>
        <translation>bestand</translation>
    </message>
    <message>
        <source>frames used</source>
        <translation>gebruikte opnamen</translation>
    </message>
    <message>
        <source>coverage</source>
        <translation>dekking</translation>
    </message>
    <message>
        <source>Rejected inputs</source>
        <translation>Afgewezen invoer</translation>
    </message>
    <message>
        <source>none</source>
        <translation>geen</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Details</translation>
    </message>
    <message>
        <source>Input folder (FITS frames)</source>
        <translation>Invoermap (FITS-opnamen)</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>Uitvoermap</translation>
    </message>
    <message>
        <source>Load settings</source>
        <translation>Instellingen laden</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Save settings</source>
        <translation>Instellingen opslaan</translation>
    </message>
</context>
<context>
    <name>MosaicPreview</name>
    <message>
        <source>The mosaic appears here when a run has finished.</source>
        <translation>Het mozaïek verschijnt hier als een verwerking klaar is.</translation>
    </message>
    <message>
        <source>Linked channels</source>
        <translation>Kanalen gekoppeld</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>Auto</translation>
    </message>
    <message>
        <source>Black point just below the sky, the sky at a quarter of the range</source>
        <translation>Zwartpunt net onder de hemel, de hemel op een kwart van het bereik</translation>
    </message>
    <message>
        <source>Tile outlines</source>
        <translation>Tegelranden</translation>
    </message>
    <message>
        <source>Export view...</source>
        <translation>Weergave exporteren…</translation>
    </message>
    <message>
        <source>Save the mosaic at full resolution with this stretch (PNG, or 16-bit TIFF)</source>
        <translation>Het mozaïek op volle resolutie met deze rek opslaan (PNG of 16-bit TIFF)</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Kanaal</translation>
    </message>
    <message>
        <source>Black</source>
        <translation>Zwart</translation>
    </message>
    <message>
        <source>Midtones</source>
        <translation>Middentonen</translation>
    </message>
    <message>
        <source>White</source>
        <translation>Wit</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Passend</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>1:1</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>Inzoomen</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>Uitzoomen</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>Kan %1 niet lezen: %2</translation>
    </message>
    <message>
        <source>x %1  y %2   RA %3  Dec %4   value %5   weight %6   tiles covering %7</source>
        <translation>x %1  y %2   RA %3  Dec %4   waarde %5   gewicht %6   tegels %7</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tegel %1</translation>
    </message>
    <message>
        <source>Export view</source>
        <translation>Weergave exporteren</translation>
    </message>
    <message>
        <source>PNG (*.png);;16-bit TIFF (*.tif)</source>
        <translation>PNG (*.png);;16-bit TIFF (*.tif)</translation>
    </message>
</context>
<context>
    <name>PhaseProgress</name>
    <message>
        <source>Demo data</source>
        <translation>Demogegevens</translation>
    </message>
    <message>
        <source>Phase 1: scan</source>
        <translation>Fase 1: inventaris</translation>
    </message>
    <message>
        <source>Phase 1b: plate solving</source>
        <translation>Fase 1b: astrometrie</translation>
    </message>
    <message>
        <source>Frames on the global grid</source>
        <translation>Opnamen op het globale raster</translation>
    </message>
    <message>
        <source>Phase 3: master tiles</source>
        <translation>Fase 3: mastertegels</translation>
    </message>
    <message>
        <source>SDS: sky chunks</source>
        <translation>SDS: hemelgebieden</translation>
    </message>
    <message>
        <source>  align (current tile)</source>
        <translation>  uitlijnen (huidige tegel)</translation>
    </message>
    <message>
        <source>  stack (current tile)</source>
        <translation>  stapelen (huidige tegel)</translation>
    </message>
    <message>
        <source>Phase 5: assembly</source>
        <translation>Fase 5: samenvoegen</translation>
    </message>
    <message>
        <source>Progress appears here when a run starts.</source>
        <translation>De voortgang verschijnt hier als een verwerking begint.</translation>
    </message>
    <message>
        <source>Whole run</source>
        <translation>Hele verwerking</translation>
    </message>
    <message>
        <source>done</source>
        <translation>klaar</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>nog %1</translation>
    </message>
    <message>
        <source>done in %1</source>
        <translation>klaar in %1</translation>
    </message>
    <message>
        <source>about %1 left</source>
        <translation>nog ongeveer %1</translation>
    </message>
    <message>
        <source>estimating...</source>
        <translation>schatten…</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Input</source>
        <translation>Invoer</translation>
    </message>
    <message>
        <source>Plate solving</source>
        <translation>Astrometrie</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Opnamen</translation>
    </message>
    <message>
        <source>Stacking</source>
        <translation>Stapelen</translation>
    </message>
    <message>
        <source>Tiles and mask</source>
        <translation>Tegels en masker</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mozaïek</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Uitvoer</translation>
    </message>
    <message>
        <source>How to build the mosaic</source>
        <translation>Opbouw van het mozaïek</translation>
    </message>
    <message>
        <source>Master tiles (default), a regular grid, or frames stacked straight onto the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder holds master tiles</source>
        <translation>De map bevat mastertegels</translation>
    </message>
    <message>
        <source>Use finished master tiles as they are: no scan, grouping or stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Look in subfolders too</source>
        <translation>Ook in submappen zoeken</translation>
    </message>
    <message>
        <source>Also take the frames of the input folder&apos;s subfolders.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel-scale tolerance</source>
        <translation>Tolerantie van de beeldschaal</translation>
    </message>
    <message>
        <source>Reject a frame whose scale differs this much (fraction) from its group&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame positions from</source>
        <translation>Positie van opnamen uit</translation>
    </message>
    <message>
        <source>The header&apos;s astrometry when present, else a plate solve; or always one of them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate solver</source>
        <translation>Astrometrische oplosser</translation>
    </message>
    <message>
        <source>Which installed solver finds where each frame points.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search radius (degrees)</source>
        <translation>Zoekstraal (graden)</translation>
    </message>
    <message>
        <source>How far around the telescope&apos;s pointing the solver looks.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP program</source>
        <translation>ASTAP-programma</translation>
    </message>
    <message>
        <source>Where ASTAP is installed (empty: found automatically).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Index folders</source>
        <translation>Indexmappen</translation>
    </message>
    <message>
        <source>Folders of astrometry.net index files (empty: the usual places).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP star database</source>
        <translation>ASTAP-sterrendatabase</translation>
    </message>
    <message>
        <source>Folder of ASTAP&apos;s star database (empty: ASTAP&apos;s default).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time limit per solve (s)</source>
        <translation>Tijdslimiet per oplossing (s)</translation>
    </message>
    <message>
        <source>Longest time one plate solve may take.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blind-solve budget (s)</source>
        <translation>Budget voor blind oplossen (s)</translation>
    </message>
    <message>
        <source>Time a run may spend on frames with no pointing in their header.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel scale hint (arcsec)</source>
        <translation>Schaalhint (boogseconden)</translation>
    </message>
    <message>
        <source>Pixel scale for frames whose header gives none (0: search widely).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Solve each frame or each field</source>
        <translation>Elke opname of elk veld oplossen</translation>
    </message>
    <message>
        <source>Solve every frame, or one per field and carry it to the others.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate-solution cache</source>
        <translation>Cache van oplossingen</translation>
    </message>
    <message>
        <source>Folder of saved solutions, reusable between runs (empty: in the output folder).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write .wcs files</source>
        <translation>.wcs-bestanden schrijven</translation>
    </message>
    <message>
        <source>Also save each frame&apos;s solution as a .wcs file in the output.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reject poor frames</source>
        <translation>Slechte opnamen afwijzen</translation>
    </message>
    <message>
        <source>Leave out frames that fail a quality rule; the reason is reported.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quality rules</source>
        <translation>Kwaliteitsregels</translation>
    </message>
    <message>
        <source>Which measures may reject a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cut clouds and obstacles</source>
        <translation>Wolken en obstakels wegsnijden</translation>
    </message>
    <message>
        <source>Leave out only the dimmed part of a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frames never stacked</source>
        <translation>Nooit gestapelde opnamen</translation>
    </message>
    <message>
        <source>A file naming frames to leave out (the Frames tab writes one).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (sigmas)</source>
        <translation>Onscherptegrens (sigma)</translation>
    </message>
    <message>
        <source>Reject stars blurrier than the group&apos;s by this many sigmas (0: off).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (pixels)</source>
        <translation>Onscherptegrens (pixels)</translation>
    </message>
    <message>
        <source>Reject frames whose star size exceeds this (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit (sigmas)</source>
        <translation>Sleepgrens (sigma)</translation>
    </message>
    <message>
        <source>Reject stars more elongated than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit</source>
        <translation>Sleepgrens</translation>
    </message>
    <message>
        <source>Reject frames whose stars are more elongated than this.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transparency limit (sigmas)</source>
        <translation>Transparantiegrens (sigma)</translation>
    </message>
    <message>
        <source>Reject frames dimmer than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lowest transparency</source>
        <translation>Laagste transparantie</translation>
    </message>
    <message>
        <source>Reject frames keeping less than this fraction of the star light.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (sigmas)</source>
        <translation>Grens heldere hemel (sigma)</translation>
    </message>
    <message>
        <source>Reject frames whose sky is brighter than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (ratio)</source>
        <translation>Grens heldere hemel (verhouding)</translation>
    </message>
    <message>
        <source>Reject frames whose sky exceeds this many times the group&apos;s (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star-count limit (sigmas)</source>
        <translation>Grens sterrenaantal (sigma)</translation>
    </message>
    <message>
        <source>Reject frames with fewer stars than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest stars (ratio)</source>
        <translation>Minste sterren (verhouding)</translation>
    </message>
    <message>
        <source>Reject frames with fewer than this fraction of the group&apos;s stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region transparency limit</source>
        <translation>Transparantiegrens van een gebied</translation>
    </message>
    <message>
        <source>A region keeping less than this fraction of the star light is left out.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest part left out</source>
        <translation>Grootste weggelaten deel</translation>
    </message>
    <message>
        <source>A frame losing more than this fraction is rejected whole.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region size (pixels)</source>
        <translation>Gebiedsgrootte (pixels)</translation>
    </message>
    <message>
        <source>Size of the regions judged for clouds and obstacles.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outlier rejection</source>
        <translation>Afwijzing van uitschieters</translation>
    </message>
    <message>
        <source>How satellite trails, planes and hot pixels are removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Low rejection (sigma)</source>
        <translation>Lage afwijzing (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far below the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>High rejection (sigma)</source>
        <translation>Hoge afwijzing (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far above the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame weights</source>
        <translation>Gewichten van opnamen</translation>
    </message>
    <message>
        <source>How much each frame counts in the stack.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame normalisation</source>
        <translation>Normalisatie van opnamen</translation>
    </message>
    <message>
        <source>How each frame&apos;s sky is matched to the reference before stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Combine with</source>
        <translation>Combineren met</translation>
    </message>
    <message>
        <source>Weighted mean (less noise) or median.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tiles at the same time</source>
        <translation>Tegels tegelijk</translation>
    </message>
    <message>
        <source>Master tiles built in parallel (0: one per core).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the graphics card</source>
        <translation>Grafische kaart gebruiken</translation>
    </message>
    <message>
        <source>Stack on an NVIDIA GPU when one is available.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Winsorisation limits</source>
        <translation>Winsorisatiegrenzen</translation>
    </message>
    <message>
        <source>Low and high fractions clipped by winsorised rejection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stacking memory (MB)</source>
        <translation>Stapelgeheugen (MB)</translation>
    </message>
    <message>
        <source>Memory one stack may use at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debayering</source>
        <translation>Debayeren</translation>
    </message>
    <message>
        <source>How colour is rebuilt from the sensor&apos;s Bayer pattern.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star detection threshold</source>
        <translation>Drempel voor sterdetectie</translation>
    </message>
    <message>
        <source>How far above the sky (in sigmas) a star must rise.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Smallest star (pixels)</source>
        <translation>Kleinste ster (pixels)</translation>
    </message>
    <message>
        <source>Fewest connected pixels that make a star.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stars matched</source>
        <translation>Gekoppelde sterren</translation>
    </message>
    <message>
        <source>Most stars used to align two frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sky matching order</source>
        <translation>Orde van hemelaanpassing</translation>
    </message>
    <message>
        <source>Shape of the sky difference removed per frame (0: flat, 1: tilt...).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flatten the reference</source>
        <translation>Referentie vlakken</translation>
    </message>
    <message>
        <source>Also remove the reference frame&apos;s own gradient.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flattening order</source>
        <translation>Orde van vlakken</translation>
    </message>
    <message>
        <source>Shape of that gradient (a plane keeps large nebulae).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory for parallel tiles (MB)</source>
        <translation>Geheugen voor parallelle tegels (MB)</translation>
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
        <translation>Alt-Az-randopschoning</translation>
    </message>
    <message>
        <source>Fade out tile edges that too few frames cover (on for Alt-Az mounts).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the frame count</source>
        <translation>Aantal opnamen gebruiken</translation>
    </message>
    <message>
        <source>Decide the edges from how many frames cover each pixel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per pixel</source>
        <translation>Minste opnamen per pixel</translation>
    </message>
    <message>
        <source>A kept pixel needs at least this many frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames (fraction)</source>
        <translation>Minste opnamen (fractie)</translation>
    </message>
    <message>
        <source>Or this fraction of the tile&apos;s best coverage.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Crop bad borders</source>
        <translation>Slechte randen bijsnijden</translation>
    </message>
    <message>
        <source>Crop dark or colour-cast bands at the tile edges.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile size</source>
        <translation>Tegelgrootte</translation>
    </message>
    <message>
        <source>A tile covers the whole group&apos;s sky, or only its reference frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grouping distance</source>
        <translation>Groeperingsafstand</translation>
    </message>
    <message>
        <source>Frames closer than this fraction of a field share a tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep mount types apart</source>
        <translation>Montagetypes gescheiden houden</translation>
    </message>
    <message>
        <source>Never mix Alt-Az and equatorial frames in one tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Most frames per tile</source>
        <translation>Meeste opnamen per tegel</translation>
    </message>
    <message>
        <source>Larger groups are split in time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per tile</source>
        <translation>Minste opnamen per tegel</translation>
    </message>
    <message>
        <source>Smaller groups are skipped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Separate target distance</source>
        <translation>Afstand van een ander doel</translation>
    </message>
    <message>
        <source>Groups farther than this many fields are another target.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Small groups</source>
        <translation>Kleine groepen</translation>
    </message>
    <message>
        <source>How the frame count limit meets a tile of few frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mask smoothing (pixels)</source>
        <translation>Maskerafvlakking (pixels)</translation>
    </message>
    <message>
        <source>Removes specks from the coverage mask.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather width (%)</source>
        <translation>Overvloeibreedte (%)</translation>
    </message>
    <message>
        <source>Width of the faded edge, in percent of the tile&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather steepness</source>
        <translation>Overvloeisteilheid</translation>
    </message>
    <message>
        <source>How quickly the edge fades.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Masked below</source>
        <translation>Gemaskeerd onder</translation>
    </message>
    <message>
        <source>Mask values at or below this count as masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank below</source>
        <translation>Leeg onder</translation>
    </message>
    <message>
        <source>Tile pixels whose mask is at or below this are written blank.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank masked pixels</source>
        <translation>Gemaskeerde pixels leegmaken</translation>
    </message>
    <message>
        <source>Write blank (NaN) where a tile is fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trim empty edges</source>
        <translation>Lege randen bijsnijden</translation>
    </message>
    <message>
        <source>Peel tile rows and columns that are almost fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edge trim limit</source>
        <translation>Grens randbijsnijding</translation>
    </message>
    <message>
        <source>A row is peeled while less than this fraction is kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debug tiles</source>
        <translation>Tegels om te debuggen</translation>
    </message>
    <message>
        <source>Tile numbers whose alignment is logged in detail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile brightness</source>
        <translation>Tegelhelderheid gelijkmaken</translation>
    </message>
    <message>
        <source>Even out the tiles&apos; brightness where they overlap.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove light pollution</source>
        <translation>Lichtvervuiling verwijderen</translation>
    </message>
    <message>
        <source>Subtract the sky gradient left in the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour balance</source>
        <translation>Kleurbalans</translation>
    </message>
    <message>
        <source>White-balance the mosaic on its stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resampling</source>
        <translation>Herbemonstering</translation>
    </message>
    <message>
        <source>Fast bilinear, or flux-conserving (slower).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile gradients</source>
        <translation>Tegelgradiënten gelijkmaken</translation>
    </message>
    <message>
        <source>Also even out a tilt per tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile weight</source>
        <translation>Tegelgewicht</translation>
    </message>
    <message>
        <source>Weight tiles by their number of frames, or equally.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disk buffer above (MB)</source>
        <translation>Schijfbuffer vanaf (MB)</translation>
    </message>
    <message>
        <source>A mosaic larger than this is assembled on disk.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest mosaic (MB)</source>
        <translation>Grootste mozaïek (MB)</translation>
    </message>
    <message>
        <source>Stop before building a mosaic that needs more memory (0: no limit).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Least filled mosaic</source>
        <translation>Minste vulling van het mozaïek</translation>
    </message>
    <message>
        <source>Stop when the tiles fill less than this fraction of the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allow a sparse mosaic</source>
        <translation>Een dun mozaïek toestaan</translation>
    </message>
    <message>
        <source>Build it even when it is mostly empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour star catalogue</source>
        <translation>Catalogus van sterkleuren</translation>
    </message>
    <message>
        <source>A table of star colours for the balance (empty: the average star).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (pixels)</source>
        <translation>Rastertegelgrootte (pixels)</translation>
    </message>
    <message>
        <source>Side of a grid tile (0: from the frame size).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (frames)</source>
        <translation>Rastertegelgrootte (opnamen)</translation>
    </message>
    <message>
        <source>Grid tile side as a multiple of a frame&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid overlap</source>
        <translation>Rasteroverlap</translation>
    </message>
    <message>
        <source>Overlap between neighbouring grid tiles (fraction).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid frame threshold</source>
        <translation>Opnamedrempel van het raster</translation>
    </message>
    <message>
        <source>A frame joins a grid tile covering at least this fraction.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chunk size (pixels)</source>
        <translation>Gebiedsgrootte (pixels)</translation>
    </message>
    <message>
        <source>Side of the sky regions stacked one at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session gap (hours)</source>
        <translation>Sessie-interval (uren)</translation>
    </message>
    <message>
        <source>Frames further apart in time are stacked as separate sessions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export for image editors</source>
        <translation>Export voor beeldbewerkers</translation>
    </message>
    <message>
        <source>Also write 16-bit TIFF or PNG, or 32-bit TIFF.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stretch the exports</source>
        <translation>Exports rekken</translation>
    </message>
    <message>
        <source>Apply the preview&apos;s stretch (off: linear).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Files for other software</source>
        <translation>Bestanden voor andere programma&apos;s</translation>
    </message>
    <message>
        <source>Also write the mosaic as Siril, PixInsight, astropy or SWarp expect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Framing</source>
        <translation>Uitsnede</translation>
    </message>
    <message>
        <source>Keep the whole grid, trim empty borders, or cut the largest full rectangle.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a preview picture</source>
        <translation>Een voorbeeldafbeelding schrijven</translation>
    </message>
    <message>
        <source>Save mosaic_preview.png.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep the master tiles</source>
        <translation>Mastertegels bewaren</translation>
    </message>
    <message>
        <source>Keep master_tiles/ in the output folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel values</source>
        <translation>Pixelwaarden</translation>
    </message>
    <message>
        <source>The frames&apos; ADU, or scaled to peak at 1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Empty pixels</source>
        <translation>Lege pixels</translation>
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
        <translation>Mastertegels</translation>
    </message>
    <message>
        <source>Regular grid</source>
        <translation>Regelmatig raster</translation>
    </message>
    <message>
        <source>Mosaic first (SDS)</source>
        <translation>Mozaïek eerst (SDS)</translation>
    </message>
    <message>
        <source>Header, else plate solve</source>
        <translation>Header, anders oplossen</translation>
    </message>
    <message>
        <source>Header only</source>
        <translation>Alleen header</translation>
    </message>
    <message>
        <source>Always plate solve</source>
        <translation>Altijd oplossen</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Geen</translation>
    </message>
    <message>
        <source>astrometry.net (built in)</source>
        <translation>astrometry.net (ingebouwd)</translation>
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
        <translation>Alle opnamen op één na</translation>
    </message>
    <message>
        <source>Fraction only</source>
        <translation>Alleen fractie</translation>
    </message>
    <message>
        <source>By number of frames</source>
        <translation>Naar aantal opnamen</translation>
    </message>
    <message>
        <source>Automatic (Alt-Az frames)</source>
        <translation>Automatisch (Alt-Az-opnamen)</translation>
    </message>
    <message>
        <source>On</source>
        <translation>Aan</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Uit</translation>
    </message>
    <message>
        <source>Plane (lower envelope)</source>
        <translation>Vlak (onderste omhullende)</translation>
    </message>
    <message>
        <source>From the frames&apos; rotation (default)</source>
        <translation>Uit de draaiing van de opnamen (standaard)</translation>
    </message>
    <message>
        <source>Curved surface</source>
        <translation>Gebogen oppervlak</translation>
    </message>
    <message>
        <source>None (sensor balance)</source>
        <translation>Geen (sensorbalans)</translation>
    </message>
    <message>
        <source>On the stars</source>
        <translation>Op de sterren</translation>
    </message>
    <message>
        <source>Bilinear (fast)</source>
        <translation>Bilineair (snel)</translation>
    </message>
    <message>
        <source>Flux-conserving</source>
        <translation>Fluxbehoudend</translation>
    </message>
    <message>
        <source>Whole grid</source>
        <translation>Heel het raster</translation>
    </message>
    <message>
        <source>Trim empty borders</source>
        <translation>Lege randen bijsnijden</translation>
    </message>
    <message>
        <source>Largest full rectangle</source>
        <translation>Grootste volle rechthoek</translation>
    </message>
    <message>
        <source>Sigma clipping</source>
        <translation>Sigma-clipping</translation>
    </message>
    <message>
        <source>Winsorised sigma clipping</source>
        <translation>Gewinsoriseerde sigma-clipping</translation>
    </message>
    <message>
        <source>Linear fit clipping</source>
        <translation>Clipping met lineaire fit</translation>
    </message>
    <message>
        <source>Equal</source>
        <translation>Gelijk</translation>
    </message>
    <message>
        <source>By noise</source>
        <translation>Naar ruis</translation>
    </message>
    <message>
        <source>By noise and sharpness</source>
        <translation>Naar ruis en scherpte</translation>
    </message>
    <message>
        <source>Additive</source>
        <translation>Additief</translation>
    </message>
    <message>
        <source>Multiplicative</source>
        <translation>Multiplicatief</translation>
    </message>
    <message>
        <source>Linear fit</source>
        <translation>Lineaire fit</translation>
    </message>
    <message>
        <source>Sky surface match</source>
        <translation>Aanpassing van het hemeloppervlak</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>Gemiddelde</translation>
    </message>
    <message>
        <source>Median</source>
        <translation>Mediaan</translation>
    </message>
    <message>
        <source>The group&apos;s sky</source>
        <translation>De hemel van de groep</translation>
    </message>
    <message>
        <source>The reference frame</source>
        <translation>De referentieopname</translation>
    </message>
    <message>
        <source>Edge-aware</source>
        <translation>Randbewust</translation>
    </message>
    <message>
        <source>Bilinear</source>
        <translation>Bilineair</translation>
    </message>
    <message>
        <source>One per field</source>
        <translation>Eén per veld</translation>
    </message>
    <message>
        <source>Every frame</source>
        <translation>Elke opname</translation>
    </message>
    <message>
        <source>ADU (linear)</source>
        <translation>ADU (lineair)</translation>
    </message>
    <message>
        <source>Peak at 1</source>
        <translation>Maximum bij 1</translation>
    </message>
    <message>
        <source>Seestar Alt-Az</source>
        <translation>Seestar Alt-Az</translation>
    </message>
    <message>
        <source>Seestar equatorial</source>
        <translation>Seestar equatoriaal</translation>
    </message>
    <message>
        <source>Quick look</source>
        <translation>Snelle blik</translation>
    </message>
    <message>
        <source>Best quality</source>
        <translation>Beste kwaliteit</translation>
    </message>
    <message>
        <source>on</source>
        <translation>aan</translation>
    </message>
    <message>
        <source>off</source>
        <translation>uit</translation>
    </message>
    <message>
        <source>Colour from raw frames</source>
        <translation>Kleur uit ruwe opnamen</translation>
    </message>
    <message>
        <source>Drizzle sampling</source>
        <translation>Drizzle-bemonstering</translation>
    </message>
    <message>
        <source>Drizzle drop size</source>
        <translation>Drizzle-druppelgrootte</translation>
    </message>
    <message>
        <source>By frames under each pixel</source>
        <translation>Naar opnamen onder elke pixel</translation>
    </message>
    <message>
        <source>Lanczos-3 (sharp stars)</source>
        <translation>Lanczos-3 (scherpe sterren)</translation>
    </message>
    <message>
        <source>Debayer then stack</source>
        <translation>Debayeren, dan stapelen</translation>
    </message>
    <message>
        <source>CFA drizzle</source>
        <translation>CFA-drizzle</translation>
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
        <translation>Expertinstellingen tonen</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>Voorinstelling</translation>
    </message>
    <message>
        <source>(choose a preset)</source>
        <translation>(kies een voorinstelling)</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>Toepassen</translation>
    </message>
    <message>
        <source>Set the keys listed below; every other setting is kept.</source>
        <translation>Zet de sleutels hieronder; alle andere instellingen blijven.</translation>
    </message>
    <message>
        <source>A preset sets several settings at once; choose one to see which.</source>
        <translation>Een voorinstelling zet meerdere instellingen tegelijk; kies er een om te zien welke.</translation>
    </message>
    <message>
        <source>Sets:</source>
        <translation>Zet:</translation>
    </message>
</context>
<context>
    <name>TileGallery</name>
    <message>
        <source>no overlay</source>
        <translation>geen overlay</translation>
    </message>
    <message>
        <source>ALPHA (red: feathered out)</source>
        <translation>ALPHA (rood: weggevloeid)</translation>
    </message>
    <message>
        <source>COVERAGE (blue: few frames, yellow: most)</source>
        <translation>DEKKING (blauw: weinig opnamen, geel: de meeste)</translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation>Overlay</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tegel %1</translation>
    </message>
</context>
</TS>
