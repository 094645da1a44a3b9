"""The reference pages' tables, made from the code at build time: each ``WXLOGISTICS`` key's default,
every signal with its arguments, every errcode and what the app does with it, every management
command with its options, and every system check id, held against the ids the code uses.

Directives (MyST: a fenced block named after the directive):

``wxlogistics-settings``
    Its body is a Markdown table, ``| key | type | what it does |``, one row per key; the
    default of each key is added from :data:`django_wxlogistics.conf.SETTINGS`. A key of the
    table that is not a setting, or a setting the table lacks, is a warning (an error under
    ``-W``).
``wxlogistics-checks``
    Its body is a Markdown table whose first column is the check id; an id the code uses and the
    table lacks, or the other way round, is a warning.
``wxlogistics-signals``, ``wxlogistics-errcodes``, ``wxlogistics-commands``
    No body: the tables come from ``signals.py``, ``exceptions.py`` and the management commands.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "django_wxlogistics"

CHECK_ID = re.compile(r"wxlogistics\.[EW]\d{3}")
#: Functions whose first argument, a number, is a check's number: ``error(2, …)`` is E002.
CHECK_MAKERS = {"error": "E", "warning": "W", "Problem": "E", "whole_number": "E", "function_path": "E"}
#: The only module that writes an id from a number (``f"wxlogistics.E{id:03d}"``).
ID_FORMATTERS = {"checks/settings.py"}


# --- what the code holds -----------------------------------------------------------------------


def code_check_ids() -> dict[str, set[str]]:
    """Every check id the package uses, with the modules using it: ids written out
    (``id="wxlogistics.W040"``, also inside a hint's text) and numbers given to the functions
    that make a check of them (:data:`CHECK_MAKERS`)."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE))
        text = path.read_text(encoding="utf-8")
        for check_id in CHECK_ID.findall(text):
            found.setdefault(check_id, set()).add(where)
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name in CHECK_MAKERS and isinstance(first, ast.Constant) and type(first.value) is int:
                found.setdefault(f"wxlogistics.{CHECK_MAKERS[name]}{first.value:03d}", set()).add(where)
    return found


def id_formatting_modules() -> set[str]:
    """The modules that write an id from a number; the scan above knows only these."""
    pattern = re.compile(r"wxlogistics\.[EW]\{")
    return {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    }


def format_default(value: Any) -> str:
    """A default as the shop would write it in its settings."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def signal_docs() -> list[tuple[str, str]]:
    """Each signal of ``signals.py``, in the module's order, with the ``#:`` comment above it."""
    from django.dispatch import Signal
    from sphinx.pycode import ModuleAnalyzer

    from django_wxlogistics import signals

    analyzer = ModuleAnalyzer.for_module("django_wxlogistics.signals")
    docs = analyzer.find_attr_docs()
    order = analyzer.tagorder
    names = [n for n, v in vars(signals).items() if isinstance(v, Signal)]
    names.sort(key=lambda n: order.get(n, 10**6))
    return [(name, " ".join(docs.get(("", name), [])).strip()) for name in names]


def errcode_rows() -> list[tuple[int, type[Exception]]]:
    """Every errcode the client knows, with the exception it raises for it."""
    from django_wxlogistics import exceptions

    codes: set[int] = set()
    stack: list[type[exceptions.WeChatError]] = [exceptions.WeChatError]
    while stack:
        cls = stack.pop()
        codes.update(cls.errcodes)
        stack.extend(cls.__subclasses__())
    return [(code, exceptions.error_for_errcode(code)) for code in sorted(codes)]


def what_the_app_does(cls: type[Exception]) -> str:
    from django_wxlogistics import exceptions

    if issubclass(cls, exceptions.AccessTokenError):
        return (
            "fetches a new access token and repeats the call once; refused again, it is retried "
            "later with backoff"
        )
    if issubclass(cls, exceptions.TransientError):
        early = getattr(cls, "early_retries", ())
        first = f"first after {', then '.join(f'{s:g} s' for s in early)}, then " if early else ""
        return f"retried later, {first}with backoff, up to `MAX_ATTEMPTS`"
    return "no retry: the event (or shipping call) is `failed` at once"


def command_names() -> list[str]:
    return sorted(p.stem for p in (PACKAGE / "management" / "commands").glob("wxlogistics_*.py"))


#: Django's own options of every command, documented by Django.
DJANGO_OPTIONS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}


def command_reference(name: str) -> tuple[str, list[tuple[str, str, str]]]:
    """A command's help and its own options: (flags, default, help) each."""
    _configure_django()
    from django.core.management import load_command_class

    command = load_command_class("django_wxlogistics", name)
    parser = command.create_parser("manage.py", name)
    options = []
    for action in parser._actions:
        if action.dest in DJANGO_OPTIONS:
            continue
        flags = ", ".join(action.option_strings) or action.dest
        if action.choices:
            flags += " {" + ",".join(map(str, action.choices)) + "}"
        elif action.nargs != 0 and action.option_strings:
            flags += f" {action.metavar or action.dest.upper()}"
        default = action.default
        unset = default is None or default is False or default == [] or default == argparse.SUPPRESS
        shown = "" if unset else format_default(default)
        if len(shown) > 40:  # a long list, say: the help says what it is
            shown = ""
        options.append((flags, shown, str(action.help or "").replace("%%", "%")))
    return str(command.help), options


def _configure_django() -> None:
    import django
    from django.apps import apps
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            INSTALLED_APPS=[
                "django.contrib.auth",
                "django.contrib.contenttypes",
                "rest_framework",
                "django_wxlogistics",
            ],
            LANGUAGE_CODE="en",
            USE_I18N=True,
        )
    if not apps.ready:
        django.setup()


# --- the tables in the pages -------------------------------------------------------------------


def table_rows(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """The body rows of a Markdown table (line number, cells), header and rule left out."""
    rows = [(n, line) for n, line in enumerate(lines) if line.strip().startswith("|")]
    for n, line in rows[2:]:
        cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
        yield n, [c.strip() for c in cells]


def first_code(cell: str) -> str:
    """``APPID`` from a cell that reads `` `APPID` ``."""
    match = re.search(r"`([^`]+)`", cell)
    return match.group(1) if match else cell.strip()


def documented(lines: list[str]) -> dict[str, int]:
    """Each name in the first column of the table, with its line."""
    return {first_code(cells[0]): n for n, cells in table_rows(lines)}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def settings_table(lines: list[str]) -> tuple[list[str], list[str]]:
    """The table with each key's default added, and what does not match the code."""
    from django_wxlogistics.conf import SETTINGS

    problems = []
    out = ["| key | type | default | what it does |", "|---|---|---|---|"]
    seen: set[str] = set()
    for _n, cells in table_rows(lines):
        key = first_code(cells[0])
        if key in seen:
            problems.append(f"WXLOGISTICS[{key!r}] is documented twice")
        seen.add(key)
        if key not in SETTINGS:
            problems.append(f"{key} is documented but is not a WXLOGISTICS setting (conf.SETTINGS)")
            continue
        if len(cells) != 3:
            problems.append(f"the row of {key} needs three cells: key, type, what it does")
            continue
        default = f"`{_cell(format_default(SETTINGS[key].default))}`"
        out.append(f"| {cells[0]} | {cells[1]} | {default} | {cells[2]} |")
    problems += [
        f"WXLOGISTICS[{key!r}] is a setting (conf.SETTINGS) that this table does not document"
        for key in SETTINGS
        if key not in seen
    ]
    return out, problems


def checks_problems(lines: list[str]) -> list[str]:
    table = documented(lines)
    code = code_check_ids()
    return [
        f"{check_id} is used in {', '.join(sorted(code[check_id]))} but not documented here"
        for check_id in sorted(set(code) - set(table))
    ] + [f"{check_id} is documented but no code uses it" for check_id in sorted(set(table) - set(code))]


def signals_table() -> list[str]:
    out = ["| signal | when | arguments |", "|---|---|---|"]
    for name, doc in signal_docs():
        when, arguments = (*re.split(r"\bArguments\b:?", doc, maxsplit=1), "")[:2]
        arguments = arguments.strip()
        out.append(f"| `{name}` | {_cell(when)} | {_cell(arguments)} |")
    return out


def errcodes_table() -> list[str]:
    out = ["| errcode | exception | what it means | what the app does |", "|---|---|---|---|"]
    for code, cls in errcode_rows():
        meaning = getattr(cls, "summary", "")
        advice = getattr(cls, "advice", "")
        if advice:
            meaning += f". {advice}"
        out.append(f"| `{code}` | `{cls.__name__}` | {_cell(meaning)} | {_cell(what_the_app_does(cls))} |")
    return out


def commands_markdown() -> list[str]:
    out: list[str] = []
    for name in command_names():
        help_text, options = command_reference(name)
        out += [f"**`manage.py {name}`**", "", _cell(help_text), ""]
        if options:
            out += ["| option | default | what it does |", "|---|---|---|"]
            out += [
                f"| `{_cell(flags)}` | {f'`{_cell(default)}`' if default else ''} | {_cell(text)} |"
                for flags, default, text in options
            ]
            out.append("")
    return out


# --- Sphinx ------------------------------------------------------------------------------------


def setup(app: Any) -> dict[str, Any]:
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective

    logger = logging.getLogger(__name__)

    class Generated(SphinxDirective):
        has_content = True

        def markdown(self) -> tuple[list[str], list[str]]:
            raise NotImplementedError

        def run(self) -> list[Any]:
            lines, problems = self.markdown()
            for problem in problems:
                logger.warning(problem, location=self.get_location())
            container = nodes.container()
            self.state.nested_parse(
                StringList(lines, source=self.get_source_info()[0]), self.content_offset, container
            )
            return container.children

    class SettingsDirective(Generated):
        def markdown(self) -> tuple[list[str], list[str]]:
            return settings_table(list(self.content))

    class ChecksDirective(Generated):
        def markdown(self) -> tuple[list[str], list[str]]:
            return list(self.content), checks_problems(list(self.content))

    class SignalsDirective(Generated):
        has_content = False

        def markdown(self) -> tuple[list[str], list[str]]:
            return signals_table(), []

    class ErrcodesDirective(Generated):
        has_content = False

        def markdown(self) -> tuple[list[str], list[str]]:
            return errcodes_table(), []

    class CommandsDirective(Generated):
        has_content = False

        def markdown(self) -> tuple[list[str], list[str]]:
            return commands_markdown(), []

    app.add_directive("wxlogistics-settings", SettingsDirective)
    app.add_directive("wxlogistics-checks", ChecksDirective)
    app.add_directive("wxlogistics-signals", SignalsDirective)
    app.add_directive("wxlogistics-errcodes", ErrcodesDirective)
    app.add_directive("wxlogistics-commands", CommandsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
