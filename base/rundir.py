"""Run directories: every artefact of a run under `runs/<name>/`, described by `manifest.json`
with the SHA-256 of each file."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

MANIFEST = "manifest.json"
TRACKED_PACKAGES = ("hccr-fpga", "torch", "numpy", "scipy", "pillow")


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Python, package and git versions that produced a run."""
    out = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    try:
        out["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True, check=True, cwd=Path(__file__).parent
                                    ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out["git"] = "unknown"
    return out


def write_manifest(run_dir: Path, config: dict, stages: list[dict]) -> dict:
    """Write `manifest.json`: command, config (seeds included), versions, stage timings and
    the SHA-256 of every file in the run directory."""
    artefacts = {
        str(p.relative_to(run_dir)): sha256(p)
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.name != MANIFEST and not p.name.endswith(".partial")
    }
    manifest = {
        "name": run_dir.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]),
        "config": config,
        "versions": versions(),
        "stages": stages,
        "artefacts": artefacts,
    }
    (run_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest
