"""The committed API reference and schema file match what the API serves."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]
HINT = "The API changed: run '.venv/bin/python scripts/api_reference.py' and commit docs/."


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_reference", ROOT / "scripts" / "api_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_openapi_yaml_and_reference_are_current() -> None:
    script = generator()
    text = script.fetch_schema_yaml()
    assert script.YAML_PATH.read_text(encoding="utf-8") == text, HINT
    assert script.MARKDOWN_PATH.read_text(encoding="utf-8") == script.render_markdown(yaml.safe_load(text)), (
        HINT
    )


def test_reference_describes_every_operation_and_the_write_only_token() -> None:
    script = generator()
    reference = script.MARKDOWN_PATH.read_text(encoding="utf-8")
    for heading in (
        "### GET `/wxlogistics/api/waybills/`",
        "### PATCH `/wxlogistics/api/waybills/{waybill_id}/`",
        "### GET `/wxlogistics/api/waybills/{waybill_id}/contact/`",
        "### POST `/wxlogistics/api/waybills/{waybill_id}/events/{event_id}/retry/`",
    ):
        assert heading in reference
    assert "| `token` | string, max 256 | write-only |" in reference
