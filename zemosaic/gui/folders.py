"""The folder checks the window makes before a run (the CLI's, plus where the FITS files are), Qt-free."""
from __future__ import annotations

from pathlib import Path

from zemosaic.pipeline.lock import LOCK_NAME
from zemosaic.pipeline.run import COMPRESSED_FITS_SUFFIXES, FITS_SUFFIXES

__all__ = ["EXISTING_OUTPUT_POLICIES", "folder_problems"]

EXISTING_OUTPUT_POLICIES = ("refuse", "overwrite", "resume")


def folder_problems(input_dir: str | Path | None, output_dir: str | Path | None, *,
                    existing_output: str = "refuse", recursive: bool = False) -> list[str]:
    """The reasons a run on these folders would be refused, each one sentence (empty: the folders are fine).

    The checks of ``zemosaic run`` (missing input, output inside the input, an output that is a file, a non-empty
    output without ``overwrite``/``resume``) and, for the input, that it holds FITS files (directly, unless
    ``recursive``: the ``input_recursive`` key); a folder whose FITS files sit only in subfolders is named with one
    of them.
    """
    if existing_output not in EXISTING_OUTPUT_POLICIES:
        raise ValueError(f"existing_output must be one of {EXISTING_OUTPUT_POLICIES}, got {existing_output!r}")
    problems: list[str] = []
    inp = Path(input_dir) if input_dir else None
    out = Path(output_dir) if output_dir else None
    if inp is None:
        problems.append("Choose the input folder (the FITS frames).")
    elif not inp.is_dir():
        problems.append(f"Input folder {inp} {'is a file' if inp.exists() else 'does not exist'}.")
    else:
        problems.extend(_fits_problems(inp, recursive))
    if out is None:
        problems.append("Choose the output folder.")
        return problems
    if inp is not None and inp.is_dir():
        i, o = inp.resolve(), out.resolve()
        if o == i or i in o.parents:
            problems.append(f"Output folder {out} is inside the input folder {inp}: the input is never modified, "
                            "choose another output folder.")
    if out.exists() and not out.is_dir():
        problems.append(f"Output {out} is a file, not a folder.")
    elif out.is_dir() and existing_output == "refuse" and any(p.name != LOCK_NAME for p in out.iterdir()):
        problems.append(f"Output folder {out} is not empty: choose an empty folder, or Overwrite (removes what an "
                        "earlier run wrote there) or Resume (reuses its finished master tiles).")
    return problems


def _fits_problems(inp: Path, recursive: bool) -> list[str]:
    def is_fits(p: Path) -> bool:
        return p.is_file() and p.name.lower().endswith(FITS_SUFFIXES + COMPRESSED_FITS_SUFFIXES)

    if any(is_fits(p) for p in (inp.rglob("*") if recursive else inp.iterdir())):
        return []
    for sub in sorted(p for p in inp.rglob("*") if p.is_dir()):
        if any(is_fits(p) for p in sub.iterdir()):
            return [f"Input folder {inp} holds no FITS file itself, but its subfolder {sub.relative_to(inp)} does: "
                    "choose that subfolder, or tick input_recursive (Advanced) to search subfolders."]
    return [f"Input folder {inp} holds no FITS file ({', '.join(FITS_SUFFIXES)})."]
