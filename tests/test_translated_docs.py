"""Does each Chinese page of docs/zh/ keep in step with the English page it follows? The same
sections (headings, level by level, in order), the same tables (rows and columns) and the same code
blocks, byte for byte; each page links to the other at its top."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Each Chinese page whose code blocks are the English page's, and the page it follows. Their code is
#: checked once, on the English page (test_docs_snippets reads docs/*.md, not docs/zh/).
TRANSLATIONS = {"zh/merchant.md": "merchant.md"}

FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^(?P=fence)[ \t]*\n", re.M | re.S)
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*)$", re.M)


def code_blocks(text: str) -> list[tuple[int, str]]:
    """The page's fenced blocks (info string and body), each with the line it starts on."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in FENCE.finditer(text)]


def prose(text: str) -> str:
    """The page without its code blocks, whose comments may look like headings."""
    return FENCE.sub("", text)


def sections(text: str) -> list[tuple[int, str]]:
    """Each heading's level and title, in order."""
    return [(len(m.group(1)), m.group(2).strip()) for m in HEADING.finditer(prose(text))]


def tables(text: str) -> list[tuple[int, int]]:
    """Each table's number of rows (its header and separator included) and of columns."""
    found, rows = [], []
    for line in [*prose(text).splitlines(), ""]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            found.append((len(rows), len(rows[0].strip().strip("|").split("|"))))
            rows = []
    return found


def pages(chinese: str) -> tuple[str, str]:
    """The Chinese page's text and the English one's."""
    return (DOCS / chinese).read_text(encoding="utf-8"), (DOCS / TRANSLATIONS[chinese]).read_text("utf-8")


def diff(english: str, chinese: str) -> str:
    lines = difflib.unified_diff(english.splitlines(), chinese.splitlines(), "en", "zh", lineterm="")
    return "\n".join(lines)


def outline(found: list[tuple[int, str]]) -> str:
    return "\n".join(f"{'#' * level} {title}" for level, title in found)


@pytest.mark.parametrize("chinese", sorted(TRANSLATIONS))
def test_the_pages_link_to_each_other_at_their_top(chinese: str) -> None:
    zh, en = pages(chinese)
    english = TRANSLATIONS[chinese]
    before_first_section = {page: text.split("\n## ", 1)[0] for page, text in (("zh", zh), ("en", en))}
    assert f"](../{english})" in before_first_section["zh"], f"docs/{chinese} names the page it follows"
    assert f"]({chinese})" in before_first_section["en"], f"docs/{english} links to docs/{chinese}"


@pytest.mark.parametrize("chinese", sorted(TRANSLATIONS))
def test_the_pages_have_the_same_sections(chinese: str) -> None:
    zh, en = (sections(text) for text in pages(chinese))
    assert [level for level, _ in zh] == [level for level, _ in en], (
        f"docs/{chinese} and docs/{TRANSLATIONS[chinese]} have different sections:\n"
        + diff(outline(en), outline(zh))
    )


@pytest.mark.parametrize("chinese", sorted(TRANSLATIONS))
def test_the_pages_have_the_same_tables(chinese: str) -> None:
    zh, en = (tables(text) for text in pages(chinese))
    assert zh == en, f"(rows, columns) of each table: docs/{chinese} {zh}, docs/{TRANSLATIONS[chinese]} {en}"


@pytest.mark.parametrize("chinese", sorted(TRANSLATIONS))
def test_the_pages_have_the_same_code_blocks(chinese: str) -> None:
    zh, en = (code_blocks(text) for text in pages(chinese))
    assert zh, f"docs/{chinese} has code blocks to compare"
    english = TRANSLATIONS[chinese]
    assert len(zh) == len(en), f"docs/{chinese} has {len(zh)} code blocks, docs/{english} {len(en)}"
    for (zh_line, zh_block), (en_line, en_block) in zip(zh, en, strict=True):
        assert zh_block == en_block, (
            f"docs/{chinese}:{zh_line} differs from docs/{english}:{en_line}:\n" + diff(en_block, zh_block)
        )


def test_a_change_to_one_page_only_is_seen() -> None:
    english = (
        "# Guide\n\n## Calls\n\n```python\n# a comment, not a heading\nx = 1\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n### Errors\n\ntext\n"
    )
    chinese = english.replace("## Calls", "## 调用").replace("### Errors", "### 错误").replace("text", "正文")
    assert sections(chinese) == [(1, "Guide"), (2, "调用"), (3, "错误")]
    assert [b for _, b in code_blocks(chinese)] == [b for _, b in code_blocks(english)]
    assert tables(chinese) == tables(english) == [(3, 2)]

    added_section = english + "\n### Retries\n"
    assert [lvl for lvl, _ in sections(added_section)] != [lvl for lvl, _ in sections(chinese)]
    changed_code = english.replace("x = 1", "x = 2")
    assert [b for _, b in code_blocks(changed_code)] != [b for _, b in code_blocks(chinese)]
    added_row = english.replace("| 1 | 2 |\n", "| 1 | 2 |\n| 3 | 4 |\n")
    assert tables(added_row) != tables(chinese)
