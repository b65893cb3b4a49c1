"""The `hccr` command line run in-process for the tests (typer's CliRunner)."""

from __future__ import annotations

from typer.testing import CliRunner

from flow.cli import app

runner = CliRunner()


def hccr(*args: object):
    """Run `hccr ARGS...` in-process (each argument as text); typer's result."""
    return runner.invoke(app, [str(a) for a in args])


def invoke(*args: object) -> str:
    """The output of `hccr ARGS...`, which must exit 0."""
    result = hccr(*args)
    assert result.exit_code == 0, result.output
    return result.output
