"""The `hccr` command line run in-process for the tests (typer's CliRunner)."""

from __future__ import annotations

from typer.testing import CliRunner

from flow.cli import app

runner = CliRunner()


def invoke(*args: str) -> str:
    """The output of `hccr ARGS...`, which must exit 0."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output
