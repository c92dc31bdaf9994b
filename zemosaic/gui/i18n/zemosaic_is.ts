<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="is_IS">
<context>
    <name>Frames</name>
    <message>
        <source>WCS in header</source>
        <translation>WCS í haus</translation>
    </message>
    <message>
        <source>to plate-solve (pointing known)</source>
        <translation>á eftir að staðsetja (stefna þekkt)</translation>
    </message>
    <message>
        <source>to plate-solve (no pointing)</source>
        <translation>á eftir að staðsetja (engin stefna)</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>ólæsileg</translation>
    </message>
    <message>
        <source>kept</source>
        <translation>haldið</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>hafnað</translation>
    </message>
    <message>
        <source>excluded</source>
        <translation>útilokuð</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Skrá</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Tími</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Flís</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>Staðsetning</translation>
    </message>
    <message>
        <source>Stars</source>
        <translation>Stjörnur</translation>
    </message>
    <message>
        <source>FWHM (px)</source>
        <translation>FWHM (px)</translation>
    </message>
    <message>
        <source>Elongation</source>
        <translation>Ílengd</translation>
    </message>
    <message>
        <source>Sky (ADU)</source>
        <translation>Himinn (ADU)</translation>
    </message>
    <message>
        <source>Transparency</source>
        <translation>Gegnsæi</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>Vægi</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Ákvörðun</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Ástæða</translation>
    </message>
    <message>
        <source>Use</source>
        <translation>Nota</translation>
    </message>
    <message>
        <source>Choose an input folder: the frames appear here before any run.</source>
        <translation>Veldu inntaksmöppu: myndirnar birtast hér fyrir hverja keyrslu.</translation>
    </message>
    <message>
        <source>tile %1: click to list its frames</source>
        <translation>flís %1: smelltu til að sjá myndir hennar</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>flís %1</translation>
    </message>
</context>
<context>
    <name>FramesTab</name>
    <message>
        <source>Measure frames</source>
        <translation>Mæla myndir</translation>
    </message>
    <message>
        <source>Measure every frame&apos;s quality as a run would (zemosaic inspect), without stacking</source>
        <translation>Mæla gæði hverrar myndar eins og keyrsla gerir (zemosaic inspect), án stöflunar</translation>
    </message>
    <message>
        <source>Rejected only</source>
        <translation>Aðeins hafnaðar</translation>
    </message>
    <message>
        <source>all tiles</source>
        <translation>allar flísar</translation>
    </message>
    <message>
        <source>Thumbnail</source>
        <translation>Smámynd</translation>
    </message>
    <message>
        <source>Show the selected frame</source>
        <translation>Sýna valda mynd</translation>
    </message>
    <message>
        <source>No frames measured yet: choose the input folder, then Measure frames.</source>
        <translation>Engar myndir mældar enn: veldu inntaksmöppu og svo Mæla myndir.</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Flís</translation>
    </message>
    <message>
        <source>Measuring the frames of %1...</source>
        <translation>Mæli myndir í %1…</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>flís %1</translation>
    </message>
    <message>
        <source>%1 frames in %2 tile groups: %3 kept, %4 rejected by the quality rules. Untick a frame to leave it out of the run.</source>
        <translation>%1 myndir í %2 flísahópum: %3 haldið, %4 hafnað af gæðareglum. Taktu hakið af mynd til að sleppa henni í keyrslunni.</translation>
    </message>
    <message>
        <source>Unreadable: %1.</source>
        <translation>Ólæsilegar: %1.</translation>
    </message>
    <message>
        <source>Measuring frame %1 of %2...</source>
        <translation>Mæli mynd %1 af %2…</translation>
    </message>
    <message>
        <source>The frames could not be measured: %1</source>
        <translation>Ekki tókst að mæla myndirnar: %1</translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>all tags</source>
        <translation>öll merki</translation>
    </message>
    <message>
        <source>filter text</source>
        <translation>sía texta</translation>
    </message>
    <message>
        <source>Wrap lines</source>
        <translation>Brjóta línur</translation>
    </message>
    <message>
        <source>Level at least</source>
        <translation>Stig að minnsta kosti</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>Merki</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Generating the demo dataset in %1...</source>
        <translation>Bý til sýnigögn í %1…</translation>
    </message>
    <message>
        <source>ZeMosaic</source>
        <translation>ZeMosaic</translation>
    </message>
    <message>
        <source>folder of raw FITS frames (never modified)</source>
        <translation>mappa með hráum FITS-myndum (aldrei breytt)</translation>
    </message>
    <message>
        <source>folder for the mosaic, master tiles and report</source>
        <translation>mappa fyrir mósaíkina, aðalflísar og skýrslu</translation>
    </message>
    <message>
        <source>refuse</source>
        <translation>hafna</translation>
    </message>
    <message>
        <source>overwrite earlier outputs</source>
        <translation>skrifa yfir fyrri niðurstöður</translation>
    </message>
    <message>
        <source>resume (reuse finished tiles)</source>
        <translation>halda áfram (nota tilbúnar flísar)</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>Möppur</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Inntak</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Úttak</translation>
    </message>
    <message>
        <source>Browse...</source>
        <translation>Velja…</translation>
    </message>
    <message>
        <source>If the output folder is not empty</source>
        <translation>Ef úttaksmappan er ekki tóm</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Keyra</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Hætta við</translation>
    </message>
    <message>
        <source>Load settings...</source>
        <translation>Hlaða stillingum…</translation>
    </message>
    <message>
        <source>Save settings...</source>
        <translation>Vista stillingar…</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>Opna úttaksmöppu</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Myndir</translation>
    </message>
    <message>
        <source>Sky map</source>
        <translation>Himinkort</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Aðalflísar</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mósaík</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Samantekt</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Atburðaskrá</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Framvinda</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Tilbúið</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>Hætti við…</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Skrá</translation>
    </message>
    <message>
        <source>Choose the &amp;input folder...</source>
        <translation>Velja &amp;inntaksmöppu…</translation>
    </message>
    <message>
        <source>&amp;Recent input folders</source>
        <translation>&amp;Nýlegar inntaksmöppur</translation>
    </message>
    <message>
        <source>Choose the &amp;output folder...</source>
        <translation>Velja ú&amp;ttaksmöppu…</translation>
    </message>
    <message>
        <source>&amp;Load settings...</source>
        <translation>&amp;Hlaða stillingum…</translation>
    </message>
    <message>
        <source>&amp;Save settings...</source>
        <translation>&amp;Vista stillingar…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Hætta</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>&amp;Keyrsla</translation>
    </message>
    <message>
        <source>&amp;Measure frames</source>
        <translation>&amp;Mæla myndir</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Ræsa</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>Hætta &amp;við</translation>
    </message>
    <message>
        <source>&amp;Open the output folder</source>
        <translation>&amp;Opna úttaksmöppu</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>Sý&amp;n</translation>
    </message>
    <message>
        <source>&amp;Dark theme (next start)</source>
        <translation>&amp;Dökkt þema (við næstu ræsingu)</translation>
    </message>
    <message>
        <source>&amp;Language (next start)</source>
        <translation>&amp;Tungumál (við næstu ræsingu)</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Tungumál kerfisins</translation>
    </message>
    <message>
        <source>The language changes at the next start.</source>
        <translation>Tungumálið breytist við næstu ræsingu.</translation>
    </message>
    <message>
        <source>Settings: %1</source>
        <translation>Stillingar: %1</translation>
    </message>
    <message>
        <source>Running...</source>
        <translation>Keyri…</translation>
    </message>
    <message>
        <source>The output folder does not exist yet.</source>
        <translation>Úttaksmappan er ekki til enn.</translation>
    </message>
    <message>
        <source>Settings loaded from %1</source>
        <translation>Stillingum hlaðið úr %1</translation>
    </message>
    <message>
        <source>Settings saved to %1</source>
        <translation>Stillingar vistaðar í %1</translation>
    </message>
    <message>
        <source>Choose the input folder first.</source>
        <translation>Veldu fyrst inntaksmöppu.</translation>
    </message>
    <message>
        <source>Finished: %1 tiles, %2 frames used</source>
        <translation>Lokið: %1 flísar, %2 myndir notaðar</translation>
    </message>
    <message>
        <source>Run cancelled: %1. Temporary files were removed; finished master tiles are kept (choose Resume to reuse them).</source>
        <translation>Keyrslu hætt: %1. Tímabundnum skrám var eytt; tilbúnum aðalflísum er haldið (veldu Halda áfram til að nota þær).</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>Keyrslan mistókst: %1</translation>
    </message>
    <message>
        <source>Stopped (%1)</source>
        <translation>Stöðvað (%1)</translation>
    </message>
    <message>
        <source>file</source>
        <translation>skrá</translation>
    </message>
    <message>
        <source>frames used</source>
        <translation>myndir notaðar</translation>
    </message>
    <message>
        <source>coverage</source>
        <translation>þekja</translation>
    </message>
    <message>
        <source>Rejected inputs</source>
        <translation>Hafnað inntak</translation>
    </message>
    <message>
        <source>none</source>
        <translation>engin</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Nánar</translation>
    </message>
    <message>
        <source>Input folder (FITS frames)</source>
        <translation>Inntaksmappa (FITS-myndir)</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>Úttaksmappa</translation>
    </message>
    <message>
        <source>Load settings</source>
        <translation>Hlaða stillingum</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Save settings</source>
        <translation>Vista stillingar</translation>
    </message>
</context>
<context>
    <name>MosaicPreview</name>
    <message>
        <source>The mosaic appears here when a run has finished.</source>
        <translation>Mósaíkin birtist hér þegar keyrslu er lokið.</translation>
    </message>
    <message>
        <source>Linked channels</source>
        <translation>Tengdar rásir</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>Auto</translation>
    </message>
    <message>
        <source>Black point just below the sky, the sky at a quarter of the range</source>
        <translation>Svartpunktur rétt undir himninum, himinninn í fjórðungi sviðsins</translation>
    </message>
    <message>
        <source>Tile outlines</source>
        <translation>Útlínur flísa</translation>
    </message>
    <message>
        <source>Export view...</source>
        <translation>Flytja út sýn…</translation>
    </message>
    <message>
        <source>Save the mosaic at full resolution with this stretch (PNG, or 16-bit TIFF)</source>
        <translation>Vista mósaíkina í fullri upplausn með þessari teygingu (PNG eða 16 bita TIFF)</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Rás</translation>
    </message>
    <message>
        <source>Black</source>
        <translation>Svart</translation>
    </message>
    <message>
        <source>Midtones</source>
        <translation>Miðtónar</translation>
    </message>
    <message>
        <source>White</source>
        <translation>Hvítt</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Passa</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>1:1</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>Stækka</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>Minnka</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>Get ekki lesið %1: %2</translation>
    </message>
    <message>
        <source>x %1  y %2   RA %3  Dec %4   value %5   weight %6   tiles covering %7</source>
        <translation>x %1  y %2   RA %3  Dec %4   gildi %5   vægi %6   flísar %7</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>flís %1</translation>
    </message>
    <message>
        <source>Export view</source>
        <translation>Flytja út sýn</translation>
    </message>
    <message>
        <source>PNG (*.png);;16-bit TIFF (*.tif)</source>
        <translation>PNG (*.png);;16 bita TIFF (*.tif)</translation>
    </message>
</context>
<context>
    <name>PhaseProgress</name>
    <message>
        <source>Demo data</source>
        <translation>Sýnigögn</translation>
    </message>
    <message>
        <source>Phase 1: scan</source>
        <translation>Áfangi 1: skönnun</translation>
    </message>
    <message>
        <source>Phase 1b: plate solving</source>
        <translation>Áfangi 1b: stjörnuhnitun</translation>
    </message>
    <message>
        <source>Frames on the global grid</source>
        <translation>Myndir á heildarnetinu</translation>
    </message>
    <message>
        <source>Phase 3: master tiles</source>
        <translation>Áfangi 3: aðalflísar</translation>
    </message>
    <message>
        <source>SDS: sky chunks</source>
        <translation>SDS: himinsvæði</translation>
    </message>
    <message>
        <source>  align (current tile)</source>
        <translation>  jöfnun (núverandi flís)</translation>
    </message>
    <message>
        <source>  stack (current tile)</source>
        <translation>  stöflun (núverandi flís)</translation>
    </message>
    <message>
        <source>Phase 5: assembly</source>
        <translation>Áfangi 5: samsetning</translation>
    </message>
    <message>
        <source>Progress appears here when a run starts.</source>
        <translation>Framvindan birtist hér þegar keyrsla hefst.</translation>
    </message>
    <message>
        <source>Whole run</source>
        <translation>Öll keyrslan</translation>
    </message>
    <message>
        <source>done</source>
        <translation>lokið</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>%1 eftir</translation>
    </message>
    <message>
        <source>done in %1</source>
        <translation>lokið á %1</translation>
    </message>
    <message>
        <source>about %1 left</source>
        <translation>um %1 eftir</translation>
    </message>
    <message>
        <source>estimating...</source>
        <translation>áætla…</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Input</source>
        <translation>Inntak</translation>
    </message>
    <message>
        <source>Plate solving</source>
        <translation>Stjörnuhnitun</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Myndir</translation>
    </message>
    <message>
        <source>Stacking</source>
        <translation>Stöflun</translation>
    </message>
    <message>
        <source>Tiles and mask</source>
        <translation>Flísar og gríma</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mósaík</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Úttak</translation>
    </message>
    <message>
        <source>How to build the mosaic</source>
        <translation>Uppbygging mósaíkur</translation>
    </message>
    <message>
        <source>Master tiles (default), a regular grid, or frames stacked straight onto the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder holds master tiles</source>
        <translation>Mappan inniheldur aðalflísar</translation>
    </message>
    <message>
        <source>Use finished master tiles as they are: no scan, grouping or stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Look in subfolders too</source>
        <translation>Leita líka í undirmöppum</translation>
    </message>
    <message>
        <source>Also take the frames of the input folder&apos;s subfolders.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel-scale tolerance</source>
        <translation>Vikmörk kvarða</translation>
    </message>
    <message>
        <source>Reject a frame whose scale differs this much (fraction) from its group&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame positions from</source>
        <translation>Staðsetning mynda úr</translation>
    </message>
    <message>
        <source>The header&apos;s astrometry when present, else a plate solve; or always one of them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate solver</source>
        <translation>Hnitunarforrit</translation>
    </message>
    <message>
        <source>Which installed solver finds where each frame points.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search radius (degrees)</source>
        <translation>Leitarradíus (gráður)</translation>
    </message>
    <message>
        <source>How far around the telescope&apos;s pointing the solver looks.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP program</source>
        <translation>ASTAP-forrit</translation>
    </message>
    <message>
        <source>Where ASTAP is installed (empty: found automatically).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Index folders</source>
        <translation>Vísamöppur</translation>
    </message>
    <message>
        <source>Folders of astrometry.net index files (empty: the usual places).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP star database</source>
        <translation>Stjörnugagnagrunnur ASTAP</translation>
    </message>
    <message>
        <source>Folder of ASTAP&apos;s star database (empty: ASTAP&apos;s default).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time limit per solve (s)</source>
        <translation>Tímamörk hverrar hnitunar (s)</translation>
    </message>
    <message>
        <source>Longest time one plate solve may take.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blind-solve budget (s)</source>
        <translation>Tími fyrir blinda hnitun (s)</translation>
    </message>
    <message>
        <source>Time a run may spend on frames with no pointing in their header.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel scale hint (arcsec)</source>
        <translation>Kvarðavísbending (bogasekúndur)</translation>
    </message>
    <message>
        <source>Pixel scale for frames whose header gives none (0: search widely).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Solve each frame or each field</source>
        <translation>Hnita hverja mynd eða hvert svið</translation>
    </message>
    <message>
        <source>Solve every frame, or one per field and carry it to the others.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate-solution cache</source>
        <translation>Skyndiminni lausna</translation>
    </message>
    <message>
        <source>Folder of saved solutions, reusable between runs (empty: in the output folder).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write .wcs files</source>
        <translation>Skrifa .wcs-skrár</translation>
    </message>
    <message>
        <source>Also save each frame&apos;s solution as a .wcs file in the output.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reject poor frames</source>
        <translation>Hafna lélegum myndum</translation>
    </message>
    <message>
        <source>Leave out frames that fail a quality rule; the reason is reported.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quality rules</source>
        <translation>Gæðareglur</translation>
    </message>
    <message>
        <source>Which measures may reject a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cut clouds and obstacles</source>
        <translation>Skera burt ský og hindranir</translation>
    </message>
    <message>
        <source>Leave out only the dimmed part of a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frames never stacked</source>
        <translation>Myndir aldrei staflaðar</translation>
    </message>
    <message>
        <source>A file naming frames to leave out (the Frames tab writes one).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (sigmas)</source>
        <translation>Óskýrleikamörk (sigma)</translation>
    </message>
    <message>
        <source>Reject stars blurrier than the group&apos;s by this many sigmas (0: off).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (pixels)</source>
        <translation>Óskýrleikamörk (dílar)</translation>
    </message>
    <message>
        <source>Reject frames whose star size exceeds this (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit (sigmas)</source>
        <translation>Slóðamörk (sigma)</translation>
    </message>
    <message>
        <source>Reject stars more elongated than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit</source>
        <translation>Slóðamörk</translation>
    </message>
    <message>
        <source>Reject frames whose stars are more elongated than this.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transparency limit (sigmas)</source>
        <translation>Gegnsæismörk (sigma)</translation>
    </message>
    <message>
        <source>Reject frames dimmer than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lowest transparency</source>
        <translation>Minnsta gegnsæi</translation>
    </message>
    <message>
        <source>Reject frames keeping less than this fraction of the star light.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (sigmas)</source>
        <translation>Mörk bjarts himins (sigma)</translation>
    </message>
    <message>
        <source>Reject frames whose sky is brighter than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (ratio)</source>
        <translation>Mörk bjarts himins (hlutfall)</translation>
    </message>
    <message>
        <source>Reject frames whose sky exceeds this many times the group&apos;s (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star-count limit (sigmas)</source>
        <translation>Mörk stjörnufjölda (sigma)</translation>
    </message>
    <message>
        <source>Reject frames with fewer stars than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest stars (ratio)</source>
        <translation>Fæstar stjörnur (hlutfall)</translation>
    </message>
    <message>
        <source>Reject frames with fewer than this fraction of the group&apos;s stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region transparency limit</source>
        <translation>Gegnsæismörk svæðis</translation>
    </message>
    <message>
        <source>A region keeping less than this fraction of the star light is left out.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest part left out</source>
        <translation>Stærsti hluti sleppt</translation>
    </message>
    <message>
        <source>A frame losing more than this fraction is rejected whole.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region size (pixels)</source>
        <translation>Svæðisstærð (dílar)</translation>
    </message>
    <message>
        <source>Size of the regions judged for clouds and obstacles.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outlier rejection</source>
        <translation>Höfnun útlaga</translation>
    </message>
    <message>
        <source>How satellite trails, planes and hot pixels are removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Low rejection (sigma)</source>
        <translation>Neðri höfnun (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far below the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>High rejection (sigma)</source>
        <translation>Efri höfnun (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far above the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame weights</source>
        <translation>Vægi mynda</translation>
    </message>
    <message>
        <source>How much each frame counts in the stack.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame normalisation</source>
        <translation>Stöðlun mynda</translation>
    </message>
    <message>
        <source>How each frame&apos;s sky is matched to the reference before stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Combine with</source>
        <translation>Sameina með</translation>
    </message>
    <message>
        <source>Weighted mean (less noise) or median.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tiles at the same time</source>
        <translation>Flísar samtímis</translation>
    </message>
    <message>
        <source>Master tiles built in parallel (0: one per core).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the graphics card</source>
        <translation>Nota skjákort</translation>
    </message>
    <message>
        <source>Stack on an NVIDIA GPU when one is available.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Winsorisation limits</source>
        <translation>Winsor-mörk</translation>
    </message>
    <message>
        <source>Low and high fractions clipped by winsorised rejection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stacking memory (MB)</source>
        <translation>Stöflunarminni (MB)</translation>
    </message>
    <message>
        <source>Memory one stack may use at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debayering</source>
        <translation>Afbayerun</translation>
    </message>
    <message>
        <source>How colour is rebuilt from the sensor&apos;s Bayer pattern.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star detection threshold</source>
        <translation>Greiningarþröskuldur stjarna</translation>
    </message>
    <message>
        <source>How far above the sky (in sigmas) a star must rise.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Smallest star (pixels)</source>
        <translation>Minnsta stjarna (dílar)</translation>
    </message>
    <message>
        <source>Fewest connected pixels that make a star.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stars matched</source>
        <translation>Paraðar stjörnur</translation>
    </message>
    <message>
        <source>Most stars used to align two frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sky matching order</source>
        <translation>Stig himinjöfnunar</translation>
    </message>
    <message>
        <source>Shape of the sky difference removed per frame (0: flat, 1: tilt...).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flatten the reference</source>
        <translation>Slétta viðmiðið</translation>
    </message>
    <message>
        <source>Also remove the reference frame&apos;s own gradient.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flattening order</source>
        <translation>Stig sléttunar</translation>
    </message>
    <message>
        <source>Shape of that gradient (a plane keeps large nebulae).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory for parallel tiles (MB)</source>
        <translation>Minni fyrir samhliða flísar (MB)</translation>
    </message>
    <message>
        <source>Memory the tiles built together may take (0: 3/4 of the free memory).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cluster</source>
        <translation>Klasi</translation>
    </message>
    <message>
        <source>Build tiles on a dask cluster: empty (this computer), local, or an address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Alt-Az edge cleanup</source>
        <translation>Jaðarhreinsun Alt-Az</translation>
    </message>
    <message>
        <source>Fade out tile edges that too few frames cover (on for Alt-Az mounts).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the frame count</source>
        <translation>Nota fjölda mynda</translation>
    </message>
    <message>
        <source>Decide the edges from how many frames cover each pixel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per pixel</source>
        <translation>Fæstar myndir á díl</translation>
    </message>
    <message>
        <source>A kept pixel needs at least this many frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames (fraction)</source>
        <translation>Fæstar myndir (hlutfall)</translation>
    </message>
    <message>
        <source>Or this fraction of the tile&apos;s best coverage.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Crop bad borders</source>
        <translation>Skera slæma jaðra</translation>
    </message>
    <message>
        <source>Crop dark or colour-cast bands at the tile edges.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile size</source>
        <translation>Flísastærð</translation>
    </message>
    <message>
        <source>A tile covers the whole group&apos;s sky, or only its reference frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grouping distance</source>
        <translation>Hópunarfjarlægð</translation>
    </message>
    <message>
        <source>Frames closer than this fraction of a field share a tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep mount types apart</source>
        <translation>Halda festingagerðum aðskildum</translation>
    </message>
    <message>
        <source>Never mix Alt-Az and equatorial frames in one tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Most frames per tile</source>
        <translation>Flestar myndir á flís</translation>
    </message>
    <message>
        <source>Larger groups are split in time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per tile</source>
        <translation>Fæstar myndir á flís</translation>
    </message>
    <message>
        <source>Smaller groups are skipped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Separate target distance</source>
        <translation>Fjarlægð annars viðfangs</translation>
    </message>
    <message>
        <source>Groups farther than this many fields are another target.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Small groups</source>
        <translation>Litlir hópar</translation>
    </message>
    <message>
        <source>How the frame count limit meets a tile of few frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mask smoothing (pixels)</source>
        <translation>Grímusléttun (dílar)</translation>
    </message>
    <message>
        <source>Removes specks from the coverage mask.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather width (%)</source>
        <translation>Breidd deyfingar (%)</translation>
    </message>
    <message>
        <source>Width of the faded edge, in percent of the tile&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather steepness</source>
        <translation>Bratti deyfingar</translation>
    </message>
    <message>
        <source>How quickly the edge fades.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Masked below</source>
        <translation>Falið undir</translation>
    </message>
    <message>
        <source>Mask values at or below this count as masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank below</source>
        <translation>Autt undir</translation>
    </message>
    <message>
        <source>Tile pixels whose mask is at or below this are written blank.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank masked pixels</source>
        <translation>Tæma falda díla</translation>
    </message>
    <message>
        <source>Write blank (NaN) where a tile is fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trim empty edges</source>
        <translation>Skera tóma jaðra</translation>
    </message>
    <message>
        <source>Peel tile rows and columns that are almost fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edge trim limit</source>
        <translation>Mörk jaðarskurðar</translation>
    </message>
    <message>
        <source>A row is peeled while less than this fraction is kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debug tiles</source>
        <translation>Flísar til villuleitar</translation>
    </message>
    <message>
        <source>Tile numbers whose alignment is logged in detail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile brightness</source>
        <translation>Jafna birtu flísa</translation>
    </message>
    <message>
        <source>Even out the tiles&apos; brightness where they overlap.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove light pollution</source>
        <translation>Fjarlægja ljósmengun</translation>
    </message>
    <message>
        <source>Subtract the sky gradient left in the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour balance</source>
        <translation>Litajafnvægi</translation>
    </message>
    <message>
        <source>White-balance the mosaic on its stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resampling</source>
        <translation>Endursýnataka</translation>
    </message>
    <message>
        <source>Fast bilinear, or flux-conserving (slower).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile gradients</source>
        <translation>Jafna halla flísa</translation>
    </message>
    <message>
        <source>Also even out a tilt per tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile weight</source>
        <translation>Vægi flísa</translation>
    </message>
    <message>
        <source>Weight tiles by their number of frames, or equally.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disk buffer above (MB)</source>
        <translation>Diskbiðminni frá (MB)</translation>
    </message>
    <message>
        <source>A mosaic larger than this is assembled on disk.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest mosaic (MB)</source>
        <translation>Stærsta mósaík (MB)</translation>
    </message>
    <message>
        <source>Stop before building a mosaic that needs more memory (0: no limit).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Least filled mosaic</source>
        <translation>Minnsta fylling mósaíkur</translation>
    </message>
    <message>
        <source>Stop when the tiles fill less than this fraction of the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allow a sparse mosaic</source>
        <translation>Leyfa gisna mósaík</translation>
    </message>
    <message>
        <source>Build it even when it is mostly empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour star catalogue</source>
        <translation>Litaskrá stjarna</translation>
    </message>
    <message>
        <source>A table of star colours for the balance (empty: the average star).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (pixels)</source>
        <translation>Netflísastærð (dílar)</translation>
    </message>
    <message>
        <source>Side of a grid tile (0: from the frame size).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (frames)</source>
        <translation>Netflísastærð (myndir)</translation>
    </message>
    <message>
        <source>Grid tile side as a multiple of a frame&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid overlap</source>
        <translation>Skörun nets</translation>
    </message>
    <message>
        <source>Overlap between neighbouring grid tiles (fraction).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid frame threshold</source>
        <translation>Myndaþröskuldur nets</translation>
    </message>
    <message>
        <source>A frame joins a grid tile covering at least this fraction.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chunk size (pixels)</source>
        <translation>Svæðisstærð (dílar)</translation>
    </message>
    <message>
        <source>Side of the sky regions stacked one at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session gap (hours)</source>
        <translation>Bil milli lota (klst.)</translation>
    </message>
    <message>
        <source>Frames further apart in time are stacked as separate sessions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export for image editors</source>
        <translation>Útflutningur fyrir myndvinnslu</translation>
    </message>
    <message>
        <source>Also write 16-bit TIFF or PNG, or 32-bit TIFF.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stretch the exports</source>
        <translation>Teygja útflutning</translation>
    </message>
    <message>
        <source>Apply the preview&apos;s stretch (off: linear).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Files for other software</source>
        <translation>Skrár fyrir önnur forrit</translation>
    </message>
    <message>
        <source>Also write the mosaic as Siril, PixInsight, astropy or SWarp expect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Framing</source>
        <translation>Afmörkun</translation>
    </message>
    <message>
        <source>Keep the whole grid, trim empty borders, or cut the largest full rectangle.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a preview picture</source>
        <translation>Skrifa forskoðunarmynd</translation>
    </message>
    <message>
        <source>Save mosaic_preview.png.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep the master tiles</source>
        <translation>Halda aðalflísum</translation>
    </message>
    <message>
        <source>Keep master_tiles/ in the output folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel values</source>
        <translation>Dílagildi</translation>
    </message>
    <message>
        <source>The frames&apos; ADU, or scaled to peak at 1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Empty pixels</source>
        <translation>Tómir dílar</translation>
    </message>
    <message>
        <source>Value written where nothing was covered (nan or a number).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Sjálfvirkt</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Aðalflísar</translation>
    </message>
    <message>
        <source>Regular grid</source>
        <translation>Reglulegt net</translation>
    </message>
    <message>
        <source>Mosaic first (SDS)</source>
        <translation>Mósaík fyrst (SDS)</translation>
    </message>
    <message>
        <source>Header, else plate solve</source>
        <translation>Haus, annars hnitun</translation>
    </message>
    <message>
        <source>Header only</source>
        <translation>Aðeins haus</translation>
    </message>
    <message>
        <source>Always plate solve</source>
        <translation>Alltaf hnita</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Ekkert</translation>
    </message>
    <message>
        <source>astrometry.net (built in)</source>
        <translation>astrometry.net (innbyggt)</translation>
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
        <translation>Allar myndir nema ein</translation>
    </message>
    <message>
        <source>Fraction only</source>
        <translation>Aðeins hlutfall</translation>
    </message>
    <message>
        <source>By number of frames</source>
        <translation>Eftir fjölda mynda</translation>
    </message>
    <message>
        <source>Automatic (Alt-Az frames)</source>
        <translation>Sjálfvirkt (Alt-Az myndir)</translation>
    </message>
    <message>
        <source>On</source>
        <translation>Kveikt</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Slökkt</translation>
    </message>
    <message>
        <source>Plane (lower envelope)</source>
        <translation>Flötur (neðri hjúpur)</translation>
    </message>
    <message>
        <source>From the frames&apos; rotation (default)</source>
        <translation>Út frá snúningi myndanna (sjálfgefið)</translation>
    </message>
    <message>
        <source>Curved surface</source>
        <translation>Boginn flötur</translation>
    </message>
    <message>
        <source>None (sensor balance)</source>
        <translation>Ekkert (jafnvægi nemans)</translation>
    </message>
    <message>
        <source>On the stars</source>
        <translation>Á stjörnunum</translation>
    </message>
    <message>
        <source>Bilinear (fast)</source>
        <translation>Tvílínuleg (hröð)</translation>
    </message>
    <message>
        <source>Flux-conserving</source>
        <translation>Flæðisvarðveitandi</translation>
    </message>
    <message>
        <source>Whole grid</source>
        <translation>Allt netið</translation>
    </message>
    <message>
        <source>Trim empty borders</source>
        <translation>Skera tóma jaðra</translation>
    </message>
    <message>
        <source>Largest full rectangle</source>
        <translation>Stærsti fulli rétthyrningur</translation>
    </message>
    <message>
        <source>Sigma clipping</source>
        <translation>Sigma-klipping</translation>
    </message>
    <message>
        <source>Winsorised sigma clipping</source>
        <translation>Winsor sigma-klipping</translation>
    </message>
    <message>
        <source>Linear fit clipping</source>
        <translation>Klipping með línulegri aðlögun</translation>
    </message>
    <message>
        <source>Equal</source>
        <translation>Jafnt</translation>
    </message>
    <message>
        <source>By noise</source>
        <translation>Eftir suði</translation>
    </message>
    <message>
        <source>By noise and sharpness</source>
        <translation>Eftir suði og skerpu</translation>
    </message>
    <message>
        <source>Additive</source>
        <translation>Samlagning</translation>
    </message>
    <message>
        <source>Multiplicative</source>
        <translation>Margföldun</translation>
    </message>
    <message>
        <source>Linear fit</source>
        <translation>Línuleg aðlögun</translation>
    </message>
    <message>
        <source>Sky surface match</source>
        <translation>Jöfnun himinflatar</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>Meðaltal</translation>
    </message>
    <message>
        <source>Median</source>
        <translation>Miðgildi</translation>
    </message>
    <message>
        <source>The group&apos;s sky</source>
        <translation>Himinn hópsins</translation>
    </message>
    <message>
        <source>The reference frame</source>
        <translation>Viðmiðunarmyndin</translation>
    </message>
    <message>
        <source>Edge-aware</source>
        <translation>Jaðarnæm</translation>
    </message>
    <message>
        <source>Bilinear</source>
        <translation>Tvílínuleg</translation>
    </message>
    <message>
        <source>One per field</source>
        <translation>Ein á svið</translation>
    </message>
    <message>
        <source>Every frame</source>
        <translation>Hver mynd</translation>
    </message>
    <message>
        <source>ADU (linear)</source>
        <translation>ADU (línulegt)</translation>
    </message>
    <message>
        <source>Peak at 1</source>
        <translation>Hámark í 1</translation>
    </message>
    <message>
        <source>Seestar Alt-Az</source>
        <translation>Seestar Alt-Az</translation>
    </message>
    <message>
        <source>Seestar equatorial</source>
        <translation>Seestar miðbaugs</translation>
    </message>
    <message>
        <source>Quick look</source>
        <translation>Fljótleg skoðun</translation>
    </message>
    <message>
        <source>Best quality</source>
        <translation>Bestu gæði</translation>
    </message>
    <message>
        <source>on</source>
        <translation>kveikt</translation>
    </message>
    <message>
        <source>off</source>
        <translation>slökkt</translation>
    </message>
    <message>
        <source>Colour from raw frames</source>
        <translation>Litur úr hráum myndum</translation>
    </message>
    <message>
        <source>Drizzle sampling</source>
        <translation>Drizzle-sýnataka</translation>
    </message>
    <message>
        <source>Drizzle drop size</source>
        <translation>Dropastærð drizzle</translation>
    </message>
    <message>
        <source>By frames under each pixel</source>
        <translation>Eftir myndum undir hverjum díl</translation>
    </message>
    <message>
        <source>Lanczos-3 (sharp stars)</source>
        <translation>Lanczos-3 (skarpar stjörnur)</translation>
    </message>
    <message>
        <source>Debayer then stack</source>
        <translation>Afbayera, svo stafla</translation>
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
        <translation>Sýna sérfræðistillingar</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>Forstilling</translation>
    </message>
    <message>
        <source>(choose a preset)</source>
        <translation>(veldu forstillingu)</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>Beita</translation>
    </message>
    <message>
        <source>Set the keys listed below; every other setting is kept.</source>
        <translation>Stillir lyklana hér fyrir neðan; öðrum stillingum er haldið.</translation>
    </message>
    <message>
        <source>A preset sets several settings at once; choose one to see which.</source>
        <translation>Forstilling breytir nokkrum stillingum í einu; veldu eina til að sjá hverjum.</translation>
    </message>
    <message>
        <source>Sets:</source>
        <translation>Stillir:</translation>
    </message>
</context>
<context>
    <name>TileGallery</name>
    <message>
        <source>no overlay</source>
        <translation>engin yfirlögn</translation>
    </message>
    <message>
        <source>ALPHA (red: feathered out)</source>
        <translation>ALPHA (rautt: deyft út)</translation>
    </message>
    <message>
        <source>COVERAGE (blue: few frames, yellow: most)</source>
        <translation>ÞEKJA (blátt: fáar myndir, gult: flestar)</translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation>Yfirlögn</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>flís %1</translation>
    </message>
</context>
</TS>
