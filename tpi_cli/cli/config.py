"""`tpi config set|show`: clinic details, defaults, dose limits and payer profiles."""

from __future__ import annotations

from typing import Annotated

import typer

from tpi_cli.cli import console
from tpi_cli.cli.context import open_store

config_app = typer.Typer(help="Clinic details, defaults, reference limits and payer profiles.\n\nExamples:\n\n\b\n"
                         "tpi config show\ntpi config set clinic.phone '(555) 010-2000'\ntpi config unset clinic.phone",
                         no_args_is_help=True)


# A value may start with a minus sign (`tpi config set limits.x -5`): it is the value, not an option.
@config_app.command("set", context_settings={"ignore_unknown_options": True})
@console.friendly
def set_value(
    key: Annotated[str, typer.Argument(help="Setting, e.g. clinic.phone (see `tpi config show`).")],
    value: Annotated[str, typer.Argument(help="New value.")],
) -> None:
    """Change a setting of this store.

    Example:

    \b
    tpi config set clinic.phone '(555) 010-2000'
    """
    from tpi_cli.errors import InputError
    from tpi_cli.settings import check_change, parse_value

    try:
        typed = parse_value(key, value)
    except ValueError as error:
        raise InputError(str(error)) from None
    store = open_store(create=True)
    with store.transaction():
        try:
            warnings = check_change(key, typed, store.settings())
        except ValueError as error:
            raise InputError(str(error)) from None
        store.set_setting(key, typed)
    console.info(f"{key} = {typed!r}")
    console.warnings(warnings)


@config_app.command("unset")
@console.friendly
def unset_value(
    key: Annotated[str, typer.Argument(help="Setting to return to its default, e.g. clinic.phone.")],
) -> None:
    """Return a setting to its default.

    Example:

    \b
    tpi config unset follow_up.default_days
    """
    from tpi_cli.errors import InputError
    from tpi_cli.settings import SETTINGS

    if key not in SETTINGS:
        raise InputError(f"unknown setting {key!r}; `tpi config show` lists the settings")
    store = open_store()
    with store.transaction():
        removed = store.unset_setting(key)
    default = SETTINGS[key].default
    console.info(f"{key} = {default!r} (the default)" if removed else f"{key} was not set; it stays {default!r}")


@config_app.command("show")
@console.friendly
def show(as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False) -> None:
    """Show every setting, its value and whether it is the default.

    Example:

    \b
    tpi config show --json
    """
    from tpi_cli.settings import SETTINGS, Settings

    settings = Settings(open_store().settings())
    if as_json:
        console.print_json({key: settings[key] for key in SETTINGS})
        return
    console.table("Settings", ["key", "value", "source", "meaning"],
                  [[key, str(settings[key]), "set" if settings.is_set(key) else "default", s.help]
                   for key, s in SETTINGS.items()])


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
