"""`hccr data ...`: synthesize, inspect and preview handwriting data."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
