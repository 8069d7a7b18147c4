"""The command line in the reader's language: help texts, and Typer's and Click's own words.

How: every help text is written in English and marked with ``N_()`` where it is defined
(``help=N_("Create a CI.")``), and translated when a command is run, not when its module is
imported. Typer copies the help texts into Click's command objects each time a command line
is run (``typer.main.get_command``), after every module is imported; the root group
(``LocalisedGroup``) then sets the language (``CMDB_LANGUAGE``, else the locale) and replaces
each command's, group's and parameter's help by its translation before Click parses the
arguments or prints any help. This is robust where translating at import time is not: the
language need not be known before ``cmdb.cli`` is imported, in-process runs (tests, other
languages one after the other) each get their own language, and a help text that is not in
a catalogue simply stays as written.

Typer's own words (panel titles, ``[default: …]``) come from ``typer.rich_utils`` constants
and ``typer.core``'s gettext lookups; the Click that Typer ships (``typer._click``) writes its
words ("Usage:", "Missing argument …", "No such option: …") as plain English, so those are
translated by patterns when an error is shown (``localised_error``). The English texts are
listed here with ``N_()`` so that ``make messages`` puts them into the catalogues.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from typer import rich_utils
from typer._click import formatting as click_formatting
from typer._click.core import Command as ClickCommand
from typer.core import TyperGroup

from cmdb.i18n import ENGLISH, N_, from_locale, set_language, translate

# typer.rich_utils computes these once, at import; they are set from the English here each
# time a command line is run, in the language of that run.
_RICH_TEXTS = {
    "DEPRECATED_STRING": N_("(deprecated) "),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
}

# What typer.core looks up with gettext (its `_`, pointed at the catalogues below).
_TYPER_CORE_TEXTS = (
    N_("(dynamic)"), N_("Aborted!"), N_("default: {default}"), N_("required"),
    N_("env var: {var}"), N_("Arguments"), N_("Options"), N_("Commands"), N_("Missing command."),
    N_("No such command {name!r}."),
)

USAGE_PREFIX = N_("Usage: ")
OPTIONS_METAVAR = N_("[OPTIONS]")
SUBCOMMAND_METAVAR = N_("COMMAND [ARGS]...")
HELP_OPTION_HELP = N_("Show this message and exit.")

# Click's error sentences (typer._click writes them as f-strings): English pattern -> message.
# Checked in order; the first that matches whole is used, the rest of the text is kept.
_ERROR_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.S), m) for p, m in [
        (r"Missing argument (?P<name>.+)\.", N_("Missing argument %(name)s.")),
        (r"Missing option (?P<name>.+)\.", N_("Missing option %(name)s.")),
        (r"Missing parameter (?P<name>.+)\.", N_("Missing parameter %(name)s.")),
        (r"No such option: (?P<name>\S+) \(Possible options: (?P<options>.+)\)",
         N_("No such option: %(name)s (possible options: %(options)s)")),
        (r"No such option: (?P<name>\S+)", N_("No such option: %(name)s")),
        (r"No such command (?P<name>.+)\.", N_("No such command %(name)s.")),
        (r"Missing command\.", N_("Missing command.")),
        (r"Got unexpected extra argument\(s\) \((?P<args>.*)\)",
         N_("Got unexpected extra arguments (%(args)s)")),
        (r"Option (?P<name>'.+') requires an argument\.",
         N_("Option %(name)s requires an argument.")),
        (r"Option (?P<name>'.+') requires (?P<n>\d+) arguments\.",
         N_("Option %(name)s requires %(n)s arguments.")),
        (r"Option (?P<name>'.+') does not take a value\.",
         N_("Option %(name)s does not take a value.")),
        (r"Invalid value for (?P<name>.+?): (?P<problem>.+)",
         N_("Invalid value for %(name)s: %(problem)s")),
        (r"Invalid value: (?P<problem>.+)", N_("Invalid value: %(problem)s")),
    ]
]
# What a value's type says is wrong with it (the "problem" above).
_PROBLEM_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.S), m) for p, m in [
        (r"(?P<value>.+) is not a valid (?:integer|int|integer range|int range)\.", N_("%(value)s is not a valid integer.")),
        (r"(?P<value>.+) is not a valid (?:float|float range)\.", N_("%(value)s is not a valid number.")),
        (r"(?P<value>.+) is not a valid boolean\. Recognized values: (?P<values>.+)",
         N_("%(value)s is not a valid yes/no value. Recognised values: %(values)s")),
        (r"(?P<value>.+) is not a valid UUID\.", N_("%(value)s is not a valid UUID.")),
        (r"(?P<value>.+) is not in the range (?P<range>.+)\.",
         N_("%(value)s is not in the range %(range)s.")),
        (r"(?P<value>.+) is not one of (?P<choices>.+)\.",
         N_("%(value)s is not one of %(choices)s.")),
        (r"(?P<value>.+) does not match the formats (?P<formats>.+)\.",
         N_("%(value)s does not match the formats %(formats)s.")),
        (r"(?P<value>.+) is not a valid (?P<type>.+)\.",
         N_("%(value)s is not a valid %(type)s.")),
    ]
]


def _translated(text: str | None) -> str | None:
    return translate(text) if text else text


def _by_pattern(text: str, patterns: list[tuple[re.Pattern[str], str]]) -> str | None:
    for pattern, message in patterns:
        match = pattern.fullmatch(text)
        if match:
            values = match.groupdict()
            if "problem" in values:
                values["problem"] = _by_pattern(values["problem"], _PROBLEM_PATTERNS) or \
                    values["problem"]
            return translate(message) % values
    return None


def localised_error(text: str) -> str:
    """One of Click's error sentences in the current language (as it is when not known)."""
    return _by_pattern(text, _ERROR_PATTERNS) or text


def _language() -> str:
    # Imported here: cmdb.cli_support loads the settings machinery, which --help need not wait
    # for when the settings cannot be read (a bad variable is reported by the command itself).
    from cmdb.cli_support import cli_language

    try:
        return cli_language()
    except Exception:  # noqa: BLE001 - invalid settings: the locale's language, for the help
        return from_locale() or ENGLISH


def localise_tree(command: ClickCommand) -> None:
    """Each help text of ``command`` and of every command under it, in the current language."""
    command.help = _translated(command.help)
    command.short_help = _translated(command.short_help)
    command.epilog = _translated(command.epilog)
    if command.options_metavar == OPTIONS_METAVAR:
        command.options_metavar = translate(OPTIONS_METAVAR)
    if getattr(command, "subcommand_metavar", None) == SUBCOMMAND_METAVAR:
        command.subcommand_metavar = translate(SUBCOMMAND_METAVAR)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = translate(param.help)  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        localise_tree(sub)


def _patch_typer_and_click() -> None:
    """Point Typer's and its Click's own words at the catalogues (once per process)."""
    if getattr(_patch_typer_and_click, "done", False):
        return
    import typer.core

    typer.core._ = translate  # type: ignore[attr-defined]
    rich_utils._ = translate  # type: ignore[attr-defined]

    write_usage = click_formatting.HelpFormatter.write_usage

    @functools.wraps(write_usage)
    def localised_write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, translate(USAGE_PREFIX) if prefix is None else prefix)

    click_formatting.HelpFormatter.write_usage = localised_write_usage  # type: ignore[method-assign]

    get_help_option = ClickCommand.get_help_option

    @functools.wraps(get_help_option)
    def localised_help_option(self, ctx):
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = translate(HELP_OPTION_HELP)
        return option

    ClickCommand.get_help_option = localised_help_option  # type: ignore[method-assign]

    format_error = rich_utils.rich_format_error

    @functools.wraps(format_error)
    def localised_format_error(error) -> None:
        english = type(error).format_message(error)
        error.format_message = lambda: localised_error(english)
        format_error(error)

    rich_utils.rich_format_error = localised_format_error
    _patch_typer_and_click.done = True  # type: ignore[attr-defined]


def localise(command: ClickCommand) -> str:
    """Set the run's language and put the whole command line into it; returns the language."""
    language = _language()
    set_language(language)
    _patch_typer_and_click()
    for name, english in _RICH_TEXTS.items():
        setattr(rich_utils, name, translate(english))
    localise_tree(command)
    return language


class LocalisedGroup(TyperGroup):
    """The root ``cmdb`` group: speaks the run's language before parsing its arguments."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        localise(self)
        return super().main(*args, **kwargs)
