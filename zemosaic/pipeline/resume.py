"""``--resume``: a manifest per master tile, so a later run reuses every tile whose inputs and settings are unchanged.

``master_tile_NNN.json`` is written atomically right after ``master_tile_NNN.fits``. It holds the SHA-256 of the
tile file, of every input frame of the group (in group order, with the frame's WCS), the digest of the settings
that shape a tile (:func:`config_digest`) and what the run recorded about the tile (its report and rejected
frames), so a resumed run's report and mosaic are those of an uninterrupted run.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from zemosaic.config import ZeMosaicConfig
from zemosaic.io.atomic import atomic_write_bytes
from zemosaic.pipeline.frame_gate import decision_from_records
from zemosaic.pipeline.report import TileReport

__all__ = ["config_digest", "manifest_path", "write_tile_manifest", "reusable_tile", "file_sha256"]

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
# keys that only act after Phase 3 (or only on logs and what is kept): changing them does not change a master tile
_AFTER_TILES = ("harmonize_", "assembly_", "output_", "export_", "colour_")
NOT_TILE_KEYS = frozenset({"keep_master_tiles", "write_preview", "debug_tile_ids", "mosaic_background",
                            "max_workers", "memory_budget_mb", "scheduler"})  # where a tile is built, not how


# the quality gate's decision keys: a tile is rebuilt only when they change ITS decisions (compared by _mismatch on the
# measures its manifest kept); frame_exclude acts on a group's members, which the manifest's inputs compare
_GATE_KEYS = ("frame_reject_", "frame_partial_", "frame_exclude")


def config_digest(cfg: ZeMosaicConfig) -> str:
    """SHA-256 of the configuration keys that shape a master tile (the quality gate's decision keys aside)."""
    keys = {f.name: getattr(cfg, f.name) for f in fields(cfg)
            if f.name not in NOT_TILE_KEYS and not f.name.startswith(_AFTER_TILES + _GATE_KEYS)}
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(tiles_dir: Path, tile_id: int) -> Path:
    """``master_tile_NNN.json`` next to ``master_tile_NNN.fits``."""
    return tiles_dir / f"master_tile_{tile_id:03d}.json"


def inputs_record(members: Sequence[Any], reference: int) -> dict:
    frames = []
    for f in members:
        wcs = f.info.wcs.to_header_string(relax=True) if f.info.wcs is not None else ""
        frames.append({"path": str(f.path), "sha256": file_sha256(f.path),
                       "wcs_sha256": hashlib.sha256(wcs.encode("utf-8")).hexdigest()})
    return {"reference": reference, "frames": frames}


def write_tile_manifest(tiles_dir: Path, tile_id: int, tile_path: Path, members: Sequence[Any], reference: int,
                        cfg: ZeMosaicConfig, report: TileReport, failed: Sequence[tuple[Path, str]]) -> Path:
    """Write the manifest of a finished tile (atomically, after the tile itself)."""
    payload = {"version": MANIFEST_VERSION, "tile_id": tile_id, "tile_file": tile_path.name,
               "tile_sha256": file_sha256(tile_path), "config_digest": config_digest(cfg),
               "inputs": inputs_record(members, reference), "report": asdict(report),
               "failed_inputs": [[str(p), r] for p, r in failed]}
    return atomic_write_bytes(manifest_path(tiles_dir, tile_id), json.dumps(payload, indent=1).encode("utf-8"))


def reusable_tile(tiles_dir: Path, tile_id: int, members: Sequence[Any], reference: int, cfg: ZeMosaicConfig
                  ) -> tuple[Path, TileReport, list[tuple[Path, str]]] | None:
    """The finished tile ``tile_id`` with its report and rejected frames when its manifest matches this group and
    these settings, else None (the reason is logged)."""
    mpath = manifest_path(tiles_dir, tile_id)
    why: str | None
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        manifest, why = {}, "no manifest"
    except (OSError, ValueError) as exc:
        manifest, why = {}, f"unreadable manifest ({exc})"
    else:
        why = _mismatch(manifest, tiles_dir, tile_id, members, reference, cfg)
    if why is not None:
        log.info("resume: master tile %d rebuilt (%s)", tile_id, why)
        return None
    tile_path = tiles_dir / str(manifest["tile_file"])
    report = TileReport(**manifest["report"])
    failed = [(Path(p), str(r)) for p, r in manifest.get("failed_inputs", [])]
    log.info("resume: master tile %d reused (%s, inputs and settings unchanged)", tile_id, tile_path.name)
    return tile_path, report, failed


def _gate_changed(report: dict, cfg: ZeMosaicConfig) -> bool:
    """Whether this run's quality settings decide the tile's frames differently (from the measures kept)."""
    stored = report.get("quality_signature")
    if stored is None:
        return False
    judged = [r for r in report.get("frame_quality", []) if r.get("judged")]
    return decision_from_records(judged, cfg) != stored


def _mismatch(manifest: dict, tiles_dir: Path, tile_id: int, members: Sequence[Any], reference: int,
              cfg: ZeMosaicConfig) -> str | None:
    """Why the manifest's tile cannot be reused for this group, or None."""
    if manifest.get("version") != MANIFEST_VERSION or manifest.get("tile_id") != tile_id:
        return "manifest of another version or tile"
    if manifest.get("config_digest") != config_digest(cfg):
        return "settings changed"
    if manifest.get("inputs") != inputs_record(members, reference):
        return "input frames changed"
    if _gate_changed(manifest.get("report") or {}, cfg):
        return "frame-quality decisions changed"
    tile_path = tiles_dir / str(manifest.get("tile_file", ""))
    if not tile_path.is_file() or file_sha256(tile_path) != manifest.get("tile_sha256"):
        return "tile file missing or changed"
    return None
