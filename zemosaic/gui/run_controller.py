"""The run controller: starts :mod:`zemosaic.gui.worker` in a child process (QProcess) and turns its JSON lines
into Qt signals. The window stays responsive whatever the run does; a crash of the child is a ``failed`` signal."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from zemosaic.config import ZeMosaicConfig
from zemosaic.gui import protocol
from zemosaic.pipeline import guard, lock

__all__ = ["RunController"]

KILL_AFTER_MS = 15000  # a run that has not stopped this long after Cancel is killed (then its leftovers removed)
_STDERR_TAIL = 20000


class RunController(QObject):
    """One run at a time. Signals carry the protocol's objects (:mod:`zemosaic.gui.protocol`)."""

    worker_module = "zemosaic.gui.worker"  # the module run as ``python -m`` (tests replace it)

    progress = Signal(object)  # ProgressEvent
    logRecord = Signal(dict)
    tileWritten = Signal(dict)
    succeeded = Signal(dict)  # the ``result`` object
    failed = Signal(str, str, str)  # kind, message, details
    runningChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._process: QProcess | None = None
        self._buffer = b""
        self._stderr = b""
        self._ended: tuple | None = None  # the result or error line, signalled once the process has ended
        self._cancelled = False
        self._config_file: str | None = None
        self._output_dir: Path | None = None
        self._inputs: guard.RunInputs | None = None

    # --- public --------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._process is not None

    def start(self, input_dir: Path, output_dir: Path, config: ZeMosaicConfig, *, existing_output: str = "refuse"
              ) -> None:
        """Start a run (the folders were checked by the window; the run checks them again)."""
        if self._process is not None:
            raise RuntimeError("a run is already going on")
        fd, self._config_file = tempfile.mkstemp(prefix="zemosaic_gui_", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(config), handle)
        args = ["-m", self.worker_module, str(input_dir), str(output_dir), "--config", self._config_file]
        if existing_output in ("overwrite", "resume"):
            args.append(f"--{existing_output}")
        self._buffer, self._stderr, self._ended, self._cancelled = b"", b"", None, False
        self._output_dir = Path(output_dir)
        self._inputs = guard.run_inputs(input_dir, recursive=config.input_recursive)
        process = QProcess(self)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        self.runningChanged.emit(True)
        process.start(sys.executable, args)

    def cancel(self) -> None:
        """Ask the run to stop (as SIGTERM does); kill it if it has not stopped after ``KILL_AFTER_MS``."""
        process = self._process
        if process is None or self._cancelled:
            return
        self._cancelled = True
        process.write((protocol.CANCEL_COMMAND + "\n").encode("ascii"))
        QTimer.singleShot(KILL_AFTER_MS, self._kill_if_running)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the run process ends (used when the window closes); True when it did."""
        if self._process is None:
            return True
        return self._process.waitForFinished(msecs)

    # --- private -------------------------------------------------------------------------------
    def _kill_if_running(self) -> None:
        if self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning:
            self._process.kill()

    def _read_stdout(self) -> None:
        if self._process is None:
            return
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            obj = protocol.decode(line)
            if obj is not None:
                self._dispatch(obj)

    def _read_stderr(self) -> None:
        if self._process is not None:
            self._stderr = (self._stderr + bytes(self._process.readAllStandardError().data()))[-_STDERR_TAIL:]

    def _dispatch(self, obj: dict) -> None:
        kind = obj["type"]
        if kind == "progress":
            self.progress.emit(protocol.progress_event(obj))
        elif kind == "log":
            self.logRecord.emit(obj)
        elif kind == "tile":
            self.tileWritten.emit(obj)
        elif kind == "result":
            self._ended = ("result", obj)
        elif kind == "error":
            self._ended = ("error", str(obj.get("kind", "crash")), str(obj.get("message", "")),
                           str(obj.get("details", "")))

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._finish()
            self.failed.emit("crash", f"the run process could not start ({sys.executable})", "")

    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        if self._buffer.strip():
            obj = protocol.decode(self._buffer)
            if obj is not None:
                self._dispatch(obj)
        ended, cancelled, output_dir = self._ended, self._cancelled, self._output_dir
        stderr = self._stderr.decode("utf-8", "replace")
        self._finish()
        if ended is not None and ended[0] == "result":
            self.succeeded.emit(ended[1])
            return
        if ended is not None:
            self.failed.emit(*ended[1:])
            return
        if cancelled and output_dir is not None:  # killed after Cancel: remove what it could not
            lock.remove_temporary_leftovers(output_dir, self._inputs)
            self.failed.emit("interrupted", "the run was stopped (killed after Cancel)", stderr)
            return
        how = "crashed" if exit_status == QProcess.ExitStatus.CrashExit else f"ended with exit code {exit_code}"
        self.failed.emit("crash", f"the run process {how} without a result", stderr)

    def _finish(self) -> None:
        if self._process is not None:
            self._process.deleteLater()
        self._process = None
        if self._config_file:
            Path(self._config_file).unlink(missing_ok=True)
            self._config_file = None
        self.runningChanged.emit(False)
