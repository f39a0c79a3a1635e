"""CLI commands, one module each. Every module defines `register(app: typer.Typer) -> None`.

`jobs.cli` registers the modules named in `COMMAND_MODULES`; add one line there for a new module.
"""

COMMAND_MODULES = [
    "jobs.commands.run",
    "jobs.commands.check",
    "jobs.commands.plan",
    "jobs.commands.cluster",
    "jobs.commands.inspect",
    "jobs.commands.tokens",
    "jobs.commands.grounding",
]
