<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="es_ES">
<context>
    <name>Frames</name>
    <message>
        <source>WCS in header</source>
        <translation>WCS en la cabecera</translation>
    </message>
    <message>
        <source>to plate-solve (pointing known)</source>
        <translation>por resolver (apuntado conocido)</translation>
    </message>
    <message>
        <source>to plate-solve (no pointing)</source>
        <translation>por resolver (sin apuntado)</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>ilegible</translation>
    </message>
    <message>
        <source>kept</source>
        <translation>conservada</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>rechazada</translation>
    </message>
    <message>
        <source>excluded</source>
        <translation>excluida</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Archivo</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Hora</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Tesela</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>Posición</translation>
    </message>
    <message>
        <source>Stars</source>
        <translation>Estrellas</translation>
    </message>
    <message>
        <source>FWHM (px)</source>
        <translation>FWHM (px)</translation>
    </message>
    <message>
        <source>Elongation</source>
        <translation>Elongación</translation>
    </message>
    <message>
        <source>Sky (ADU)</source>
        <translation>Cielo (ADU)</translation>
    </message>
    <message>
        <source>Transparency</source>
        <translation>Transparencia</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>Peso</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Decisión</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Motivo</translation>
    </message>
    <message>
        <source>Use</source>
        <translation>Usar</translation>
    </message>
    <message>
        <source>Choose an input folder: the frames appear here before any run.</source>
        <translation>Elija una carpeta de entrada: las tomas aparecen aquí antes de cualquier proceso.</translation>
    </message>
    <message>
        <source>tile %1: click to list its frames</source>
        <translation>tesela %1: pulse para ver sus tomas</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tesela %1</translation>
    </message>
</context>
<context>
    <name>FramesTab</name>
    <message>
        <source>Measure frames</source>
        <translation>Medir las tomas</translation>
    </message>
    <message>
        <source>Measure every frame&apos;s quality as a run would (zemosaic inspect), without stacking</source>
        <translation>Medir la calidad de cada toma como lo haría un proceso (zemosaic inspect), sin apilar</translation>
    </message>
    <message>
        <source>Rejected only</source>
        <translation>Solo rechazadas</translation>
    </message>
    <message>
        <source>all tiles</source>
        <translation>todas las teselas</translation>
    </message>
    <message>
        <source>Thumbnail</source>
        <translation>Miniatura</translation>
    </message>
    <message>
        <source>Show the selected frame</source>
        <translation>Mostrar la toma elegida</translation>
    </message>
    <message>
        <source>No frames measured yet: choose the input folder, then Measure frames.</source>
        <translation>Aún no se ha medido ninguna toma: elija la carpeta de entrada y luego Medir las tomas.</translation>
    </message>
    <message>
        <source>Tile</source>
        <translation>Tesela</translation>
    </message>
    <message>
        <source>Measuring the frames of %1...</source>
        <translation>Midiendo las tomas de %1…</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tesela %1</translation>
    </message>
    <message>
        <source>%1 frames in %2 tile groups: %3 kept, %4 rejected by the quality rules. Untick a frame to leave it out of the run.</source>
        <translation>%1 tomas en %2 grupos de teselas: %3 conservadas, %4 rechazadas por las reglas de calidad. Desmarque una toma para dejarla fuera del proceso.</translation>
    </message>
    <message>
        <source>Unreadable: %1.</source>
        <translation>Ilegibles: %1.</translation>
    </message>
    <message>
        <source>Measuring frame %1 of %2...</source>
        <translation>Midiendo la toma %1 de %2…</translation>
    </message>
    <message>
        <source>The frames could not be measured: %1</source>
        <translation>No se pudieron medir las tomas: %1</translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>all tags</source>
        <translation>todas las etiquetas</translation>
    </message>
    <message>
        <source>filter text</source>
        <translation>filtrar texto</translation>
    </message>
    <message>
        <source>Wrap lines</source>
        <translation>Ajustar líneas</translation>
    </message>
    <message>
        <source>Level at least</source>
        <translation>Nivel mínimo</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>Etiqueta</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Generating the demo dataset in %1...</source>
        <translation>Generando los datos de demostración en %1…</translation>
    </message>
    <message>
        <source>ZeMosaic</source>
        <translation>ZeMosaic</translation>
    </message>
    <message>
        <source>folder of raw FITS frames (never modified)</source>
        <translation>carpeta de tomas FITS en bruto (nunca se modifican)</translation>
    </message>
    <message>
        <source>folder for the mosaic, master tiles and report</source>
        <translation>carpeta del mosaico, las teselas maestras y el informe</translation>
    </message>
    <message>
        <source>refuse</source>
        <translation>rechazar</translation>
    </message>
    <message>
        <source>overwrite earlier outputs</source>
        <translation>sobrescribir los resultados anteriores</translation>
    </message>
    <message>
        <source>resume (reuse finished tiles)</source>
        <translation>reanudar (reutilizar las teselas terminadas)</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>Carpetas</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Entrada</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Salida</translation>
    </message>
    <message>
        <source>Browse...</source>
        <translation>Examinar…</translation>
    </message>
    <message>
        <source>If the output folder is not empty</source>
        <translation>Si la carpeta de salida no está vacía</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Procesar</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <source>Load settings...</source>
        <translation>Cargar ajustes…</translation>
    </message>
    <message>
        <source>Save settings...</source>
        <translation>Guardar ajustes…</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>Abrir la carpeta de salida</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Tomas</translation>
    </message>
    <message>
        <source>Sky map</source>
        <translation>Mapa del cielo</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Teselas maestras</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mosaico</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Resumen</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Registro</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Progreso</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Listo</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>Cancelando…</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Archivo</translation>
    </message>
    <message>
        <source>Choose the &amp;input folder...</source>
        <translation>Elegir la carpeta de &amp;entrada…</translation>
    </message>
    <message>
        <source>&amp;Recent input folders</source>
        <translation>Carpetas de entrada &amp;recientes</translation>
    </message>
    <message>
        <source>Choose the &amp;output folder...</source>
        <translation>Elegir la carpeta de &amp;salida…</translation>
    </message>
    <message>
        <source>&amp;Load settings...</source>
        <translation>&amp;Cargar ajustes…</translation>
    </message>
    <message>
        <source>&amp;Save settings...</source>
        <translation>&amp;Guardar ajustes…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Salir</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>&amp;Proceso</translation>
    </message>
    <message>
        <source>&amp;Measure frames</source>
        <translation>&amp;Medir las tomas</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Iniciar</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>&amp;Cancelar</translation>
    </message>
    <message>
        <source>&amp;Open the output folder</source>
        <translation>&amp;Abrir la carpeta de salida</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ver</translation>
    </message>
    <message>
        <source>&amp;Dark theme (next start)</source>
        <translation>Tema &amp;oscuro (al próximo inicio)</translation>
    </message>
    <message>
        <source>&amp;Language (next start)</source>
        <translation>&amp;Idioma (al próximo inicio)</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Idioma del sistema</translation>
    </message>
    <message>
        <source>The language changes at the next start.</source>
        <translation>El idioma cambiará al próximo inicio.</translation>
    </message>
    <message>
        <source>Settings: %1</source>
        <translation>Ajustes: %1</translation>
    </message>
    <message>
        <source>Running...</source>
        <translation>Procesando…</translation>
    </message>
    <message>
        <source>The output folder does not exist yet.</source>
        <translation>La carpeta de salida aún no existe.</translation>
    </message>
    <message>
        <source>Settings loaded from %1</source>
        <translation>Ajustes cargados desde %1</translation>
    </message>
    <message>
        <source>Settings saved to %1</source>
        <translation>Ajustes guardados en %1</translation>
    </message>
    <message>
        <source>Choose the input folder first.</source>
        <translation>Elija primero la carpeta de entrada.</translation>
    </message>
    <message>
        <source>Finished: %1 tiles, %2 frames used</source>
        <translation>Terminado: %1 teselas, %2 tomas usadas</translation>
    </message>
    <message>
        <source>Run cancelled: %1. Temporary files were removed; finished master tiles are kept (choose Resume to reuse them).</source>
        <translation>Proceso cancelado: %1. Se borraron los archivos temporales; las teselas maestras terminadas se conservan (elija Reanudar para reutilizarlas).</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>El proceso falló: %1</translation>
    </message>
    <message>
        <source>Stopped (%1)</source>
        <translation>Detenido (%1)</translation>
    </message>
    <message>
        <source>file</source>
        <translation>archivo</translation>
    </message>
    <message>
        <source>frames used</source>
        <translation>tomas usadas</translation>
    </message>
    <message>
        <source>coverage</source>
        <translation>cobertura</translation>
    </message>
    <message>
        <source>Rejected inputs</source>
        <translation>Entradas rechazadas</translation>
    </message>
    <message>
        <source>none</source>
        <translation>ninguna</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Detalles</translation>
    </message>
    <message>
        <source>Input folder (FITS frames)</source>
        <translation>Carpeta de entrada (tomas FITS)</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>Carpeta de salida</translation>
    </message>
    <message>
        <source>Load settings</source>
        <translation>Cargar ajustes</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Save settings</source>
        <translation>Guardar ajustes</translation>
    </message>
</context>
<context>
    <name>MosaicPreview</name>
    <message>
        <source>The mosaic appears here when a run has finished.</source>
        <translation>El mosaico aparece aquí cuando termina un proceso.</translation>
    </message>
    <message>
        <source>Linked channels</source>
        <translation>Canales enlazados</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>Auto</translation>
    </message>
    <message>
        <source>Black point just below the sky, the sky at a quarter of the range</source>
        <translation>Punto negro justo bajo el cielo, el cielo a un cuarto del rango</translation>
    </message>
    <message>
        <source>Tile outlines</source>
        <translation>Contornos de teselas</translation>
    </message>
    <message>
        <source>Export view...</source>
        <translation>Exportar la vista…</translation>
    </message>
    <message>
        <source>Save the mosaic at full resolution with this stretch (PNG, or 16-bit TIFF)</source>
        <translation>Guardar el mosaico a resolución completa con este estirado (PNG o TIFF de 16 bits)</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Canal</translation>
    </message>
    <message>
        <source>Black</source>
        <translation>Negro</translation>
    </message>
    <message>
        <source>Midtones</source>
        <translation>Medios tonos</translation>
    </message>
    <message>
        <source>White</source>
        <translation>Blanco</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Ajustar</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>1:1</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>Acercar</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>Alejar</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>No se puede leer %1: %2</translation>
    </message>
    <message>
        <source>x %1  y %2   RA %3  Dec %4   value %5   weight %6   tiles covering %7</source>
        <translation>x %1  y %2   AR %3  Dec %4   valor %5   peso %6   teselas %7</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tesela %1</translation>
    </message>
    <message>
        <source>Export view</source>
        <translation>Exportar la vista</translation>
    </message>
    <message>
        <source>PNG (*.png);;16-bit TIFF (*.tif)</source>
        <translation>PNG (*.png);;TIFF de 16 bits (*.tif)</translation>
    </message>
</context>
<context>
    <name>PhaseProgress</name>
    <message>
        <source>Demo data</source>
        <translation>Datos de demostración</translation>
    </message>
    <message>
        <source>Phase 1: scan</source>
        <translation>Fase 1: inventario</translation>
    </message>
    <message>
        <source>Phase 1b: plate solving</source>
        <translation>Fase 1b: resolución astrométrica</translation>
    </message>
    <message>
        <source>Frames on the global grid</source>
        <translation>Tomas en la rejilla global</translation>
    </message>
    <message>
        <source>Phase 3: master tiles</source>
        <translation>Fase 3: teselas maestras</translation>
    </message>
    <message>
        <source>SDS: sky chunks</source>
        <translation>SDS: zonas del cielo</translation>
    </message>
    <message>
        <source>  align (current tile)</source>
        <translation>  alinear (tesela actual)</translation>
    </message>
    <message>
        <source>  stack (current tile)</source>
        <translation>  apilar (tesela actual)</translation>
    </message>
    <message>
        <source>Phase 5: assembly</source>
        <translation>Fase 5: ensamblaje</translation>
    </message>
    <message>
        <source>Progress appears here when a run starts.</source>
        <translation>El progreso aparece aquí cuando empieza un proceso.</translation>
    </message>
    <message>
        <source>Whole run</source>
        <translation>Proceso completo</translation>
    </message>
    <message>
        <source>done</source>
        <translation>hecho</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>quedan %1</translation>
    </message>
    <message>
        <source>done in %1</source>
        <translation>hecho en %1</translation>
    </message>
    <message>
        <source>about %1 left</source>
        <translation>quedan unos %1</translation>
    </message>
    <message>
        <source>estimating...</source>
        <translation>estimando…</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Input</source>
        <translation>Entrada</translation>
    </message>
    <message>
        <source>Plate solving</source>
        <translation>Resolución astrométrica</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>Tomas</translation>
    </message>
    <message>
        <source>Stacking</source>
        <translation>Apilado</translation>
    </message>
    <message>
        <source>Tiles and mask</source>
        <translation>Teselas y máscara</translation>
    </message>
    <message>
        <source>Mosaic</source>
        <translation>Mosaico</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Salida</translation>
    </message>
    <message>
        <source>How to build the mosaic</source>
        <translation>Cómo construir el mosaico</translation>
    </message>
    <message>
        <source>Master tiles (default), a regular grid, or frames stacked straight onto the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder holds master tiles</source>
        <translation>La carpeta contiene teselas maestras</translation>
    </message>
    <message>
        <source>Use finished master tiles as they are: no scan, grouping or stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Look in subfolders too</source>
        <translation>Buscar también en subcarpetas</translation>
    </message>
    <message>
        <source>Also take the frames of the input folder&apos;s subfolders.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel-scale tolerance</source>
        <translation>Tolerancia de escala</translation>
    </message>
    <message>
        <source>Reject a frame whose scale differs this much (fraction) from its group&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame positions from</source>
        <translation>Posición de las tomas desde</translation>
    </message>
    <message>
        <source>The header&apos;s astrometry when present, else a plate solve; or always one of them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate solver</source>
        <translation>Resolvedor astrométrico</translation>
    </message>
    <message>
        <source>Which installed solver finds where each frame points.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search radius (degrees)</source>
        <translation>Radio de búsqueda (grados)</translation>
    </message>
    <message>
        <source>How far around the telescope&apos;s pointing the solver looks.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP program</source>
        <translation>Programa ASTAP</translation>
    </message>
    <message>
        <source>Where ASTAP is installed (empty: found automatically).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Index folders</source>
        <translation>Carpetas de índices</translation>
    </message>
    <message>
        <source>Folders of astrometry.net index files (empty: the usual places).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ASTAP star database</source>
        <translation>Base de estrellas de ASTAP</translation>
    </message>
    <message>
        <source>Folder of ASTAP&apos;s star database (empty: ASTAP&apos;s default).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time limit per solve (s)</source>
        <translation>Tiempo máximo por resolución (s)</translation>
    </message>
    <message>
        <source>Longest time one plate solve may take.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blind-solve budget (s)</source>
        <translation>Presupuesto de resolución a ciegas (s)</translation>
    </message>
    <message>
        <source>Time a run may spend on frames with no pointing in their header.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel scale hint (arcsec)</source>
        <translation>Escala indicativa (segundos de arco)</translation>
    </message>
    <message>
        <source>Pixel scale for frames whose header gives none (0: search widely).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Solve each frame or each field</source>
        <translation>Resolver cada toma o cada campo</translation>
    </message>
    <message>
        <source>Solve every frame, or one per field and carry it to the others.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plate-solution cache</source>
        <translation>Caché de soluciones</translation>
    </message>
    <message>
        <source>Folder of saved solutions, reusable between runs (empty: in the output folder).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write .wcs files</source>
        <translation>Escribir archivos .wcs</translation>
    </message>
    <message>
        <source>Also save each frame&apos;s solution as a .wcs file in the output.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reject poor frames</source>
        <translation>Rechazar las tomas malas</translation>
    </message>
    <message>
        <source>Leave out frames that fail a quality rule; the reason is reported.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quality rules</source>
        <translation>Reglas de calidad</translation>
    </message>
    <message>
        <source>Which measures may reject a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cut clouds and obstacles</source>
        <translation>Recortar nubes y obstáculos</translation>
    </message>
    <message>
        <source>Leave out only the dimmed part of a frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frames never stacked</source>
        <translation>Tomas nunca apiladas</translation>
    </message>
    <message>
        <source>A file naming frames to leave out (the Frames tab writes one).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (sigmas)</source>
        <translation>Límite de desenfoque (sigmas)</translation>
    </message>
    <message>
        <source>Reject stars blurrier than the group&apos;s by this many sigmas (0: off).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blur limit (pixels)</source>
        <translation>Límite de desenfoque (píxeles)</translation>
    </message>
    <message>
        <source>Reject frames whose star size exceeds this (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit (sigmas)</source>
        <translation>Límite de trazo (sigmas)</translation>
    </message>
    <message>
        <source>Reject stars more elongated than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trailing limit</source>
        <translation>Límite de trazo</translation>
    </message>
    <message>
        <source>Reject frames whose stars are more elongated than this.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transparency limit (sigmas)</source>
        <translation>Límite de transparencia (sigmas)</translation>
    </message>
    <message>
        <source>Reject frames dimmer than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lowest transparency</source>
        <translation>Transparencia mínima</translation>
    </message>
    <message>
        <source>Reject frames keeping less than this fraction of the star light.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (sigmas)</source>
        <translation>Límite de cielo claro (sigmas)</translation>
    </message>
    <message>
        <source>Reject frames whose sky is brighter than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bright-sky limit (ratio)</source>
        <translation>Límite de cielo claro (razón)</translation>
    </message>
    <message>
        <source>Reject frames whose sky exceeds this many times the group&apos;s (0: none).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star-count limit (sigmas)</source>
        <translation>Límite de número de estrellas (sigmas)</translation>
    </message>
    <message>
        <source>Reject frames with fewer stars than the group&apos;s by this many sigmas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest stars (ratio)</source>
        <translation>Mínimo de estrellas (razón)</translation>
    </message>
    <message>
        <source>Reject frames with fewer than this fraction of the group&apos;s stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region transparency limit</source>
        <translation>Límite de transparencia de una zona</translation>
    </message>
    <message>
        <source>A region keeping less than this fraction of the star light is left out.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest part left out</source>
        <translation>Mayor parte descartada</translation>
    </message>
    <message>
        <source>A frame losing more than this fraction is rejected whole.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region size (pixels)</source>
        <translation>Tamaño de las zonas (píxeles)</translation>
    </message>
    <message>
        <source>Size of the regions judged for clouds and obstacles.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outlier rejection</source>
        <translation>Rechazo de valores atípicos</translation>
    </message>
    <message>
        <source>How satellite trails, planes and hot pixels are removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Low rejection (sigma)</source>
        <translation>Rechazo bajo (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far below the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>High rejection (sigma)</source>
        <translation>Rechazo alto (sigma)</translation>
    </message>
    <message>
        <source>Pixels this far above the others are rejected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame weights</source>
        <translation>Pesos de las tomas</translation>
    </message>
    <message>
        <source>How much each frame counts in the stack.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frame normalisation</source>
        <translation>Normalización de las tomas</translation>
    </message>
    <message>
        <source>How each frame&apos;s sky is matched to the reference before stacking.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Combine with</source>
        <translation>Combinar con</translation>
    </message>
    <message>
        <source>Weighted mean (less noise) or median.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tiles at the same time</source>
        <translation>Teselas a la vez</translation>
    </message>
    <message>
        <source>Master tiles built in parallel (0: one per core).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the graphics card</source>
        <translation>Usar la tarjeta gráfica</translation>
    </message>
    <message>
        <source>Stack on an NVIDIA GPU when one is available.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Winsorisation limits</source>
        <translation>Límites de winsorización</translation>
    </message>
    <message>
        <source>Low and high fractions clipped by winsorised rejection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stacking memory (MB)</source>
        <translation>Memoria de apilado (MB)</translation>
    </message>
    <message>
        <source>Memory one stack may use at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debayering</source>
        <translation>Desbayerizado</translation>
    </message>
    <message>
        <source>How colour is rebuilt from the sensor&apos;s Bayer pattern.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star detection threshold</source>
        <translation>Umbral de detección de estrellas</translation>
    </message>
    <message>
        <source>How far above the sky (in sigmas) a star must rise.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Smallest star (pixels)</source>
        <translation>Estrella más pequeña (píxeles)</translation>
    </message>
    <message>
        <source>Fewest connected pixels that make a star.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stars matched</source>
        <translation>Estrellas emparejadas</translation>
    </message>
    <message>
        <source>Most stars used to align two frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sky matching order</source>
        <translation>Orden del ajuste del cielo</translation>
    </message>
    <message>
        <source>Shape of the sky difference removed per frame (0: flat, 1: tilt...).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flatten the reference</source>
        <translation>Aplanar la referencia</translation>
    </message>
    <message>
        <source>Also remove the reference frame&apos;s own gradient.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Flattening order</source>
        <translation>Orden del aplanado</translation>
    </message>
    <message>
        <source>Shape of that gradient (a plane keeps large nebulae).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory for parallel tiles (MB)</source>
        <translation>Memoria para teselas en paralelo (MB)</translation>
    </message>
    <message>
        <source>Memory the tiles built together may take (0: 3/4 of the free memory).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cluster</source>
        <translation>Clúster</translation>
    </message>
    <message>
        <source>Build tiles on a dask cluster: empty (this computer), local, or an address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Alt-Az edge cleanup</source>
        <translation>Limpieza de bordes Alt-Az</translation>
    </message>
    <message>
        <source>Fade out tile edges that too few frames cover (on for Alt-Az mounts).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the frame count</source>
        <translation>Usar el número de tomas</translation>
    </message>
    <message>
        <source>Decide the edges from how many frames cover each pixel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per pixel</source>
        <translation>Mínimo de tomas por píxel</translation>
    </message>
    <message>
        <source>A kept pixel needs at least this many frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames (fraction)</source>
        <translation>Mínimo de tomas (fracción)</translation>
    </message>
    <message>
        <source>Or this fraction of the tile&apos;s best coverage.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Crop bad borders</source>
        <translation>Recortar bordes malos</translation>
    </message>
    <message>
        <source>Crop dark or colour-cast bands at the tile edges.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile size</source>
        <translation>Tamaño de tesela</translation>
    </message>
    <message>
        <source>A tile covers the whole group&apos;s sky, or only its reference frame.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grouping distance</source>
        <translation>Distancia de agrupación</translation>
    </message>
    <message>
        <source>Frames closer than this fraction of a field share a tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep mount types apart</source>
        <translation>Separar tipos de montura</translation>
    </message>
    <message>
        <source>Never mix Alt-Az and equatorial frames in one tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Most frames per tile</source>
        <translation>Máximo de tomas por tesela</translation>
    </message>
    <message>
        <source>Larger groups are split in time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest frames per tile</source>
        <translation>Mínimo de tomas por tesela</translation>
    </message>
    <message>
        <source>Smaller groups are skipped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Separate target distance</source>
        <translation>Distancia de otro objetivo</translation>
    </message>
    <message>
        <source>Groups farther than this many fields are another target.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Small groups</source>
        <translation>Grupos pequeños</translation>
    </message>
    <message>
        <source>How the frame count limit meets a tile of few frames.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mask smoothing (pixels)</source>
        <translation>Suavizado de la máscara (píxeles)</translation>
    </message>
    <message>
        <source>Removes specks from the coverage mask.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather width (%)</source>
        <translation>Anchura del fundido (%)</translation>
    </message>
    <message>
        <source>Width of the faded edge, in percent of the tile&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feather steepness</source>
        <translation>Pendiente del fundido</translation>
    </message>
    <message>
        <source>How quickly the edge fades.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Masked below</source>
        <translation>Enmascarado por debajo de</translation>
    </message>
    <message>
        <source>Mask values at or below this count as masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank below</source>
        <translation>Vacío por debajo de</translation>
    </message>
    <message>
        <source>Tile pixels whose mask is at or below this are written blank.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Blank masked pixels</source>
        <translation>Vaciar los píxeles enmascarados</translation>
    </message>
    <message>
        <source>Write blank (NaN) where a tile is fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trim empty edges</source>
        <translation>Recortar bordes vacíos</translation>
    </message>
    <message>
        <source>Peel tile rows and columns that are almost fully masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edge trim limit</source>
        <translation>Límite de recorte de bordes</translation>
    </message>
    <message>
        <source>A row is peeled while less than this fraction is kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debug tiles</source>
        <translation>Teselas a depurar</translation>
    </message>
    <message>
        <source>Tile numbers whose alignment is logged in detail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile brightness</source>
        <translation>Igualar el brillo de las teselas</translation>
    </message>
    <message>
        <source>Even out the tiles&apos; brightness where they overlap.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove light pollution</source>
        <translation>Quitar la contaminación lumínica</translation>
    </message>
    <message>
        <source>Subtract the sky gradient left in the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour balance</source>
        <translation>Balance de color</translation>
    </message>
    <message>
        <source>White-balance the mosaic on its stars.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resampling</source>
        <translation>Remuestreo</translation>
    </message>
    <message>
        <source>Fast bilinear, or flux-conserving (slower).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match tile gradients</source>
        <translation>Igualar los gradientes de las teselas</translation>
    </message>
    <message>
        <source>Also even out a tilt per tile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tile weight</source>
        <translation>Peso de las teselas</translation>
    </message>
    <message>
        <source>Weight tiles by their number of frames, or equally.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disk buffer above (MB)</source>
        <translation>Búfer en disco a partir de (MB)</translation>
    </message>
    <message>
        <source>A mosaic larger than this is assembled on disk.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest mosaic (MB)</source>
        <translation>Mosaico máximo (MB)</translation>
    </message>
    <message>
        <source>Stop before building a mosaic that needs more memory (0: no limit).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Least filled mosaic</source>
        <translation>Llenado mínimo del mosaico</translation>
    </message>
    <message>
        <source>Stop when the tiles fill less than this fraction of the mosaic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allow a sparse mosaic</source>
        <translation>Permitir un mosaico disperso</translation>
    </message>
    <message>
        <source>Build it even when it is mostly empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour star catalogue</source>
        <translation>Catálogo de colores estelares</translation>
    </message>
    <message>
        <source>A table of star colours for the balance (empty: the average star).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (pixels)</source>
        <translation>Tamaño de tesela de rejilla (píxeles)</translation>
    </message>
    <message>
        <source>Side of a grid tile (0: from the frame size).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid tile size (frames)</source>
        <translation>Tamaño de tesela de rejilla (tomas)</translation>
    </message>
    <message>
        <source>Grid tile side as a multiple of a frame&apos;s short side.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid overlap</source>
        <translation>Solapamiento de la rejilla</translation>
    </message>
    <message>
        <source>Overlap between neighbouring grid tiles (fraction).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid frame threshold</source>
        <translation>Umbral de toma de la rejilla</translation>
    </message>
    <message>
        <source>A frame joins a grid tile covering at least this fraction.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chunk size (pixels)</source>
        <translation>Tamaño de zona (píxeles)</translation>
    </message>
    <message>
        <source>Side of the sky regions stacked one at a time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session gap (hours)</source>
        <translation>Separación de sesiones (horas)</translation>
    </message>
    <message>
        <source>Frames further apart in time are stacked as separate sessions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export for image editors</source>
        <translation>Exportar para editores de imagen</translation>
    </message>
    <message>
        <source>Also write 16-bit TIFF or PNG, or 32-bit TIFF.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stretch the exports</source>
        <translation>Estirar las exportaciones</translation>
    </message>
    <message>
        <source>Apply the preview&apos;s stretch (off: linear).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Files for other software</source>
        <translation>Archivos para otros programas</translation>
    </message>
    <message>
        <source>Also write the mosaic as Siril, PixInsight, astropy or SWarp expect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Framing</source>
        <translation>Encuadre</translation>
    </message>
    <message>
        <source>Keep the whole grid, trim empty borders, or cut the largest full rectangle.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a preview picture</source>
        <translation>Escribir una imagen de vista previa</translation>
    </message>
    <message>
        <source>Save mosaic_preview.png.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep the master tiles</source>
        <translation>Conservar las teselas maestras</translation>
    </message>
    <message>
        <source>Keep master_tiles/ in the output folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pixel values</source>
        <translation>Valores de píxel</translation>
    </message>
    <message>
        <source>The frames&apos; ADU, or scaled to peak at 1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Empty pixels</source>
        <translation>Píxeles vacíos</translation>
    </message>
    <message>
        <source>Value written where nothing was covered (nan or a number).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automático</translation>
    </message>
    <message>
        <source>Master tiles</source>
        <translation>Teselas maestras</translation>
    </message>
    <message>
        <source>Regular grid</source>
        <translation>Rejilla regular</translation>
    </message>
    <message>
        <source>Mosaic first (SDS)</source>
        <translation>Mosaico primero (SDS)</translation>
    </message>
    <message>
        <source>Header, else plate solve</source>
        <translation>Cabecera, si no resolver</translation>
    </message>
    <message>
        <source>Header only</source>
        <translation>Solo cabecera</translation>
    </message>
    <message>
        <source>Always plate solve</source>
        <translation>Resolver siempre</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Ninguno</translation>
    </message>
    <message>
        <source>astrometry.net (built in)</source>
        <translation>astrometry.net (integrado)</translation>
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
        <translation>Todas las tomas menos una</translation>
    </message>
    <message>
        <source>Fraction only</source>
        <translation>Solo fracción</translation>
    </message>
    <message>
        <source>By number of frames</source>
        <translation>Según el número de tomas</translation>
    </message>
    <message>
        <source>Automatic (Alt-Az frames)</source>
        <translation>Automático (tomas Alt-Az)</translation>
    </message>
    <message>
        <source>On</source>
        <translation>Activado</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Desactivado</translation>
    </message>
    <message>
        <source>Plane (lower envelope)</source>
        <translation>Plano (envolvente inferior)</translation>
    </message>
    <message>
        <source>From the frames&apos; rotation (default)</source>
        <translation>Por la rotación de las tomas (por defecto)</translation>
    </message>
    <message>
        <source>Curved surface</source>
        <translation>Superficie curva</translation>
    </message>
    <message>
        <source>None (sensor balance)</source>
        <translation>Ninguno (balance del sensor)</translation>
    </message>
    <message>
        <source>On the stars</source>
        <translation>Sobre las estrellas</translation>
    </message>
    <message>
        <source>Bilinear (fast)</source>
        <translation>Bilineal (rápido)</translation>
    </message>
    <message>
        <source>Flux-conserving</source>
        <translation>Conservando el flujo</translation>
    </message>
    <message>
        <source>Whole grid</source>
        <translation>Toda la rejilla</translation>
    </message>
    <message>
        <source>Trim empty borders</source>
        <translation>Recortar bordes vacíos</translation>
    </message>
    <message>
        <source>Largest full rectangle</source>
        <translation>Mayor rectángulo lleno</translation>
    </message>
    <message>
        <source>Sigma clipping</source>
        <translation>Recorte sigma</translation>
    </message>
    <message>
        <source>Winsorised sigma clipping</source>
        <translation>Recorte sigma winsorizado</translation>
    </message>
    <message>
        <source>Linear fit clipping</source>
        <translation>Recorte por ajuste lineal</translation>
    </message>
    <message>
        <source>Equal</source>
        <translation>Iguales</translation>
    </message>
    <message>
        <source>By noise</source>
        <translation>Según el ruido</translation>
    </message>
    <message>
        <source>By noise and sharpness</source>
        <translation>Según el ruido y la nitidez</translation>
    </message>
    <message>
        <source>Additive</source>
        <translation>Aditiva</translation>
    </message>
    <message>
        <source>Multiplicative</source>
        <translation>Multiplicativa</translation>
    </message>
    <message>
        <source>Linear fit</source>
        <translation>Ajuste lineal</translation>
    </message>
    <message>
        <source>Sky surface match</source>
        <translation>Ajuste de la superficie del cielo</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>Media</translation>
    </message>
    <message>
        <source>Median</source>
        <translation>Mediana</translation>
    </message>
    <message>
        <source>The group&apos;s sky</source>
        <translation>El cielo del grupo</translation>
    </message>
    <message>
        <source>The reference frame</source>
        <translation>La toma de referencia</translation>
    </message>
    <message>
        <source>Edge-aware</source>
        <translation>Respetando bordes</translation>
    </message>
    <message>
        <source>Bilinear</source>
        <translation>Bilineal</translation>
    </message>
    <message>
        <source>One per field</source>
        <translation>Una por campo</translation>
    </message>
    <message>
        <source>Every frame</source>
        <translation>Cada toma</translation>
    </message>
    <message>
        <source>ADU (linear)</source>
        <translation>ADU (lineal)</translation>
    </message>
    <message>
        <source>Peak at 1</source>
        <translation>Máximo en 1</translation>
    </message>
    <message>
        <source>Seestar Alt-Az</source>
        <translation>Seestar Alt-Az</translation>
    </message>
    <message>
        <source>Seestar equatorial</source>
        <translation>Seestar ecuatorial</translation>
    </message>
    <message>
        <source>Quick look</source>
        <translation>Vista rápida</translation>
    </message>
    <message>
        <source>Best quality</source>
        <translation>Mejor calidad</translation>
    </message>
    <message>
        <source>on</source>
        <translation>activado</translation>
    </message>
    <message>
        <source>off</source>
        <translation>desactivado</translation>
    </message>
    <message>
        <source>Colour from raw frames</source>
        <translation>Color de las tomas en bruto</translation>
    </message>
    <message>
        <source>Drizzle sampling</source>
        <translation>Muestreo del drizzle</translation>
    </message>
    <message>
        <source>Drizzle drop size</source>
        <translation>Tamaño de la gota del drizzle</translation>
    </message>
    <message>
        <source>By frames under each pixel</source>
        <translation>Según las tomas bajo cada píxel</translation>
    </message>
    <message>
        <source>Lanczos-3 (sharp stars)</source>
        <translation>Lanczos-3 (estrellas nítidas)</translation>
    </message>
    <message>
        <source>Debayer then stack</source>
        <translation>Debayer y luego apilar</translation>
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
        <translation>Mostrar ajustes avanzados</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>Preajuste</translation>
    </message>
    <message>
        <source>(choose a preset)</source>
        <translation>(elija un preajuste)</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>Aplicar</translation>
    </message>
    <message>
        <source>Set the keys listed below; every other setting is kept.</source>
        <translation>Fija las claves de abajo; los demás ajustes se conservan.</translation>
    </message>
    <message>
        <source>A preset sets several settings at once; choose one to see which.</source>
        <translation>Un preajuste fija varios ajustes a la vez; elija uno para ver cuáles.</translation>
    </message>
    <message>
        <source>Sets:</source>
        <translation>Fija:</translation>
    </message>
</context>
<context>
    <name>TileGallery</name>
    <message>
        <source>no overlay</source>
        <translation>sin superposición</translation>
    </message>
    <message>
        <source>ALPHA (red: feathered out)</source>
        <translation>ALPHA (rojo: fundido)</translation>
    </message>
    <message>
        <source>COVERAGE (blue: few frames, yellow: most)</source>
        <translation>COBERTURA (azul: pocas tomas, amarillo: la mayoría)</translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation>Superposición</translation>
    </message>
    <message>
        <source>tile %1</source>
        <translation>tesela %1</translation>
    </message>
</context>
</TS>
