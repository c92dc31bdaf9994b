"""The run process of the GUI: ``python -m zemosaic.gui.worker INPUT OUTPUT --config CFG.json``.

Runs :func:`zemosaic.pipeline.run.run_mosaic` and writes its progress events, log records, the thumbnails of
each master tile once written, and the result or the error as JSON lines on standard output
(:mod:`zemosaic.gui.protocol`). A ``cancel`` line on standard input (or standard input closing: the window is
gone) stops the run exactly as SIGTERM stops ``zemosaic run``: caches and temporary files are removed,
finished master tiles are kept, ``run_report.json`` says ``interrupted``. Qt-free.
"""
from __future__ import annotations

import _thread
import argparse
import base64
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from zemosaic.gui import protocol

__all__ = ["main"]

log = logging.getLogger(__name__)


class _Channel:
    """Writes protocol lines on the real standard output (thread-safe); ``print`` goes to stderr meanwhile."""

    def __init__(self, stream: IO[str]):
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message_type: str, /, **fields: Any) -> None:
        line = protocol.encode(message_type, **fields)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class _LogForwarder(logging.Handler):
    def __init__(self, channel: _Channel):
        super().__init__(logging.INFO)
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            self._channel.send("log", level=record.levelname, levelno=record.levelno, logger=record.name,
                               tag=protocol.log_tag(record.name, message), message=message, time=record.created)
        except Exception:  # noqa: BLE001 - a log line that cannot be sent must not stop the run
            self.handleError(record)


class _TileWatcher:
    """Sends each master tile once its manifest (written after the tile) exists; checked at each progress event."""

    def __init__(self, channel: _Channel, tiles_dir: Path):
        self._channel, self._dir = channel, tiles_dir
        self._sent: set[str] = set()

    def check(self) -> None:
        from zemosaic.gui.thumbnails import tile_thumbnails  # process start: see main()

        if not self._dir.is_dir():
            return
        for manifest in sorted(self._dir.glob("master_tile_*.json")):
            tile = manifest.with_suffix(".fits")
            if tile.name in self._sent or not tile.is_file():
                continue
            self._sent.add(tile.name)
            try:
                thumbs = tile_thumbnails(tile)
            except Exception as exc:  # noqa: BLE001 - a thumbnail is a nicety: say why it is missing, go on
                log.warning("no thumbnail for %s: %s", tile.name, exc)
                continue
            self._channel.send("tile", tile_id=int(tile.stem.rsplit("_", 1)[-1]), path=str(tile),
                               shape=list(thumbs.shape), image_png=_b64(thumbs.image_png),
                               alpha_png=_b64(thumbs.alpha_png), coverage_png=_b64(thumbs.coverage_png))


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def _watch_stdin(stream: IO[str]) -> None:
    """A ``cancel`` line, or the end of standard input, stops the run as SIGTERM would."""
    for line in stream:
        if line.strip() == protocol.CANCEL_COMMAND:
            break
    _thread.interrupt_main(signal.SIGTERM)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zemosaic.gui.worker")
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)

    channel = _Channel(sys.stdout)
    sys.stdout = sys.stderr  # stray prints of libraries must not mix with the protocol
    # process start: the pipeline loads after stdout became the protocol channel (no stray print can corrupt it)
    from zemosaic.pipeline.run import RunInterrupted

    def _raise_interrupted(signum, frame):
        raise RunInterrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _raise_interrupted)  # before run_mosaic installs its own (same effect)
    threading.Thread(target=_watch_stdin, args=(sys.stdin,), daemon=True, name="zemosaic-cancel").start()
    root = logging.getLogger()
    root.addHandler(_LogForwarder(channel))
    root.setLevel(logging.INFO)
    try:
        return _run(args, channel)
    except RunInterrupted as exc:
        channel.send("error", kind="interrupted", message=str(exc), details="")
        return 143
    except BaseException as exc:  # noqa: BLE001 - the window shows it as a message instead of a traceback
        channel.send("error", kind="crash", message=f"{type(exc).__name__}: {exc}", details=traceback.format_exc())
        return 1


def _run(args: argparse.Namespace, channel: _Channel) -> int:
    from zemosaic.config import ConfigError, resolve_config  # process start: see main()
    from zemosaic.pipeline import run as pipeline_run

    try:
        cfg = resolve_config(config_file=args.config)
    except ConfigError as exc:
        channel.send("error", kind="config", message=str(exc), details="")
        return 2
    tiles = _TileWatcher(channel, args.output / "master_tiles")

    def on_progress(event) -> None:
        channel.send("progress", phase=event.phase, done=event.done, total=event.total, message=event.message)
        if event.phase in ("tiles", "assemble"):
            tiles.check()

    try:
        result = pipeline_run.run_mosaic(args.input, args.output, cfg, progress_callback=on_progress,
                                         overwrite=args.overwrite, resume=args.resume)
    except pipeline_run.RunFolderError as exc:
        channel.send("error", kind="folder", message=str(exc), details="")
        return 2
    except pipeline_run.NothingUsableError as exc:
        channel.send("error", kind="nothing_usable", message=str(exc), details=str(args.output / "run_report.json"))
        return 1
    except OSError as exc:
        from zemosaic.io.atomic import os_error_text  # process start: see main()

        channel.send("error", kind="os_error", message=os_error_text(exc), details="")
        return 3
    tiles.check()
    channel.send("result", output_dir=str(result.output_dir), mosaic_path=str(result.mosaic_path),
                 preview_path=str(result.preview_path) if result.preview_path else None,
                 report_path=str(result.report_path), log_path=str(result.log_path), mode=result.mode,
                 n_tiles=result.n_tiles, n_frames_used=result.n_frames_used,
                 n_inputs_rejected=result.n_inputs_rejected, mosaic_shape=list(result.mosaic_shape),
                 summary=result.summary_text())
    return 0


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
