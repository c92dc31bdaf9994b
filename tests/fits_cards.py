"""Test helper: write a header card byte for byte, as a broken writer would (astropy refuses to write NaN)."""
from __future__ import annotations

from pathlib import Path


def write_raw_card(path: Path, key: str, text: str) -> None:
    """Replace the card ``key`` with ``KEY = text`` byte for byte (astropy would refuse to write ``NaN``)."""
    data = bytearray(path.read_bytes())
    for i in range(0, 2880 * 4, 80):
        if data[i:i + 8].decode("ascii").strip() == key:
            data[i:i + 80] = f"{key:<8}= {text:>20}".ljust(80).encode("ascii")
            path.write_bytes(bytes(data))
            return
    raise AssertionError(f"no card {key} in {path}")
