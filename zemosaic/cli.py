"""The ``zemosaic`` command line: ``synth``, ``run`` and ``demo``.

Each subcommand turns its options into plain objects (a :class:`~zemosaic_config.ZeMosaicConfig`,
a :class:`~synthetic.SynthSpec`) and calls the library; progress events become text progress bars.
Bad arguments end with one line on stderr and exit code 2; a run with nothing usable exits 1.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from zemosaic import _numba_warmup
from zemosaic import config as zemosaic_config
from zemosaic._version import __version__ as _VERSION
from zemosaic.io.atomic import os_error_text
from zemosaic.progress import ProgressEvent

__all__ = ["main", "build_parser", "ProgressPrinter"]

EXIT_OK, EXIT_NOTHING_USABLE, EXIT_BAD_ARGS = 0, 1, 2
EXIT_OS_ERROR = 3  # the file system refused (disk full, permissions, I/O error): one line names the file
EXIT_MOSAIC_REFUSED = 4  # the mosaic would be absurd (memory estimate over budget, mostly empty): not allocated
EXIT_ENGINE_ERROR = 5  # Phase 3's workers failed: a worker process died, the dask scheduler or its workers unusable
EXIT_SIGINT, EXIT_SIGTERM = 130, 143  # stopped by Ctrl-C / SIGTERM (128 + signal number, as shells report it)


class CliError(Exception):
    """A user error the CLI reports in one line (exit code 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``zemosaic`` console command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_BAD_ARGS
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a reader that went away (`zemosaic keys | head -1`) shows here, not at exit
        return code
    except BrokenPipeError:
        return _reader_gone(args)
    except (CliError, zemosaic_config.ConfigError, _spec_error()) as exc:
        print(f"zemosaic: error: {exc}", file=sys.stderr)
        return EXIT_BAD_ARGS
    except KeyboardInterrupt:  # Ctrl-C outside a run (a run turns it into RunInterrupted): one line
        print("zemosaic: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except OSError as exc:  # a file system refusal (permissions, disk full...): one line, not a traceback
        print(f"zemosaic: error: {os_error_text(exc)}", file=sys.stderr)
        return EXIT_OS_ERROR


def _reader_gone(args) -> int:
    """The reader of the output closed the pipe (``zemosaic keys | head -1``): no message (there is nowhere to
    write it), stdout pointed at /dev/null so that the interpreter's last flush does not fail again; exit 0 for a
    listing whose reader had what it wanted, 3 (I/O error) for a command that was cut short."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout without a descriptor (tests capture it)
        pass
    finally:
        os.close(devnull)
    return EXIT_OK if args.command == "keys" else EXIT_OS_ERROR


def _spec_error() -> type[Exception]:
    from zemosaic.synthetic import generator as synthetic  # fast start: only when an error is reported

    return synthetic.SynthSpecError


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="zemosaic",
        description="Mosaic builder for smart-telescope astrophotography (Seestar, Dwarf...).",
    )
    parser.add_argument("--version", action="version", version=f"zemosaic {_VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_synth_command(sub)
    _add_run_command(sub)
    _add_demo_command(sub)
    _add_keys_command(sub)
    _add_inspect_command(sub)
    _add_gui_command(sub)
    return parser


# --- synth ---------------------------------------------------------------------------------------
def _add_synth_command(sub) -> None:
    from zemosaic.synthetic import options as synthetic_options  # fast start: the command module loads alone

    p = sub.add_parser("synth", help="write a synthetic Seestar-like dataset with ground truth",
                       description="Write synthetic raw FITS frames (several overlapping panels) and their "
                                   "ground truth (truth/ folder) into OUT.")
    p.add_argument("out", type=Path, help="output folder for the frames (created)")
    synthetic_options.add_synth_arguments(p)
    p.set_defaults(handler=_cmd_synth)


def _cmd_synth(args) -> int:
    from zemosaic.synthetic import generator as synthetic  # fast start: loaded when the subcommand runs
    from zemosaic.synthetic import options as synthetic_options

    spec = synthetic_options.spec_from_args(args)
    with ProgressPrinter() as printer:
        dataset = synthetic.generate_dataset(args.out, spec, progress_callback=printer)
    print(f"wrote {len(dataset.frame_paths)} frames to {args.out} (truth in {dataset.truth_dir})")
    return EXIT_OK


# --- run -----------------------------------------------------------------------------------------
def _add_config_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, metavar="FILE.json", help="JSON file of configuration keys")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="set one configuration key (repeatable); `zemosaic keys` lists them")
    p.add_argument("--overwrite", action="store_true",
                   help="write into a non-empty output folder, first removing what an earlier zemosaic run left "
                        "there (and only that; the plate-solution cache stays)")
    p.add_argument("-v", "--verbose", action="store_true", help="print the run's log lines on the terminal")
    p.add_argument("-j", "--workers", metavar="N", default=None,
                   help="master tiles built at the same time, each in its own process: N, or 'auto' (from the "
                        "cores and the RAM; same as --set max_workers=N, auto = 0); default 1: in the run's "
                        "process, two at once in threads where two cores and the memory allow")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="build the master tiles on a dask.distributed cluster: tcp://HOST:PORT of its scheduler "
                        "(folders on a file system all its workers share), or 'local' for a LocalCluster of "
                        "--workers processes on this machine (needs pip install 'zemosaic[cluster]'; same as "
                        "--set scheduler=...)")


def _engine_overrides(args) -> list[str]:
    """``--workers`` and ``--scheduler`` as ``key=value`` overrides."""
    overrides = []
    if args.workers is not None:
        text = str(args.workers).strip().lower()
        if text != "auto" and not (text.isdigit() and int(text) >= 1):
            raise CliError(f"--workers: expected a number of processes (1, 2, ...) or 'auto', got {args.workers!r}")
        overrides.append(f"max_workers={0 if text == 'auto' else int(text)}")
    if args.scheduler is not None:
        overrides.append(f"scheduler={args.scheduler.strip()}")
    return overrides


def _add_run_command(sub) -> None:
    p = sub.add_parser("run", help="build a mosaic from a folder of FITS frames",
                       description="Scan INPUT, build master tiles, assemble the mosaic into OUT.")
    p.add_argument("input", type=Path, help="folder of raw FITS frames (never modified)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    p.add_argument("--mode", choices=("master-tiles", "tiles", "grid", "sds", "existing-master-tiles"), default=None,
                   help="master-tiles or tiles (default; grid when INPUT holds stack_plan.csv): stack raw frames "
                        "into master tiles; grid: a regular grid of tiles on the global WCS; sds: mosaic-first "
                        "(frames stacked per pixel on the global grid, master tiles if that fails); "
                        "existing-master-tiles: INPUT holds finished master tiles (same as --set mode=...)")
    p.add_argument("--wcs-cache", type=Path, metavar="DIR", default=None,
                   help="folder of cached plate solutions to use and fill (default OUT/wcs_cache); share it "
                        "between runs over the same frames (same as --set wcs_cache_dir=DIR)")
    p.add_argument("--resume", action="store_true",
                   help="reuse the master tiles an earlier (interrupted) run left in OUT whose input frames and "
                        "settings are unchanged; rebuild the rest")
    p.add_argument("--recursive", action="store_true",
                   help="also scan the subfolders of INPUT for frames (same as --set input_recursive=true)")
    p.add_argument("--export", metavar="FORMATS", default=None,
                   help="also write exports of the mosaic for image editors, comma-separated: tiff16 (mosaic.tif), "
                        "png16 (mosaic.png), tiff32 (mosaic_float32.tif); stretched unless --set "
                        "export_stretch=false (same as --set export_formats=[...])")
    p.add_argument("--preset", action="append", metavar="NAME", default=None,
                   help="a run preset setting several keys at once (seestar-altaz, seestar-eq, quick-look, "
                        "best-quality; --set still wins), or a tool the mosaic is also written for (siril, "
                        "pixinsight, astropy, swarp: same as --set output_presets=[...]); repeat it or give several "
                        "comma-separated")
    _add_config_options(p)
    p.set_defaults(handler=_cmd_run)


def _resolve_run_config(args) -> zemosaic_config.ZeMosaicConfig:
    names = [p.strip().lower() for text in (args.preset or ()) for p in text.split(",") if p.strip()]
    run_presets = [n for n in names if n in zemosaic_config.RUN_PRESETS]
    overrides = [f"{key}={value if isinstance(value, str) else json.dumps(value)}" for n in run_presets
                 for key, value in zemosaic_config.RUN_PRESETS[n].items()] + list(args.overrides)
    if args.mode == "existing-master-tiles":
        overrides.append("use_existing_master_tiles_mode=true")
    elif args.mode is not None:
        overrides += ["use_existing_master_tiles_mode=false",
                      "mode=" + ("tiles" if args.mode == "master-tiles" else args.mode)]
    if args.wcs_cache is not None:
        overrides.append(f"wcs_cache_dir={args.wcs_cache}")
    if args.recursive:
        overrides.append("input_recursive=true")
    if args.export is not None:
        formats = [f.strip().lower() for f in args.export.split(",") if f.strip()]
        overrides.append("export_formats=" + json.dumps(formats))
    tools = [n for n in names if n not in zemosaic_config.RUN_PRESETS]
    if tools:
        overrides.append("output_presets=" + json.dumps(list(dict.fromkeys(tools))))
    overrides += _engine_overrides(args)
    return zemosaic_config.resolve_config(config_file=args.config, overrides=overrides)


def _cmd_run(args) -> int:
    cfg = _resolve_run_config(args)
    if args.mode is None and not cfg.use_existing_master_tiles_mode:
        tile = _a_master_tile_in(args.input)
        if tile is not None:
            raise CliError(f"{args.input} holds master tiles ({tile.name} has {_tile_marks(tile)}), not raw "
                           "frames: run with --mode existing-master-tiles (or --mode master-tiles to stack them "
                           "as frames)")
    _numba_warmup.start(dataclasses.asdict(cfg))  # first run after installing: compile ahead in the background
    return _run_and_summarise(args.input, args.output, cfg, verbose=args.verbose, overwrite=args.overwrite,
                              resume=args.resume)


_TILE_EXTENSIONS = ("ALPHA", "COVERAGE")
_TILE_KEYWORDS = ("MTILEID", "ZMT_NALGN", "ZMT_NRAW")  # ours, and the original ZeMosaic's
_TILE_PROBE_FILES = 50


def _a_master_tile_in(folder: Path) -> Path | None:
    """The first of the folder's first FITS files (headers only) that is a master tile, or None."""
    if not Path(folder).is_dir():
        return None
    names = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".fits", ".fit", ".fts")
                   and not p.name.startswith(".") and p.is_file())
    for path in names[:_TILE_PROBE_FILES]:
        if _tile_marks(path):
            return path
    return None


def _tile_marks(path: Path) -> str:
    """What makes ``path`` a master tile (``'extension ALPHA'``, ``'header MTILEID'``), or '' (also when the file
    cannot be read: the run will say why)."""
    import warnings

    from astropy.io import fits

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path, memmap=True, lazy_load_hdus=True) as hdul:
                keys = [k for k in _TILE_KEYWORDS if k in hdul[0].header]
                if keys:
                    return f"header {keys[0]}"
                for hdu in hdul[1:]:
                    name = str(hdu.header.get("EXTNAME", "")).strip().upper()
                    if name in _TILE_EXTENSIONS:
                        return f"extension {name}"
    except (OSError, ValueError, IndexError):
        return ""
    return ""


def _run_and_summarise(input_dir: Path, output_dir: Path, cfg, *, verbose: bool, overwrite: bool = False,
                       resume: bool = False) -> int:
    from zemosaic.pipeline import run as pipeline_run  # fast start: the pipeline loads when a run starts

    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    start = time.perf_counter()
    try:
        with ProgressPrinter() as printer:
            result = pipeline_run.run_mosaic(input_dir, output_dir, cfg, progress_callback=printer,
                                              overwrite=overwrite, resume=resume)
    except pipeline_run.RunInterrupted as exc:
        print(f"zemosaic: {exc}; temporary files removed, finished master tiles kept (run again with --resume)",
              file=sys.stderr)
        return EXIT_SIGTERM if exc.signal_name == "SIGTERM" else EXIT_SIGINT
    except pipeline_run.RunFolderError as exc:
        raise CliError(str(exc)) from exc
    except pipeline_run.NothingUsableError as exc:
        print(f"zemosaic: nothing usable: {exc}", file=sys.stderr)
        return EXIT_NOTHING_USABLE
    except pipeline_run.MosaicRefusedError as exc:
        print(f"zemosaic: mosaic refused: {exc}", file=sys.stderr)
        return EXIT_MOSAIC_REFUSED
    except pipeline_run.TileEngineError as exc:
        print(f"zemosaic: master tiles stopped: {exc} (finished tiles kept: run again with --resume)",
              file=sys.stderr)
        return EXIT_ENGINE_ERROR
    print(result.summary_text(elapsed_s=time.perf_counter() - start))
    if not cfg.use_existing_master_tiles_mode:  # the kernels of a whole run are in numba's cache now
        _numba_warmup.mark_warm()
    return EXIT_OK


# --- demo ----------------------------------------------------------------------------------------
def _add_demo_command(sub) -> None:
    p = sub.add_parser("demo", help="generate a small Alt-Az 2x2 dataset and build its mosaic",
                       description="Generate the built-in synthetic Alt-Az 2x2 dataset in OUT/input and run the "
                                   "whole pipeline on it into OUT/output.")
    p.add_argument("-o", "--output", type=Path, default=Path("zemosaic_demo"), help="demo folder (default: "
                   "./zemosaic_demo)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the dataset")
    p.add_argument("--seestar-headers", action="store_true",
                   help="write the frames as a Seestar does: no WCS, only the mount's pointing (a few arcmin off) "
                        "and the optics, with the real Tycho-2 stars of the installed astrometry.net index files, so "
                        "the run plate-solves them (needs a local solver and index files, see the README)")
    _add_config_options(p)
    p.set_defaults(handler=_cmd_demo)


def _cmd_demo(args) -> int:
    from zemosaic.synthetic import generator as synthetic  # fast start: loaded when the subcommand runs
    from zemosaic.synthetic.demo import demo_spec

    cfg = zemosaic_config.resolve_config(config_file=args.config,
                                         overrides=list(args.overrides) + _engine_overrides(args))
    root = args.output
    if root.exists() and (not root.is_dir() or (any(root.iterdir()) and not args.overwrite)):
        raise CliError(f"demo folder {root} is not an empty folder (use --overwrite)")
    input_dir, output_dir = root / "input", root / "output"
    spec = demo_spec(args.seed, seestar_headers=args.seestar_headers)
    _numba_warmup.start(dataclasses.asdict(cfg))  # first run after installing: compile while the data are made
    print(f"generating the demo dataset in {input_dir} ...")
    with ProgressPrinter() as printer:
        synthetic.generate_dataset(input_dir, spec, progress_callback=printer)
    code = _run_and_summarise(input_dir, output_dir, cfg, verbose=args.verbose, overwrite=args.overwrite)
    if code == EXIT_OK:
        print(f"look at {output_dir / 'mosaic_preview.png'} and {output_dir / 'run_report.json'}; "
              f"the ground truth is in {input_dir / 'truth'}")
    return code


# --- keys ----------------------------------------------------------------------------------------
def _add_keys_command(sub) -> None:
    p = sub.add_parser("keys", help="list every configuration key with its default and meaning")
    p.set_defaults(handler=_cmd_keys)


def _cmd_keys(args) -> int:
    for key, default, doc in zemosaic_config.describe_keys():
        print(f"{key} = {default!r}\n    {doc}")
    return EXIT_OK


# --- gui -----------------------------------------------------------------------------------------
def _add_inspect_command(sub) -> None:
    p = sub.add_parser("inspect", help="measure every frame's quality and show the decisions, without stacking",
                       description="Per frame of INPUT: time, tile group, stars, FWHM, elongation, sky, "
                                   "transparency, weight, decision and reason (the frame_* settings apply).")
    p.add_argument("input", type=Path, help="folder of raw FITS frames")
    p.add_argument("--csv", metavar="FILE", default=None, help="write the table as CSV to FILE ('-': stdout)")
    p.add_argument("--json", metavar="FILE", default=None, help="write the table as JSON to FILE ('-': stdout)")
    p.add_argument("--config", type=Path, metavar="FILE.json", help="JSON file of configuration keys")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="set one configuration key (repeatable)")
    p.set_defaults(handler=_cmd_inspect)


def _cmd_inspect(args) -> int:
    from zemosaic.pipeline.frame_records import frames_csv_text  # fast start: loaded when the subcommand runs
    from zemosaic.pipeline.inspect import format_table, inspect_frames

    cfg = zemosaic_config.resolve_config(config_file=args.config, overrides=list(args.overrides))
    if not args.input.is_dir():
        raise CliError(f"{args.input}: not a folder")
    result = inspect_frames(args.input, cfg)
    outputs = {"csv": (args.csv, frames_csv_text(result.rows)),
               "json": (args.json, json.dumps({"frames": result.rows, "unreadable": result.unreadable,
                                               "frame_exclude": result.exclude, "seconds": result.seconds},
                                              indent=1))}
    to_stdout = False
    for target, text in outputs.values():
        if target == "-":
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            to_stdout = True
        elif target:
            Path(target).write_text(text, encoding="utf-8")
    if not to_stdout:
        print(format_table(result.rows))
        for path, reason in result.unreadable:
            print(f"unreadable: {path}: {reason}")
        kept = sum(r["decision"] == "kept" for r in result.rows)
        print(f"{len(result.rows)} frames in {result.seconds:.1f} s: {kept} kept, {len(result.rows) - kept} not")
    return EXIT_OK


def _add_gui_command(sub) -> None:
    from zemosaic.gui import add_gui_arguments  # Qt-free: PySide6 is imported only when the window opens

    p = sub.add_parser("gui", help="open the desktop window (needs the gui extra: PySide6)",
                       description="Open the ZeMosaic desktop window.")
    add_gui_arguments(p)
    p.set_defaults(handler=_cmd_gui)


def _cmd_gui(args) -> int:
    from zemosaic.gui import run_gui  # fast start: the window's module loads when it opens

    try:
        return run_gui(args)
    except ImportError as exc:
        raise CliError(str(exc)) from exc


# --- progress ------------------------------------------------------------------------------------
class ProgressPrinter:
    """Turns :class:`ProgressEvent` objects into one text progress bar per phase on stderr (redrawn in place on a
    terminal; elsewhere, a log file or a pipe, one line every ``NOT_TTY_EVERY_S`` seconds and one at the end)."""

    NOT_TTY_EVERY_S = 10.0

    def __init__(self, stream=None, width: int = 30, clock=time.monotonic):
        self.stream = stream or sys.stderr
        self.width = width
        self._clock = clock
        self._phase: str | None = None
        self._start: tuple[float, int] = (0.0, 0)  # time and units done at the phase's first event
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_line = 0.0  # when the last line was written (not on a terminal)

    def __enter__(self) -> ProgressPrinter:
        return self

    def __exit__(self, *exc) -> None:
        self._finish_line()

    def __call__(self, event: ProgressEvent) -> None:
        now = self._clock()
        if event.phase != self._phase:
            self._finish_line()
            self._phase = event.phase
            self._start = (now, event.done)
            self._last_line = now
        done = min(event.done, event.total) if event.total else event.done
        filled = int(self.width * event.fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{event.phase:>9} [{bar}] {done}/{event.total}{self._rate_and_eta(now, done, event.total)} " \
               f"{event.message[:60]}"
        if self._tty:
            self.stream.write("\r" + line.ljust(110))
        elif (event.total and done >= event.total) or now - self._last_line >= self.NOT_TTY_EVERY_S:
            self.stream.write(line + "\n")
            self._last_line = now
        self.stream.flush()

    def _rate_and_eta(self, now: float, done: int, total: int) -> str:
        """`` 2.5/s ETA 0:42`` from the units done since the phase's first event (empty until one is done)."""
        elapsed, progressed = now - self._start[0], done - self._start[1]
        if elapsed <= 0 or progressed <= 0:
            return ""
        rate = progressed / elapsed
        text = f" {rate:.3g}/s"
        if total and done < total:
            text += f" ETA {_clock_text((total - done) / rate)}"
        elif total:
            text += f" in {_clock_text(elapsed)}"
        return text

    def _finish_line(self) -> None:
        if self._tty and self._phase is not None:
            self.stream.write("\n")
            self.stream.flush()
        self._phase = None


def _clock_text(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

