"""Fail unless Simplified Chinese is complete and compiled.

For each translated app: extract the messages the code has today (``makemessages`` in a
scratch copy), then ask gettext's ``msgcmp`` whether the committed ``zh_Hans`` catalogue
translates every one of them (no missing, untranslated or fuzzy entry), and whether the
committed ``.mo`` is the compiled form of the committed ``.po``.

    python scripts/check_translations.py          # check
    python scripts/check_translations.py --update # refresh the .po files, then compile them
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = [ROOT / "django_wxlogistics", ROOT / "example_project" / "shop"]
LOCALE = "zh_Hans"
DJANGO_ADMIN = [sys.executable, "-m", "django"]


def _env() -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}


def _makemessages(app: Path) -> None:
    for domain in ("django", "djangojs"):
        if domain == "djangojs" and not any(app.rglob("*.js")):
            continue
        subprocess.run(
            [
                *DJANGO_ADMIN,
                "makemessages",
                "-l",
                LOCALE,
                "-d",
                domain,
                "--no-obsolete",
                "--no-location",
                "--ignore",
                "tests/*",
            ],
            cwd=app,
            env=_env(),
            check=True,
            capture_output=True,
        )


def check(app: Path) -> list[str]:
    problems: list[str] = []
    committed = app / "locale" / LOCALE / "LC_MESSAGES"
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / app.name
        shutil.copytree(app, copy, ignore=shutil.ignore_patterns("__pycache__", "locale"))
        (copy / "locale").mkdir()
        _makemessages(copy)
        for fresh in sorted((copy / "locale" / LOCALE / "LC_MESSAGES").glob("*.po")):
            po = committed / fresh.name
            if not po.exists():
                problems.append(f"{po.relative_to(ROOT)} is missing")
                continue
            compared = subprocess.run(["msgcmp", str(po), str(fresh)], capture_output=True, text=True)
            if compared.returncode:
                problems.append(f"{po.relative_to(ROOT)} does not translate everything:\n{compared.stderr}")
            mo = po.with_suffix(".mo")
            built = Path(scratch) / (fresh.stem + ".mo")
            subprocess.run(["msgfmt", "--check", "-o", str(built), str(po)], check=True)
            if not mo.exists() or mo.read_bytes() != built.read_bytes():
                problems.append(f"{mo.relative_to(ROOT)} is not the compiled {po.name}: run with --update")
    return problems


def update(app: Path) -> None:
    (app / "locale").mkdir(exist_ok=True)
    _makemessages(app)
    for po in (app / "locale" / LOCALE / "LC_MESSAGES").glob("*.po"):
        subprocess.run(["msgfmt", "--check", "-o", str(po.with_suffix(".mo")), str(po)], check=True)


def main(argv: list[str]) -> int:
    if "--update" in argv:
        for app in APPS:
            update(app)
        return 0
    problems = [problem for app in APPS for problem in check(app)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{LOCALE}: every message of {', '.join(a.name for a in APPS)} is translated and compiled.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
