"""A click group that imports a command's module only when that command runs.

``hvc --version`` and every cron run paid for importing every command (and
httpx, Textual, Alembic behind them) before this; now the root group knows
each command by name, the ``"module:attr"`` that defines it and its short help,
so ``hvc --help`` lists them all without importing any.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any, NamedTuple

import click

from hv_connector.cli.startup import release_collector


class LazyCommand(NamedTuple):
    """Where a command lives and what ``hvc --help`` says about it before it is imported."""

    target: str
    """``"package.module:attr"``: the module is imported when the command runs."""
    short_help: str
    """The line ``hvc --help`` shows; a test checks it matches the command's own help."""


class LazyGroup(click.Group):
    """A :class:`click.Group` whose commands in :attr:`lazy_commands` are imported on first use.

    :param lazy_commands: command name → :class:`LazyCommand`.
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, LazyCommand] = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(load(self.lazy_commands[cmd_name].target), cmd_name)
        release_collector()  # the command's modules are loaded: the start-up is over (hv_connector.cli.startup)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Like click's own, but a command not yet imported shows its table line instead of being imported.
        names = [name for name in self.list_commands(ctx)
                 if name in self.lazy_commands or not self.commands[name].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._short_help(name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, name: str, limit: int) -> str:
        if name in self.commands:
            return self.commands[name].get_short_help_str(limit)
        # A bare stand-in shortens the line exactly as the real command would.
        return click.Command(name, help=self.lazy_commands[name].short_help).get_short_help_str(limit)


def load(target: str) -> click.Command:
    """Import ``"package.module:attr"`` and return the click command it names."""
    module_name, _, attr = target.partition(":")
    command: click.Command = getattr(import_module(module_name), attr)
    return command
