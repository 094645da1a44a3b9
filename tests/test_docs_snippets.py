"""The Python snippets of the README and docs/ run as written: they import what they use, read
the AppSecret without a bare KeyError, and state the figures the code has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from django_wxlogistics.nudges import message_size

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((page.relative_to(ROOT).as_posix(), line, match.group(1)))
    return found


BLOCKS = python_blocks()


def test_there_are_snippets_to_check() -> None:
    pages = {page for page, _, _ in BLOCKS}
    assert {"README.md", "docs/installation.md", "docs/api.md", "docs/integration.md"} <= pages


@pytest.mark.parametrize(("page", "line", "code"), BLOCKS, ids=[f"{p}:{n}" for p, n, _ in BLOCKS])
def test_a_snippet_imports_what_it_uses(page: str, line: int, code: str) -> None:
    if re.search(r"(?<![\w.])os\.", code):
        assert re.search(r"^import os$", code, re.MULTILINE), f"{page}:{line} uses os without importing it"
    for name in ("include", "path"):
        if re.search(rf"(?<![\w.]){name}\(", code):
            imported = re.search(rf"^from django\.urls import .*\b{name}\b", code, re.MULTILINE)
            assert imported, f"{page}:{line} calls {name}() without importing it from django.urls"


@pytest.mark.parametrize(("page", "line", "code"), BLOCKS, ids=[f"{p}:{n}" for p, n, _ in BLOCKS])
def test_a_missing_appsecret_is_left_to_the_system_check(page: str, line: int, code: str) -> None:
    # os.environ["WX_APPSECRET"] would end in a KeyError before check could name the setting (E003).
    assert not re.search(r'"APPSECRET":\s*os\.environ\[', code), f"{page}:{line}"


def test_the_message_size_the_docs_state_is_the_codes() -> None:
    words = {2: "twice", 3: "three times", 4: "four times"}
    from django_wxlogistics.conf import wx_settings

    expected = words[message_size() // wx_settings.PUSH_CONCURRENCY]
    stated = [
        (page, said)
        for page in PAGES
        for said in re.findall(r"message names ([\w ]+?) as many waybills", page.read_text(encoding="utf-8"))
    ]
    assert stated, "docs/pipeline.md and docs/configuration.md state it"
    assert all(said == expected for _, said in stated), stated
