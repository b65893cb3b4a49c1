"""User-facing text: the README, docs/ and the CLI help name subjects, not issue numbers; the
docs' relative links, #anchors and the repository files they name exist; the README's command
table matches the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from base.paths import ROOT
from flow.cli import app

ISSUE = re.compile(r"\bissues?\s*#?\s*\d+", re.IGNORECASE)
LINK = re.compile(r"\]\(([^)\s]+)\)")
REPO_PATH = re.compile(r"`((?:base|model|quant|hw|sim|flow|tools|tests|bench)/[\w./-]*)`")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _walk(cmd, path: tuple[str, ...] = ()):
    """(path, command) for every command of the CLI (a typer/click tree), the root included."""
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _walk(sub, (*path, name))


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    return {_slug(m) for m in re.findall(r"^#+\s+(.*)$", text, flags=re.MULTILINE)}


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_docs_name_no_issue_numbers(path):
    hits = [m.group(0) for m in ISSUE.finditer(path.read_text())]
    assert not hits, f"{path.name}: {hits}"


def test_cli_help_names_no_issue_numbers():
    runner = CliRunner()
    paths = [path for path, _ in _walk(typer.main.get_command(app))]
    assert ("data", "synth") in paths and ("report",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        hits = [m.group(0) for m in ISSUE.finditer(result.output)]
        assert not hits, f"hccr {' '.join(path)} --help: {hits}"


def test_issue_pattern_catches_references():
    for text in ("issue 8", "Issue 7's benchmark", "issues 8 and 9", "issue #12"):
        assert ISSUE.search(text), text
    assert not ISSUE.search("the window unit issues a group only when a credit")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(path):
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        assert dest.exists(), f"{path.name}: link to missing {target}"
        if anchor and dest.suffix == ".md":
            assert anchor in _anchors(dest), f"{path.name}: no heading for #{anchor} in {dest.name}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_named_repository_files_exist(path):
    missing = sorted({p for p in REPO_PATH.findall(path.read_text()) if not (ROOT / p).exists()})
    assert not missing, f"{path.name} names files that do not exist: {missing}"


def _readme_commands() -> dict[tuple[str, ...], set[str]]:
    """The README's command table: command path -> the options its synopsis names."""
    rows = {}
    for synopsis in re.findall(r"^\| `hccr ([^`]*)`", (ROOT / "README.md").read_text(), re.M):
        words = re.match(r"[a-z ]*[a-z]", synopsis).group(0).split()
        rows[tuple(words)] = set(re.findall(r"--[a-z][a-z-]*", synopsis))
    return rows


def test_readme_command_table_matches_cli():
    cli = {path: cmd for path, cmd in _walk(typer.main.get_command(app)) if path}
    leaves = {path for path, cmd in cli.items() if not getattr(cmd, "commands", None)}
    rows = _readme_commands()
    assert set(rows) == leaves, f"README rows {sorted(set(rows) ^ leaves)} vs the CLI"
    for path, options in rows.items():
        known = {o for p in cli[path].params for o in (*p.opts, *p.secondary_opts)}
        assert options <= known, f"hccr {' '.join(path)}: {sorted(options - known)} unknown"
