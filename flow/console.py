"""Shared rich console, progress bars and one-line error reporting for the CLI.

The packages below flow/ know none of this: they take a `base.progress.Progress` (here
`progress_bar`) and log through `logging`, which `log_to_console` prints here."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from base.errors import HccrError
from base.progress import Advance

WIDE = 160  # columns of the report tables
console = Console(stderr=True)
if not console.is_terminal:  # a log or a pipe: rich would squeeze the report tables into 80
    console.width = max(console.width, WIDE)

F = TypeVar("F", bound=Callable)
LOGGERS = ("base", "model", "quant", "hw", "sim")  # the packages whose INFO messages are shown


def progress() -> Progress:
    """A progress bar with count, elapsed and remaining time (on stderr)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


@contextlib.contextmanager
def progress_bar(description: str, total: int) -> Iterator[Advance]:
    """`base.progress.Progress` drawn as a `progress()` bar."""
    with progress() as bar:
        task = bar.add_task(description, total=total, info="")

        def advance(steps: int = 1, info: str | None = None) -> None:
            bar.update(task, advance=steps, **({} if info is None else {"info": info}))

        yield advance


class _ConsoleHandler(logging.Handler):
    """Log records printed as plain lines on the console (above any live progress bar)."""

    def emit(self, record: logging.LogRecord) -> None:
        console.print(self.format(record), markup=False, highlight=False)


def log_to_console() -> None:
    """Show the INFO messages of the packages below flow/ on the console (once per process)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, _ConsoleHandler) for h in logger.handlers):
            logger.addHandler(_ConsoleHandler())
        logger.setLevel(logging.INFO)


def user_errors(*kinds: type[Exception]) -> Callable[[F], F]:
    """Turn `HccrError` (and the given exception kinds) into a red one-line message, exit 1."""
    caught = (HccrError, *kinds)

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except caught as exc:
                console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(1) from None

        return inner  # type: ignore[return-value]

    return wrap


@contextlib.contextmanager
def lazy_progress(description: str, total: int, info: str = "") -> Iterator[Callable[[int], None]]:
    """A progress bar that starts on its first advance, yielding `advance(n)`.

    For work done by forked worker processes: the bar's refresh thread must not exist when
    the workers are forked, and they are forked before the first result arrives.
    """
    bar = progress()
    task = bar.add_task(description, total=total, info=info)

    def advance(n: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.advance(task, n)

    try:
        yield advance
    finally:
        if bar.live.is_started:
            bar.stop()
