"""The `vlpack` command line. Each command lives in its own module under `jobs/commands/`."""

from __future__ import annotations

import importlib

import typer

from jobs.commands import COMMAND_MODULES

app = typer.Typer(
    name="vlpack",
    help="Offline packing of vision-language training data into balanced, Ascend-shaped shards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
