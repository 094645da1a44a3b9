"""Is everything the code offers in the reference? Every setting, check id, signal, errcode and
management command, read the way the documentation build reads them (docs/_ext)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from django.core.management import get_commands
from django.dispatch import Signal

from django_wxlogistics import exceptions, signals
from django_wxlogistics.conf import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"


@pytest.fixture(scope="module")
def ext() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "wxlogistics_reference", ROOT / "docs" / "_ext" / "wxlogistics_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def directive_body(page: Path, name: str) -> list[str]:
    """The lines inside the page's ```{name} block."""
    text = page.read_text(encoding="utf-8")
    match = re.search(rf"^```\{{{name}\}}[^\n]*\n(.*?)^```", text, re.M | re.S)
    assert match, f"{page.name} has no {name} block"
    return match.group(1).splitlines()


def test_every_setting_is_in_the_reference_with_its_default(ext: ModuleType) -> None:
    table, problems = ext.settings_table(directive_body(REFERENCE / "settings.md", "wxlogistics-settings"))
    assert problems == [], "docs/reference/settings.md: " + "; ".join(problems)
    assert len(table) == 2 + len(SETTINGS)
    [timeout] = [row for row in table if row.startswith("| `TIMEOUT` |")]
    assert "| `(3.05, 5.0)` |" in timeout  # the default comes from the code, not the page
    [api] = [row for row in table if row.startswith("| `API_BASE_URL` |")]
    assert '`"https://api.weixin.qq.com"`' in api


def test_a_setting_missing_from_the_table_or_unknown_to_the_code_is_reported(ext: ModuleType) -> None:
    lines = directive_body(REFERENCE / "settings.md", "wxlogistics-settings")
    without_appid = [line for line in lines if not line.startswith("| `APPID` |")]
    _, problems = ext.settings_table([*without_appid, "| `APP_ID` | text | a typo |"])
    assert any("'APPID'" in p and "does not document" in p for p in problems)
    assert any("APP_ID is documented but is not a WXLOGISTICS setting" in p for p in problems)


def test_every_check_id_the_code_uses_is_in_the_reference(ext: ModuleType) -> None:
    lines = directive_body(REFERENCE / "checks.md", "wxlogistics-checks")
    assert ext.checks_problems(lines) == []


def test_the_scan_of_check_ids_finds_each_way_the_code_writes_them(ext: ModuleType) -> None:
    found = ext.code_check_ids()
    assert "checks/settings.py" in found["wxlogistics.E002"]  # error(2, …)
    assert "checks/events.py" in found["wxlogistics.W070"]  # warning(70, …)
    assert "conf/__init__.py" in found["wxlogistics.E011"]  # rules.whole_number(11, …)
    assert "conf/rules.py" in found["wxlogistics.E043"]  # Problem(43, …)
    assert "checks/api.py" in found["wxlogistics.W040"]  # Warning(…, id="wxlogistics.W040")
    # An id made from a number anywhere else would escape the scan: teach it the new way first.
    assert ext.id_formatting_modules() == ext.ID_FORMATTERS


def test_an_undocumented_or_stale_check_id_is_reported(ext: ModuleType) -> None:
    lines = directive_body(REFERENCE / "checks.md", "wxlogistics-checks")
    lines = [line for line in lines if "wxlogistics.W022" not in line] + ["| `wxlogistics.E999` | gone | |"]
    problems = ext.checks_problems(lines)
    assert any(p.startswith("wxlogistics.W022 is used in checks/delivery.py") for p in problems)
    assert "wxlogistics.E999 is documented but no code uses it" in problems


def test_every_signal_is_in_the_reference_with_its_arguments(ext: ModuleType) -> None:
    documented = dict(ext.signal_docs())
    assert set(documented) == {name for name, value in vars(signals).items() if isinstance(value, Signal)}
    for name, doc in documented.items():
        assert doc.startswith(("In:", "Out:", "In, answered:")), f"signals.{name}: say who sends it"
        assert "Arguments" in doc, f"signals.{name}: its #: comment names no arguments"
    [row] = [r for r in ext.signals_table() if r.startswith("| `order_status_changed` |")]
    assert "``order``, ``old_status``, ``new_status``" in row


def test_every_errcode_the_client_knows_is_in_the_reference(ext: ModuleType) -> None:
    rows = "\n".join(ext.errcodes_table())
    known = {code for cls in _subclasses(exceptions.WeChatError) for code in cls.errcodes}
    assert known and all(f"| `{code}` |" in rows for code in known)
    assert "| `40199` | `WaybillNotFound` |" in rows and "`failed` at once" in rows
    [busy] = [r for r in ext.errcodes_table() if r.startswith("| `-1` |")]
    assert "`TransientError`" in busy and "retried later" in busy
    [unknown_payment] = [r for r in ext.errcodes_table() if r.startswith("| `10060001` |")]
    assert "first after 10 s, then 60 s" in unknown_payment


def test_every_management_command_is_in_the_reference(ext: ModuleType) -> None:
    ours = {name for name, app in get_commands().items() if app == "django_wxlogistics"}
    assert set(ext.command_names()) == ours
    text = "\n".join(ext.commands_markdown())
    for name in ours:
        assert f"**`manage.py {name}`**" in text
    assert "| `--retry-failed` |" in text and "| `--verbosity" not in text
    for name in ours:
        help_text, _options = ext.command_reference(name)
        assert help_text.strip(), f"{name} has no help"


def _subclasses(cls: type) -> list[type]:
    return [cls, *(s for sub in cls.__subclasses__() for s in _subclasses(sub))]
