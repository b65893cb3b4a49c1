"""Carry a `tools/seeds3755.sh` run across machines that keep only what is committed.

    python tools/seeds3755_keep.py save OUT KEEP      # OUT's resumable state → KEEP
    python tools/seeds3755_keep.py restore KEEP OUT   # KEEP → OUT, never over a newer file

What is kept: the finished steps' `done/` files, the logs, and the run folders (checkpoints,
models, metrics, QAT and IR folders). What is not: the data and the validation writers
(`hccr data synth` remakes them bit for bit from their seeds), the golden logits, hls4ml and
RTL build folders, and the `done/` files of the steps that wrote them (`data`, `val_data`,
`*-golden`, `*-hls`, `*-rtl`), so those steps run again after a restore; a finished run's
`checkpoint.pt` (its `model.pt` is what later steps read). `save` replaces KEEP (only an
empty folder or an earlier save, which holds the run's `knobs`); `restore`
copies a file only where OUT lacks it or holds an older one, so it never undoes work done
since the save.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REDONE = ("data", "-golden", "-hls", "-rtl")  # steps whose outputs are not kept
SKIPPED_DIRS = {"data", "val_data", "hls", "rtl"}
SKIPPED_FILES = {"golden.npz"}


def kept(out: Path) -> list[Path]:
    """The files of OUT that `save` keeps, relative to OUT."""
    done = {p.name for p in (out / "done").glob("*")}
    files = []
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if not path.is_file() or SKIPPED_DIRS & set(rel.parts[:-1]) or rel.name in SKIPPED_FILES:
            continue
        if rel.parts[0] == "done" and rel.name.endswith(REDONE):
            continue
        if rel.name == "checkpoint.pt" and len(rel.parts) == 2 and rel.parts[0] in done:
            continue
        files.append(rel)
    return files


def save(out: Path, keep: Path) -> None:
    if not (out / "done").is_dir():
        raise SystemExit(f"error: {out}: not a seeds3755 run (no done/ folder)")
    if keep.exists():
        if any(keep.iterdir()) and not (keep / "knobs").is_file():
            raise SystemExit(f"error: {keep}: not an earlier save (no knobs file); refusing "
                             "to replace it")
        shutil.rmtree(keep)
    for rel in kept(out):
        (keep / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(out / rel, keep / rel)


def restore(keep: Path, out: Path) -> None:
    if not (keep / "done").is_dir():
        raise SystemExit(f"error: {keep}: not a saved seeds3755 run (no done/ folder)")
    for path in sorted(keep.rglob("*")):
        target = out / path.relative_to(keep)
        if path.is_file() and (not target.exists()
                               or target.stat().st_mtime < path.stat().st_mtime):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def main(argv: list[str]) -> None:
    if len(argv) != 3 or argv[0] not in ("save", "restore"):
        raise SystemExit("usage: seeds3755_keep.py save OUT KEEP | restore KEEP OUT")
    (save if argv[0] == "save" else restore)(Path(argv[1]), Path(argv[2]))


if __name__ == "__main__":
    main(sys.argv[1:])
