<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="pl_PL">
<context>
    <name>Frames</name>
    <message>
        <source>WCS in header</source>
        <translation>WCS w nagłówku</translation>
    </message>
    <message>
        <source>to plate-solve (pointing known)</source>
        <translation>do rozwiązania (kierunek znany)</translation>
    </message>
    <message>
        <source>to plate-solve (no pointing)</source>
        <translation>do rozwiązania (brak kierunku)</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>nieczytelna</translation>
    </message>
    <message>
        <source>kept</source>
        <translation>zachowana</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>odrzucona</translation>
    </message>
    <message>
        <source>excluded</source>
        <translation>wykluczona</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Plik</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Czas</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Kafel</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>Położenie</translation>
    </message>
    <message>
        <source>Stars</source>
        <translation>Gwiazdy</translation>
    </message>
    <message>
        <source>FWHM (px)</source>
        <translation>FWHM (px)</translation>
    </message>
    <message>
        <source>Elongation</source>
        <translation>Wydłużenie</translation>
    </message>
    <message>
        <source>Sky (ADU)</source>
        <translation>Niebo (ADU)</translation>
    </message>
    <message>
        <source>Transparency</source>
        <translation>Przejrzystość</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>Waga</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Decyzja</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Powód</translation>
    </message>
    <message>
        <source>Use</source>
        <translation>Użyj</translation>
    </message>
    <message>
        <source>Choose an input folder: the frames appear here before any run.</source>
        <translation>Wybierz folder wejściowy: klatki pojawią się tutaj przed przetwarzaniem.</translation>
    </message>
    <message>
        <source>tile %1: click to list its frames</source>
        <translation>kafel %1: kliknij, aby pokazać jego klatki</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>kafel %1</translation>
    </message>
</context>
<context>
    <name>FramesTab</name>
    <message>
        <source>Measure frames</source>
        <translation>Zmierz klatki</translation>
    </message>
    <message>
        <source>Measure every frame&apos;s quality as a run would (zemosaic inspect), without stacking</source>
        <translation>Zmierz jakość każdej klatki jak przetwarzanie (zemosaic inspect), bez stakowania</translation>
    </message>
    <message>
        <source>Rejected only</source>
        <translation>Tylko odrzucone</translation>
    </message>
    <message>
        <source>all tiles</source>
        <translation>wszystkie kafle</translation>
    </message>
    <message>
        <source>Thumbnail</source>
        <translation>Miniatura</translation>
    </message>
    <message>
        <source>Show the selected frame</source>
        <translation>Pokaż wybraną klatkę</translation>
    </message>
    <message>
        <source>No frames measured yet: choose the input folder, then Measure frames.</source>
        <translation>Nie zmierzono jeszcze klatek: wybierz folder wejściowy, potem Zmierz klatki.</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Kafel</translation>
    </message>
    <message>
        <source>Measuring the frames of %1...</source>
        <translation>Mierzenie klatek z %1…</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>kafel %1</translation>
    </message>
    <message>
        <source>%1 frames in %2 tile groups: %3 kept, %4 rejected by the quality rules. Untick a frame to leave it out of the run.</source>
        <translation>%1 klatek w %2 grupach kafli: %3 zachowanych, %4 odrzuconych przez reguły jakości. Odznacz klatkę, aby pominąć ją w przetwarzaniu.</translation>
    </message>
    <message>
        <source>Unreadable: %1.</source>
        <translation>Nieczytelne: %1.</translation>
    </message>
    <message>
        <source>Measuring frame %1 of %2...</source>
        <translation>Mierzenie klatki %1 z %2…</translation>
    </message>
    <message>
        <source>The frames could not be measured: %1</source>
        <translation>Nie udało się zmierzyć klatek: %1</translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>all tags</source>
        <translation>wszystkie znaczniki</translation>
    </message>
    <message>
        <source>filter text</source>
        <translation>filtruj tekst</translation>
    </message>
    <message>
        <source>Wrap lines</source>
        <translation>Zawijaj wiersze</translation>
    </message>
    <message>
        <source>Level at least</source>
        <translation>Poziom co najmniej</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>Znacznik</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Generating the demo dataset in %1...</source>
        <translation>Tworzenie danych demonstracyjnych w %1…</translation>
    </message>
    <message>
        <source>ZeMosaic</source>
        <translation>ZeMosaic</translation>
    </message>
    <message>
        <source>folder of raw FITS frames (never modified)</source>
        <translation>folder surowych klatek FITS (nigdy nie zmieniane)</translation>
    </message>
    <message>
        <source>folder for the mosaic, master tiles and report</source>
        <translation>folder na mozaikę, kafle główne i raport</translation>
    </message>
    <message>
        <source>refuse</source>
        <translation>odmów</translation>
    </message>
    <message>
        <source>overwrite earlier outputs</source>
        <translation>nadpisz wcześniejsze wyniki</translation>
    </message>
    <message>
        <source>resume (reuse finished tiles)</source>
        <translation>wznów (użyj gotowych kafli)</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>Foldery</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Wejście</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Wyjście</translation>
    </message>
    <message>
        <source>Browse...</source>
        <translation>Przeglądaj…</translation>
    </message>
    <message>
        <source>If the output folder is not empty</source>
        <translation>Jeśli folder wyjściowy nie jest pusty</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Uruchom</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Anuluj</translation>
    </message>
    <message>
        <source>Load settings...</source>
        <translation>Wczytaj ustawienia…</translation>
    </message>
    <message>
        <source>Save settings...</source>
        <translation>Zapisz ustawienia…</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>Otwórz folder wyjściowy</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Klatki</translation>
    </message>
    <message>
        <source>Sky map</source>
        <translation>Mapa nieba</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Kafle główne</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mozaika</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Podsumowanie</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Dziennik</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Postęp</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Gotowe</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>Anulowanie…</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Plik</translation>
    </message>
    <message>
        <source>Choose the &amp;input folder...</source>
        <translation>Wybierz folder &amp;wejściowy…</translation>
    </message>
    <message>
        <source>&amp;Recent input folders</source>
        <translation>&amp;Ostatnie foldery wejściowe</translation>
    </message>
    <message>
        <source>Choose the &amp;output folder...</source>
        <translation>Wybierz folder w&amp;yjściowy…</translation>
    </message>
    <message>
        <source>&amp;Load settings...</source>
        <translation>Wc&amp;zytaj ustawienia…</translation>
    </message>
    <message>
        <source>&amp;Save settings...</source>
        <translation>&amp;Zapisz ustawienia…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>Za&amp;kończ</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>&amp;Przetwarzanie</translation>
    </message>
    <message>
        <source>&amp;Measure frames</source>
        <translation>&amp;Zmierz klatki</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Uruchom</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>&amp;Anuluj</translation>
    </message>
    <message>
        <source>&amp;Open the output folder</source>
        <translation>&amp;Otwórz folder wyjściowy</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Widok</translation>
    </message>
    <message>
        <source>&amp;Dark theme (next start)</source>
        <translation>&amp;Ciemny motyw (od następnego uruchomienia)</translation>
    </message>
    <message>
        <source>&amp;Language (next start)</source>
        <translation>&amp;Język (od następnego uruchomienia)</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Język systemu</translation>
    </message>
    <message>
        <source>The language changes at the next start.</source>
        <translation>Język zmieni się przy następnym uruchomieniu.</translation>
    </message>
    <message>
        <source>Settings: %1</source>
        <translation>Ustawienia: %1</translation>
    </message>
    <message>
        <source>Running...</source>
        <translation>Przetwarzanie…</translation>
    </message>
    <message>
        <source>The output folder does not exist yet.</source>
        <translation>Folder wyjściowy jeszcze nie istnieje.</translation>
    </message>
    <message>
        <source>Settings loaded from %1</source>
        <translation>Ustawienia wczytane z %1</translation>
    </message>
    <message>
        <source>Settings saved to %1</source>
        <translation>Ustawienia zapisane w %1</translation>
    </message>
    <message>
        <source>Choose the input folder first.</source>
        <translation>Najpierw wybierz folder wejściowy.</translation>
    </message>
    <message>
        <source>Finished: %1 tiles, %2 frames used</source>
        <translation>Zakończono: %1 kafli, użyto %2 klatek</translation>
    </message>
    <message>
        <source>Run cancelled: %1. Temporary files were removed; finished master tiles are kept (choose Resume to reuse them).</source>
        <translation>Przetwarzanie anulowane: %1. Pliki tymczasowe usunięto; gotowe kafle główne zachowano (wybierz Wznów, aby ich użyć).</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>Przetwarzanie nie powiodło się: %1</translation>
    </message>
    <message>
        <source>Stopped (%1)</source>
        <translation>Zatrzymano (%1)</translation>
    </message>
    <message>
        <source>file</source>
        <translation>plik</translation>
    </message>
    <message>
        <source>frames used</source>
        <translation>użyte klatki</translation>
    </message>
    <message>
        <source>coverage</source>
        <translation>pokrycie</translation>
    </message>
    <message>
        <source>Rejected inputs</source>
        <translation>Odrzucone wejścia</translation>
    </message>
    <message>
        <source>none</source>
        <translation>brak</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Szczegóły</translation>
    </message>
    <message>
        <source>Input folder (FITS frames)</source>
        <translation>Folder wejściowy (klatki FITS)</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>Folder wyjściowy</translation>
    </message>
    <message>
        <source>Load settings</source>
        <translation>Wczytaj ustawienia</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Save settings</source>
        <translation>Zapisz ustawienia</translation>
    </message>
</context>
<context>
    <name>MosaicPreview</name>
    <message>
        <source>The mosaic appears here when a run has finished.</source>
        <translation>Mozaika pojawi się tutaj po zakończeniu przetwarzania.</translation>
    </message>
    <message>
        <source>Linked channels</source>
        <translation>Kanały połączone</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>Auto</translation>
    </message>
    <message>
        <source>Black point just below the sky, the sky at a quarter of the range</source>
        <translation>Punkt czerni tuż pod niebem, niebo w ćwierci zakresu</translation>
    </message>
    <message>
        <source>Tile outlines</source>
        <translation>Obrysy kafli</translation>
    </message>
    <message>
        <source>Export view...</source>
        <translation>Eksportuj widok…</translation>
    </message>
    <message>
        <source>Save the mosaic at full resolution with this stretch (PNG, or 16-bit TIFF)</source>
        <translation>Zapisz mozaikę w pełnej rozdzielczości z tym rozciągnięciem (PNG lub 16-bitowy TIFF)</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Kanał</translation>
    </message>
    <message>
        <source>Black</source>
        <translation>Czerń</translation>
    </message>
    <message>
        <source>Midtones</source>
        <translation>Półtony</translation>
    </message>
    <message>
        <source>White</source>
        <translation>Biel</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Dopasuj</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>1:1</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>Powiększ</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>Pomniejsz</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>Nie można odczytać %1: %2</translation>
    </message>
    <message>
        <source>x %1  y %2   RA %3  Dec %4   value %5   weight %6   tiles covering %7</source>
        <translation>x %1  y %2   RA %3  Dec %4   wartość %5   waga %6   kafle %7</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>kafel %1</translation>
    </message>
    <message>
        <source>Export view</source>
        <translation>Eksportuj widok</translation>
    </message>
    <message>
        <source>PNG (*.png);;16-bit TIFF (*.tif)</source>
        <translation>PNG (*.png);;16-bitowy TIFF (*.tif)</translation>
    </message>
</context>
<context>
    <name>PhaseProgress</name>
    <message>
        <source>Demo data</source>
        <translation>Dane demonstracyjne</translation>
    </message>
    <message>
        <source>Phase 1: scan</source>
        <translation>Faza 1: przegląd</translation>
    </message>
    <message>
        <source>Phase 1b: plate solving</source>
        <translation>Faza 1b: astrometria</translation>
    </message>
    <message>
        <source>Frames on the global grid</source>
        <translation>Klatki na siatce globalnej</translation>
    </message>
    <message>
        <source>Phase 3: master tiles</source>
        <translation>Faza 3: kafle główne</translation>
    </message>
    <message>
        <source>SDS: sky chunks</source>
        <translation>SDS: obszary nieba</translation>
    </message>
    <message>
        <source>  align (current tile)</source>
        <translation>  wyrównanie (bieżący kafel)</translation>
    </message>
    <message>
        <source>  stack (current tile)</source>
        <translation>  stakowanie (bieżący kafel)</translation>
    </message>
    <message>
        <source>Phase 5: assembly</source>
        <translation>Faza 5: składanie</translation>
    </message>
    <message>
        <source>Progress appears here when a run starts.</source>
        <translation>Postęp pojawi się tutaj po rozpoczęciu przetwarzania.</translation>
    </message>
    <message>
        <source>Whole run</source>
        <translation>Całe przetwarzanie</translation>
    </message>
    <message>
        <source>done</source>
        <translation>gotowe</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>zostało %1</translation>
    </message>
    <message>
        <source>done in %1</source>
        <translation>gotowe w %1</translation>
    </message>
    <message>
        <source>about %1 left</source>
        <translation>zostało około %1</translation>
    </message>
    <message>
        <source>estimating...</source>
        <translation>szacowanie…</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Input</source>
        <translation>Wejście</translation>
    </message>
    <message>
        <source>Plate solving</source>
        <translation>Astrometria</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Klatki</translation>
    </message>
    <message>
        <source>Stacking</source>
        <translation>Stakowanie</translation>
    </message>
    <message>
        <source>Tiles and mask</source>
        <translation>Kafle i maska</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mozaika</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Wyjście</translation>
    </message>
    <message>
        <source>How to build the mosaic</source>
        <translation>Budowa mozaiki</translation>
    </message>
    <message>
        <source>Master tiles (default), a regular grid, or frames stacked straight onto the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder holds master tiles</source>
        <translation>Folder zawiera kafle główne</translation>
    </message>
    <message>
        <source>Use finished master tiles as they are: no scan, grouping or stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Look in subfolders too</source>
        <translation>Szukaj też w podfolderach</translation>
    </message>
    <message>
        <source>Also take the frames of the input folder&apos;s subfolders.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel-scale tolerance</source>
        <translation>Tolerancja skali</translation>
    </message>
    <message>
        <source>Reject a frame whose scale differs this much (fraction) from its group&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame positions from</source>
        <translation>Położenie klatek z</translation>
    </message>
    <message>
        <source>The header&apos;s astrometry when present, else a plate solve; or always one of them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate solver</source>
        <translation>Solwer astrometryczny</translation>
    </message>
    <message>
        <source>Which installed solver finds where each frame points.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search radius (degrees)</source>
        <translation>Promień wyszukiwania (stopnie)</translation>
    </message>
    <message>
        <source>How far around the telescope&apos;s pointing the solver looks.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP program</source>
        <translation>Program ASTAP</translation>
    </message>
    <message>
        <source>Where ASTAP is installed (empty: found automatically).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Index folders</source>
        <translation>Foldery indeksów</translation>
    </message>
    <message>
        <source>Folders of astrometry.net index files (empty: the usual places).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP star database</source>
        <translation>Baza gwiazd ASTAP</translation>
    </message>
    <message>
        <source>Folder of ASTAP&apos;s star database (empty: ASTAP&apos;s default).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time limit per solve (s)</source>
        <translation>Limit czasu rozwiązania (s)</translation>
    </message>
    <message>
        <source>Longest time one plate solve may take.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blind-solve budget (s)</source>
        <translation>Budżet rozwiązywania na ślepo (s)</translation>
    </message>
    <message>
        <source>Time a run may spend on frames with no pointing in their header.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel scale hint (arcsec)</source>
        <translation>Podpowiedź skali (sekundy łuku)</translation>
    </message>
    <message>
        <source>Pixel scale for frames whose header gives none (0: search widely).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Solve each frame or each field</source>
        <translation>Rozwiązuj każdą klatkę lub każde pole</translation>
    </message>
    <message>
        <source>Solve every frame, or one per field and carry it to the others.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate-solution cache</source>
        <translation>Pamięć podręczna rozwiązań</translation>
    </message>
    <message>
        <source>Folder of saved solutions, reusable between runs (empty: in the output folder).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write .wcs files</source>
        <translation>Zapisuj pliki .wcs</translation>
    </message>
    <message>
        <source>Also save each frame&apos;s solution as a .wcs file in the output.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reject poor frames</source>
        <translation>Odrzucaj słabe klatki</translation>
    </message>
    <message>
        <source>Leave out frames that fail a quality rule; the reason is reported.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quality rules</source>
        <translation>Reguły jakości</translation>
    </message>
    <message>
        <source>Which measures may reject a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cut clouds and obstacles</source>
        <translation>Wycinaj chmury i przeszkody</translation>
    </message>
    <message>
        <source>Leave out only the dimmed part of a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frames never stacked</source>
        <translation>Klatki nigdy nie stakowane</translation>
    </message>
    <message>
        <source>A file naming frames to leave out (the Frames tab writes one).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (sigmas)</source>
        <translation>Granica rozmycia (sigma)</translation>
    </message>
    <message>
        <source>Reject stars blurrier than the group&apos;s by this many sigmas (0: off).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (pixels)</source>
        <translation>Granica rozmycia (piksele)</translation>
    </message>
    <message>
        <source>Reject frames whose star size exceeds this (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit (sigmas)</source>
        <translation>Granica smużenia (sigma)</translation>
    </message>
    <message>
        <source>Reject stars more elongated than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit</source>
        <translation>Granica smużenia</translation>
    </message>
    <message>
        <source>Reject frames whose stars are more elongated than this.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transparency limit (sigmas)</source>
        <translation>Granica przejrzystości (sigma)</translation>
    </message>
    <message>
        <source>Reject frames dimmer than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lowest transparency</source>
        <translation>Najniższa przejrzystość</translation>
    </message>
    <message>
        <source>Reject frames keeping less than this fraction of the star light.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (sigmas)</source>
        <translation>Granica jasnego nieba (sigma)</translation>
    </message>
    <message>
        <source>Reject frames whose sky is brighter than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (ratio)</source>
        <translation>Granica jasnego nieba (stosunek)</translation>
    </message>
    <message>
        <source>Reject frames whose sky exceeds this many times the group&apos;s (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star-count limit (sigmas)</source>
        <translation>Granica liczby gwiazd (sigma)</translation>
    </message>
    <message>
        <source>Reject frames with fewer stars than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest stars (ratio)</source>
        <translation>Najmniej gwiazd (stosunek)</translation>
    </message>
    <message>
        <source>Reject frames with fewer than this fraction of the group&apos;s stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region transparency limit</source>
        <translation>Granica przejrzystości obszaru</translation>
    </message>
    <message>
        <source>A region keeping less than this fraction of the star light is left out.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest part left out</source>
        <translation>Największa pominięta część</translation>
    </message>
    <message>
        <source>A frame losing more than this fraction is rejected whole.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region size (pixels)</source>
        <translation>Rozmiar obszaru (piksele)</translation>
    </message>
    <message>
        <source>Size of the regions judged for clouds and obstacles.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outlier rejection</source>
        <translation>Odrzucanie odstających</translation>
    </message>
    <message>
        <source>How satellite trails, planes and hot pixels are removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Low rejection (sigma)</source>
        <translation>Dolne odrzucanie (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far below the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>High rejection (sigma)</source>
        <translation>Górne odrzucanie (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far above the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame weights</source>
        <translation>Wagi klatek</translation>
    </message>
    <message>
        <source>How much each frame counts in the stack.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame normalisation</source>
        <translation>Normalizacja klatek</translation>
    </message>
    <message>
        <source>How each frame&apos;s sky is matched to the reference before stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Combine with</source>
        <translation>Łącz przez</translation>
    </message>
    <message>
        <source>Weighted mean (less noise) or median.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tiles at the same time</source>
        <translation>Kafle jednocześnie</translation>
    </message>
    <message>
        <source>Master tiles built in parallel (0: one per core).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the graphics card</source>
        <translation>Użyj karty graficznej</translation>
    </message>
    <message>
        <source>Stack on an NVIDIA GPU when one is available.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Winsorisation limits</source>
        <translation>Granice winsoryzacji</translation>
    </message>
    <message>
        <source>Low and high fractions clipped by winsorised rejection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stacking memory (MB)</source>
        <translation>Pamięć stakowania (MB)</translation>
    </message>
    <message>
        <source>Memory one stack may use at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debayering</source>
        <translation>Debayeryzacja</translation>
    </message>
    <message>
        <source>How colour is rebuilt from the sensor&apos;s Bayer pattern.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star detection threshold</source>
        <translation>Próg wykrywania gwiazd</translation>
    </message>
    <message>
        <source>How far above the sky (in sigmas) a star must rise.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Smallest star (pixels)</source>
        <translation>Najmniejsza gwiazda (piksele)</translation>
    </message>
    <message>
        <source>Fewest connected pixels that make a star.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stars matched</source>
        <translation>Dopasowane gwiazdy</translation>
    </message>
    <message>
        <source>Most stars used to align two frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sky matching order</source>
        <translation>Rząd dopasowania nieba</translation>
    </message>
    <message>
        <source>Shape of the sky difference removed per frame (0: flat, 1: tilt...).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flatten the reference</source>
        <translation>Spłaszcz referencję</translation>
    </message>
    <message>
        <source>Also remove the reference frame&apos;s own gradient.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flattening order</source>
        <translation>Rząd spłaszczania</translation>
    </message>
    <message>
        <source>Shape of that gradient (a plane keeps large nebulae).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory for parallel tiles (MB)</source>
        <translation>Pamięć na kafle równoległe (MB)</translation>
    </message>
    <message>
        <source>Memory the tiles built together may take (0: 3/4 of the free memory).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cluster</source>
        <translation>Klaster</translation>
    </message>
    <message>
        <source>Build tiles on a dask cluster: empty (this computer), local, or an address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Alt-Az edge cleanup</source>
        <translation>Czyszczenie krawędzi Alt-Az</translation>
    </message>
    <message>
        <source>Fade out tile edges that too few frames cover (on for Alt-Az mounts).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the frame count</source>
        <translation>Użyj liczby klatek</translation>
    </message>
    <message>
        <source>Decide the edges from how many frames cover each pixel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per pixel</source>
        <translation>Najmniej klatek na piksel</translation>
    </message>
    <message>
        <source>A kept pixel needs at least this many frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames (fraction)</source>
        <translation>Najmniej klatek (ułamek)</translation>
    </message>
    <message>
        <source>Or this fraction of the tile&apos;s best coverage.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Crop bad borders</source>
        <translation>Przytnij złe krawędzie</translation>
    </message>
    <message>
        <source>Crop dark or colour-cast bands at the tile edges.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile size</source>
        <translation>Rozmiar kafla</translation>
    </message>
    <message>
        <source>A tile covers the whole group&apos;s sky, or only its reference frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grouping distance</source>
        <translation>Odległość grupowania</translation>
    </message>
    <message>
        <source>Frames closer than this fraction of a field share a tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep mount types apart</source>
        <translation>Nie mieszaj typów montażu</translation>
    </message>
    <message>
        <source>Never mix Alt-Az and equatorial frames in one tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Most frames per tile</source>
        <translation>Najwięcej klatek na kafel</translation>
    </message>
    <message>
        <source>Larger groups are split in time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per tile</source>
        <translation>Najmniej klatek na kafel</translation>
    </message>
    <message>
        <source>Smaller groups are skipped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Separate target distance</source>
        <translation>Odległość innego celu</translation>
    </message>
    <message>
        <source>Groups farther than this many fields are another target.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Small groups</source>
        <translation>Małe grupy</translation>
    </message>
    <message>
        <source>How the frame count limit meets a tile of few frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mask smoothing (pixels)</source>
        <translation>Wygładzanie maski (piksele)</translation>
    </message>
    <message>
        <source>Removes specks from the coverage mask.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather width (%)</source>
        <translation>Szerokość przejścia (%)</translation>
    </message>
    <message>
        <source>Width of the faded edge, in percent of the tile&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather steepness</source>
        <translation>Stromość przejścia</translation>
    </message>
    <message>
        <source>How quickly the edge fades.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Masked below</source>
        <translation>Zamaskowane poniżej</translation>
    </message>
    <message>
        <source>Mask values at or below this count as masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank below</source>
        <translation>Puste poniżej</translation>
    </message>
    <message>
        <source>Tile pixels whose mask is at or below this are written blank.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank masked pixels</source>
        <translation>Opróżnij zamaskowane piksele</translation>
    </message>
    <message>
        <source>Write blank (NaN) where a tile is fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trim empty edges</source>
        <translation>Przytnij puste krawędzie</translation>
    </message>
    <message>
        <source>Peel tile rows and columns that are almost fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edge trim limit</source>
        <translation>Granica przycinania krawędzi</translation>
    </message>
    <message>
        <source>A row is peeled while less than this fraction is kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debug tiles</source>
        <translation>Kafle do debugowania</translation>
    </message>
    <message>
        <source>Tile numbers whose alignment is logged in detail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile brightness</source>
        <translation>Wyrównaj jasność kafli</translation>
    </message>
    <message>
        <source>Even out the tiles&apos; brightness where they overlap.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove light pollution</source>
        <translation>Usuń zanieczyszczenie światłem</translation>
    </message>
    <message>
        <source>Subtract the sky gradient left in the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour balance</source>
        <translation>Balans kolorów</translation>
    </message>
    <message>
        <source>White-balance the mosaic on its stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resampling</source>
        <translation>Przepróbkowanie</translation>
    </message>
    <message>
        <source>Fast bilinear, or flux-conserving (slower).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile gradients</source>
        <translation>Wyrównaj gradienty kafli</translation>
    </message>
    <message>
        <source>Also even out a tilt per tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile weight</source>
        <translation>Waga kafla</translation>
    </message>
    <message>
        <source>Weight tiles by their number of frames, or equally.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disk buffer above (MB)</source>
        <translation>Bufor dyskowy od (MB)</translation>
    </message>
    <message>
        <source>A mosaic larger than this is assembled on disk.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest mosaic (MB)</source>
        <translation>Największa mozaika (MB)</translation>
    </message>
    <message>
        <source>Stop before building a mosaic that needs more memory (0: no limit).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Least filled mosaic</source>
        <translation>Najmniejsze wypełnienie mozaiki</translation>
    </message>
    <message>
        <source>Stop when the tiles fill less than this fraction of the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allow a sparse mosaic</source>
        <translation>Zezwól na rzadką mozaikę</translation>
    </message>
    <message>
        <source>Build it even when it is mostly empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour star catalogue</source>
        <translation>Katalog kolorów gwiazd</translation>
    </message>
    <message>
        <source>A table of star colours for the balance (empty: the average star).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (pixels)</source>
        <translation>Rozmiar kafla siatki (piksele)</translation>
    </message>
    <message>
        <source>Side of a grid tile (0: from the frame size).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (frames)</source>
        <translation>Rozmiar kafla siatki (klatki)</translation>
    </message>
    <message>
        <source>Grid tile side as a multiple of a frame&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid overlap</source>
        <translation>Nakładanie siatki</translation>
    </message>
    <message>
        <source>Overlap between neighbouring grid tiles (fraction).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid frame threshold</source>
        <translation>Próg klatki siatki</translation>
    </message>
    <message>
        <source>A frame joins a grid tile covering at least this fraction.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chunk size (pixels)</source>
        <translation>Rozmiar obszaru (piksele)</translation>
    </message>
    <message>
        <source>Side of the sky regions stacked one at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session gap (hours)</source>
        <translation>Odstęp sesji (godziny)</translation>
    </message>
    <message>
        <source>Frames further apart in time are stacked as separate sessions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export for image editors</source>
        <translation>Eksport dla edytorów obrazów</translation>
    </message>
    <message>
        <source>Also write 16-bit TIFF or PNG, or 32-bit TIFF.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stretch the exports</source>
        <translation>Rozciągaj eksporty</translation>
    </message>
    <message>
        <source>Apply the preview&apos;s stretch (off: linear).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Files for other software</source>
        <translation>Pliki dla innych programów</translation>
    </message>
    <message>
        <source>Also write the mosaic as Siril, PixInsight, astropy or SWarp expect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Framing</source>
        <translation>Kadrowanie</translation>
    </message>
    <message>
        <source>Keep the whole grid, trim empty borders, or cut the largest full rectangle.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a preview picture</source>
        <translation>Zapisz obraz podglądu</translation>
    </message>
    <message>
        <source>Save mosaic_preview.png.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep the master tiles</source>
        <translation>Zachowaj kafle główne</translation>
    </message>
    <message>
        <source>Keep master_tiles/ in the output folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel values</source>
        <translation>Wartości pikseli</translation>
    </message>
    <message>
        <source>The frames&apos; ADU, or scaled to peak at 1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Empty pixels</source>
        <translation>Puste piksele</translation>
    </message>
    <message>
        <source>Value written where nothing was covered (nan or a number).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatycznie</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Kafle główne</translation>
    </message>
    <message>
        <source>Regular grid</source>
        <translation>Regularna siatka</translation>
    </message>
    <message>
        <source>Mosaic first (SDS)</source>
        <translation>Najpierw mozaika (SDS)</translation>
    </message>
    <message>
        <source>Header, else plate solve</source>
        <translation>Nagłówek, inaczej rozwiązanie</translation>
    </message>
    <message>
        <source>Header only</source>
        <translation>Tylko nagłówek</translation>
    </message>
    <message>
        <source>Always plate solve</source>
        <translation>Zawsze rozwiązuj</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Brak</translation>
    </message>
    <message>
        <source>astrometry.net (built in)</source>
        <translation>astrometry.net (wbudowany)</translation>
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
        <translation>Wszystkie klatki oprócz jednej</translation>
    </message>
    <message>
        <source>Fraction only</source>
        <translation>Tylko ułamek</translation>
    </message>
    <message>
        <source>By number of frames</source>
        <translation>Według liczby klatek</translation>
    </message>
    <message>
        <source>Automatic (Alt-Az frames)</source>
        <translation>Automatycznie (klatki Alt-Az)</translation>
    </message>
    <message>
        <source>On</source>
        <translation>Włączone</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Wyłączone</translation>
    </message>
    <message>
        <source>Plane (lower envelope)</source>
        <translation>Płaszczyzna (dolna obwiednia)</translation>
    </message>
    <message>
        <source>From the frames&apos; rotation (default)</source>
        <translation>Z obrotu klatek (domyślnie)</translation>
    </message>
    <message>
        <source>Curved surface</source>
        <translation>Zakrzywiona powierzchnia</translation>
    </message>
    <message>
        <source>None (sensor balance)</source>
        <translation>Brak (balans matrycy)</translation>
    </message>
    <message>
        <source>On the stars</source>
        <translation>Na gwiazdach</translation>
    </message>
    <message>
        <source>Bilinear (fast)</source>
        <translation>Dwuliniowe (szybkie)</translation>
    </message>
    <message>
        <source>Flux-conserving</source>
        <translation>Zachowujące strumień</translation>
    </message>
    <message>
        <source>Whole grid</source>
        <translation>Cała siatka</translation>
    </message>
    <message>
        <source>Trim empty borders</source>
        <translation>Przytnij puste krawędzie</translation>
    </message>
    <message>
        <source>Largest full rectangle</source>
        <translation>Największy pełny prostokąt</translation>
    </message>
    <message>
        <source>Sigma clipping</source>
        <translation>Odcinanie sigma</translation>
    </message>
    <message>
        <source>Winsorised sigma clipping</source>
        <translation>Winsoryzowane odcinanie sigma</translation>
    </message>
    <message>
        <source>Linear fit clipping</source>
        <translation>Odcinanie dopasowaniem liniowym</translation>
    </message>
    <message>
        <source>Equal</source>
        <translation>Równe</translation>
    </message>
    <message>
        <source>By noise</source>
        <translation>Według szumu</translation>
    </message>
    <message>
        <source>By noise and sharpness</source>
        <translation>Według szumu i ostrości</translation>
    </message>
    <message>
        <source>Additive</source>
        <translation>Addytywna</translation>
    </message>
    <message>
        <source>Multiplicative</source>
        <translation>Multiplikatywna</translation>
    </message>
    <message>
        <source>Linear fit</source>
        <translation>Dopasowanie liniowe</translation>
    </message>
    <message>
        <source>Sky surface match</source>
        <translation>Dopasowanie powierzchni nieba</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>Średnia</translation>
    </message>
    <message>
        <source>Median</source>
        <translation>Mediana</translation>
    </message>
    <message>
        <source>The group&apos;s sky</source>
        <translation>Niebo grupy</translation>
    </message>
    <message>
        <source>The reference frame</source>
        <translation>Klatka referencyjna</translation>
    </message>
    <message>
        <source>Edge-aware</source>
        <translation>Z zachowaniem krawędzi</translation>
    </message>
    <message>
        <source>Bilinear</source>
        <translation>Dwuliniowe</translation>
    </message>
    <message>
        <source>One per field</source>
        <translation>Jedna na pole</translation>
    </message>
    <message>
        <source>Every frame</source>
        <translation>Każda klatka</translation>
    </message>
    <message>
        <source>ADU (linear)</source>
        <translation>ADU (liniowe)</translation>
    </message>
    <message>
        <source>Peak at 1</source>
        <translation>Maksimum w 1</translation>
    </message>
    <message>
        <source>Seestar Alt-Az</source>
        <translation>Seestar Alt-Az</translation>
    </message>
    <message>
        <source>Seestar equatorial</source>
        <translation>Seestar paralaktyczny</translation>
    </message>
    <message>
        <source>Quick look</source>
        <translation>Szybki podgląd</translation>
    </message>
    <message>
        <source>Best quality</source>
        <translation>Najlepsza jakość</translation>
    </message>
    <message>
        <source>on</source>
        <translation>wł.</translation>
    </message>
    <message>
        <source>off</source>
        <translation>wył.</translation>
    </message>
    <message>
        <source>Colour from raw frames</source>
        <translation>Kolor z surowych klatek</translation>
    </message>
    <message>
        <source>Drizzle sampling</source>
        <translation>Próbkowanie drizzle</translation>
    </message>
    <message>
        <source>Drizzle drop size</source>
        <translation>Rozmiar kropli drizzle</translation>
    </message>
    <message>
        <source>By frames under each pixel</source>
        <translation>Według klatek pod każdym pikselem</translation>
    </message>
    <message>
        <source>Lanczos-3 (sharp stars)</source>
        <translation>Lanczos-3 (ostre gwiazdy)</translation>
    </message>
    <message>
        <source>Debayer then stack</source>
        <translation>Debayer, potem stos</translation>
    </message>
    <message>
        <source>CFA drizzle</source>
        <translation>Drizzle CFA</translation>
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
        <translation>Pokaż ustawienia eksperckie</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>Ustawienie wstępne</translation>
    </message>
    <message>
        <source>(choose a preset)</source>
        <translation>(wybierz ustawienie wstępne)</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>Zastosuj</translation>
    </message>
    <message>
        <source>Set the keys listed below; every other setting is kept.</source>
        <translation>Ustawia klucze wymienione poniżej; pozostałe ustawienia są zachowane.</translation>
    </message>
    <message>
        <source>A preset sets several settings at once; choose one to see which.</source>
        <translation>Ustawienie wstępne zmienia kilka ustawień naraz; wybierz jedno, aby zobaczyć które.</translation>
    </message>
    <message>
        <source>Sets:</source>
        <translation>Ustawia:</translation>
    </message>
</context>
<context>
    <name>TileGallery</name>
    <message>
        <source>no overlay</source>
        <translation>bez nakładki</translation>
    </message>
    <message>
        <source>ALPHA (red: feathered out)</source>
        <translation>ALPHA (czerwony: wygaszony)</translation>
    </message>
    <message>
        <source>COVERAGE (blue: few frames, yellow: most)</source>
        <translation>POKRYCIE (niebieski: mało klatek, żółty: najwięcej)</translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation>Nakładka</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>kafel %1</translation>
    </message>
</context>
</TS>
