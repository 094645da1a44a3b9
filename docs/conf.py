"""Sphinx configuration: Markdown pages through MyST."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The reference's tables, made from the code (settings, signals, errcodes, commands, checks).
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from django_wxlogistics import __version__  # noqa: E402

project = "django-wxlogistics"
author = "django-wxlogistics contributors"
copyright = "2026, django-wxlogistics contributors"
release = __version__
version = __version__

extensions = ["myst_parser", "wxlogistics_reference"]
myst_enable_extensions = ["colon_fence", "deflist"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"django-wxlogistics {release}"
html_static_path: list[str] = []
