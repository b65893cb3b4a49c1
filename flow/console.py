"""Shared rich console, progress bars and one-line error reporting for the CLI."""

from __future__ import annotations

import functools
from collections.abc import Callable
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

console = Console(stderr=True)

F = TypeVar("F", bound=Callable)


class HccrError(Exception):
    """An error the user can fix; the CLI prints its message on one line, no traceback."""


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
