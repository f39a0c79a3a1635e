"""The `vlpack` command line. Each command lives in its own module under `jobs/commands/`.

Conventions every command follows: `-h`/`--help`, `vlpack --version`, help text on every option,
arguments shown as upper-case names in the usage line (`vlpack run JOB`), flags without a type tag,
and an `error: ...` line (exit 2) for a bad argument.
"""

from __future__ import annotations

import importlib

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from jobs.commands import COMMAND_MODULES

HELP_OPTIONS = ["-h", "--help"]


def plain_metavars(params: list) -> list:
    """Arguments as upper-case names (`JOB`); flags with no type tag (typer shows `<bool>`)."""
    for p in params:
        if isinstance(p, TyperArgument) and p.metavar is None:
            p.metavar = p.name.upper()
        elif getattr(p, "is_flag", False) and p.metavar is None:
            p.metavar = ""
    return params


class VlpackCommand(TyperCommand):
    """A command with plain metavars, and `vlpack run JOB` rather than typer's `{job}` in usage."""

    def get_params(self, ctx):
        return plain_metavars(super().get_params(ctx))

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


class VlpackGroup(TyperGroup):
    def get_params(self, ctx):
        return plain_metavars(super().get_params(ctx))


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("vlpack")
    except Exception:  # noqa: BLE001 - a source tree without installed metadata
        return "0+unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"vlpack {_version()}")
        raise typer.Exit()


app = typer.Typer(
    name="vlpack",
    help="Offline packing of vision-language training data into balanced, Ascend-shaped shards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=VlpackGroup,
    context_settings={"help_option_names": HELP_OPTIONS},
)


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", "-V", callback=_show_version, is_eager=True,
                                 help="Print the vlpack version and exit."),
) -> None:
    """Offline packing of vision-language training data into balanced, Ascend-shaped shards.

    Input formats: docs/input-formats.md. Start with `vlpack demo`."""


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)
for _info in app.registered_commands:
    _info.cls = VlpackCommand if _info.cls in (None, TyperCommand) else _info.cls
    _info.context_settings = {"help_option_names": HELP_OPTIONS, **(_info.context_settings or {})}


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
