"""The `hccr` command line. Thin: every command calls into model/, quant/, hw/ and sim/."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import typer
from rich.markup import escape
from typer._click import exceptions as click_errors  # typer 0.29 vendors click
from typer.core import TyperGroup

from flow import (
    cmd_compare,
    cmd_compress,
    cmd_data,
    cmd_demo,
    cmd_distill,
    cmd_hls,
    cmd_merge,
    cmd_prune,
    cmd_quant,
    cmd_report,
    cmd_rtl,
    cmd_train,
)
from flow.console import console, log_to_console


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C: every `finally` removes its temporary files and folders."""
    raise SystemExit(128 + signum)


def start() -> None:
    """Before every command: show the lower packages' log lines; clean up on SIGTERM."""
    log_to_console()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)


class _Cli(TyperGroup):
    """The `hccr` group: a usage error (a missing or unknown option, a bad choice) is one
    `error:` line naming the command and option, exit 1, like every other bad input."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click_errors.NoArgsIsHelpError as exc:  # `hccr` alone: the help
            exc.show()
            sys.exit(exc.exit_code)
        except click_errors.ClickException as exc:
            where = f"{exc.ctx.command_path}: " if getattr(exc, "ctx", None) else ""
            message = " ".join(exc.format_message().split())
            console.print(f"[bold red]error:[/] {escape(where + message)}", highlight=False,
                          soft_wrap=True)
            sys.exit(1)
        except typer.Abort:
            console.print("[bold red]error:[/] aborted", highlight=False)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_Cli,
    help="Handwritten Chinese character recognition on small Zynq FPGAs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    callback=start,
)
app.add_typer(cmd_data.app, name="data", help="Synthesize, inspect and preview handwriting data.")
cmd_train.register(app)
cmd_quant.register(app)
cmd_demo.register(app)
cmd_hls.register(app)
cmd_rtl.register(app)
cmd_compare.register(app)
cmd_report.register(app)
cmd_prune.register(app)
cmd_distill.register(app)
cmd_compress.register(app)
cmd_merge.register(cmd_data.app)

if __name__ == "__main__":
    app()
