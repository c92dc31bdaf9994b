"""The output-folder lock knows its owner's process by pid AND start time (issue 31 item 6): a lock whose pid is
alive but belongs to another process (the pid was reused after a kill -9 and a reboot or a long night) is stale."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from zemosaic.pipeline import lock


def _write_lock(folder, pid, process_start):
    owner = {"pid": pid, "host": socket.gethostname(), "started": "then"}
    if process_start is not None:
        owner["process_start"] = process_start
    (folder / lock.LOCK_NAME).write_text(json.dumps(owner))


def test_the_lock_records_the_owner_process_start(tmp_path):
    with lock.output_folder_lock(tmp_path) as path:
        owner = json.loads(path.read_text())
        assert owner["pid"] == os.getpid()
        assert owner["process_start"] == lock.process_start(os.getpid()) is not None
    assert not (tmp_path / lock.LOCK_NAME).exists()


def test_process_start_tells_two_processes_apart():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert lock.process_start(child.pid) not in (None, lock.process_start(os.getpid()))
    finally:
        child.kill()
        child.wait()
    assert lock.process_start(child.pid) is None  # gone


def test_a_live_pid_of_another_process_is_a_stale_lock(tmp_path, caplog):
    # our own pid, alive, but recorded with the start time of some earlier process: the pid was reused
    _write_lock(tmp_path, os.getpid(), "earlier-boot:12345")
    with caplog.at_level("WARNING"), lock.output_folder_lock(tmp_path) as path:
        assert json.loads(path.read_text())["process_start"] == lock.process_start(os.getpid())
    assert "now belongs to another process" in caplog.text


@pytest.mark.parametrize("recorded", ["same", None])
def test_a_live_owner_still_holds_its_lock(tmp_path, recorded):
    """The same process (same start time), or a lock of an earlier version without a start time: not stolen."""
    _write_lock(tmp_path, os.getpid(), lock.process_start(os.getpid()) if recorded else None)
    with pytest.raises(lock.OutputFolderLockedError, match=f"pid {os.getpid()}"):
        with lock.output_folder_lock(tmp_path):
            pass
