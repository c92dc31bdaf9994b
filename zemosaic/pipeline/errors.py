"""The run's own exception for "nothing to make a mosaic from", raised by every mode (master tiles, GRID, SDS)."""
from __future__ import annotations

__all__ = ["NothingUsableError"]


class NothingUsableError(RuntimeError):
    """The run found nothing it could turn into a mosaic (the message says why)."""
