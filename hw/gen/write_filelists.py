"""`python -m hw.gen.write_filelists [DIR]`: write DIR/<engine>.f (default build/filelists/) for
every engine of `hw.gen.engines.SOURCES`. A module of its own: `hw.gen.engines` imports
`hw.gen.filelist`, so the file list module cannot import the engines back."""

from __future__ import annotations

import sys
from pathlib import Path

from hw.gen.engines import SOURCES
from hw.gen.filelist import DEFAULT_DIR, write_filelists


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for path in write_filelists(SOURCES, Path(args[0]) if args else DEFAULT_DIR):
        print(path)


if __name__ == "__main__":
    main()
