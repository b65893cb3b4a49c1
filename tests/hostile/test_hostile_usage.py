"""Usage errors of every command (an unknown option, a missing required option, a value of
the wrong type, an unknown command): one `error:` line naming the command and the option,
exit 1, no traceback, like every other bad input."""

from __future__ import annotations

import pytest
import typer

from flow.cli import app
from tests.hostile.conftest import hccr, refused


def _commands(group=None, path=()) -> list[tuple[tuple[str, ...], object]]:
    group = group or typer.main.get_command(app)
    found = []
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            found += _commands(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


def _ids(commands) -> list[str]:
    return [" ".join(path) for path, _ in commands]


def _number_options(command) -> list:
    return [p for p in command.params if p.param_type_name == "option"
            and p.type_descriptor.annotation in (int, float)]


COMMANDS = _commands()
NAMES = _ids(COMMANDS)
WITH_REQUIRED = [(path, c) for path, c in COMMANDS if any(p.required for p in c.params)]
WITH_NUMBERS = [(path, c) for path, c in COMMANDS if _number_options(c)]


def test_every_command_is_listed() -> None:
    assert {"train", "rtl", "data synth", "data merge", "compress gslre"} <= set(NAMES)
    assert len(WITH_REQUIRED) >= len(COMMANDS) - 3 and len(WITH_NUMBERS) >= len(COMMANDS) // 2


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=NAMES)
def test_unknown_option(path, command) -> None:
    refused(*path, "--no-such-option", "1", names=(" ".join(path), "--no-such-option"))


@pytest.mark.parametrize(("path", "command"), WITH_REQUIRED, ids=_ids(WITH_REQUIRED))
def test_missing_required_option(path, command) -> None:
    first = next(p for p in command.params if p.required)
    hint = first.opts[0] if first.param_type_name == "option" else first.name.upper()
    refused(*path, names=(" ".join(path), hint))


@pytest.mark.parametrize(("path", "command"), WITH_NUMBERS, ids=_ids(WITH_NUMBERS))
def test_number_option_given_a_word(path, command) -> None:
    numbers = _number_options(command)
    refused(*path, numbers[0].opts[0], "many", names=(numbers[0].opts[0],))


def test_unknown_command() -> None:
    refused("no-such-command", names=("no-such-command",))


def test_no_arguments_shows_the_help() -> None:
    result = hccr()
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Usage" in result.output and "error:" not in result.output
