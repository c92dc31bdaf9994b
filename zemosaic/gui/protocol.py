"""The JSON-lines protocol between the GUI and its run process (:mod:`zemosaic.gui.worker`).

Each line on the child's standard output is one JSON object with a ``type``:

``progress``  ``phase``, ``done``, ``total``, ``message`` (a :class:`~zemosaic.progress.ProgressEvent`)
``log``       ``level`` (``INFO``...), ``levelno``, ``logger``, ``tag``, ``message``, ``time``
``tile``      ``tile_id``, ``path``, ``image_png``, ``alpha_png``, ``coverage_png`` (base64 PNG thumbnails)
``result``    the :class:`~zemosaic.pipeline.run.RunResult` fields and its ``summary``
``error``     ``kind`` (one of :data:`ERROR_KINDS`), ``message``, ``details``

The GUI writes ``cancel`` (one line) on the child's standard input to stop the run; closing it does the same.
Nothing is parsed out of log text: the tag of a log line is given only to filter the log view.
"""
from __future__ import annotations

import json
import re
from typing import Any

from zemosaic.progress import ProgressEvent

__all__ = ["ERROR_KINDS", "CANCEL_COMMAND", "encode", "decode", "progress_event", "log_tag"]

ERROR_KINDS = ("folder", "config", "nothing_usable", "interrupted", "os_error", "crash")
CANCEL_COMMAND = "cancel"
# a worker process's lines start with the tile they belong to ("[tile 3] MT_EDGE_TRIM ..."): the tag follows it
_TAG = re.compile(r"^(?:\[tile \d+\] )?([A-Z][A-Z0-9_]{2,})(?::\d+)?\b")


def encode(message_type: str, /, **fields: Any) -> str:
    """One protocol line (no newline) of type ``message_type``."""
    return json.dumps({"type": message_type, **fields}, default=str, separators=(",", ":"))


def decode(line: str | bytes) -> dict[str, Any] | None:
    """The object of one protocol line, or None for a line that is not one (stray output of a library)."""
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) and isinstance(obj.get("type"), str) else None


def progress_event(obj: dict[str, Any]) -> ProgressEvent:
    """The :class:`ProgressEvent` of a ``progress`` line."""
    return ProgressEvent(str(obj["phase"]), int(obj["done"]), int(obj["total"]), str(obj.get("message", "")))


def log_tag(logger_name: str, message: str) -> str:
    """The tag the log view filters on: the message's leading upper-case tag (``MT_COVERAGE_STATS``,
    ``PHASE_UPDATE``), else the last part of the logger's name (``run``, ``master_tile``)."""
    match = _TAG.match(message)
    return match.group(1) if match else logger_name.rsplit(".", 1)[-1]
