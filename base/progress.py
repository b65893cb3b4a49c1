"""Progress reporting without a user interface: lower layers take a `Progress`, flow/ draws it.

A `Progress` opens a task of `total` steps and yields an `Advance`: `advance(steps, info)` moves
it on by `steps` (0 only updates the text) and, when `info` is given, replaces the task's text.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol


class Advance(Protocol):
    def __call__(self, steps: int = 1, info: str | None = None) -> None: ...


class Progress(Protocol):
    def __call__(self, description: str, total: int) -> AbstractContextManager[Advance]: ...


def _ignore(steps: int = 1, info: str | None = None) -> None:
    """An `Advance` that shows nothing."""


@contextlib.contextmanager
def silent(description: str, total: int) -> Iterator[Advance]:
    """A `Progress` that shows nothing: the default wherever no user interface is attached."""
    yield _ignore


@contextlib.contextmanager
def lines(description: str, total: int) -> Iterator[Advance]:
    """A `Progress` that prints one line per advance on stderr (scripts without the CLI)."""
    done = 0

    def advance(steps: int = 1, info: str | None = None) -> None:
        nonlocal done
        done += steps
        print(f"{description}: {done}/{total} {info or ''}".rstrip(), file=sys.stderr, flush=True)

    yield advance
