"""The test matrix: Django 5.2 LTS and 6.x.

    nox -s tests-django5.2-3.11      # what `make test` runs, in a venv of its own
    nox -s tests-django6.0-3.12      # needs Python 3.12+ (Django 6 does)

Sessions whose Python is not on the machine are skipped by nox and say so.
"""

from __future__ import annotations

import nox

nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = True

MATRIX = [
    ("5.2", ["3.10", "3.11", "3.12", "3.13"]),
    ("6.0", ["3.12", "3.13"]),
]


def _install(session: nox.Session, django: str) -> None:
    session.install("-e", ".[dev]")
    session.install(f"Django~={django}.0")


for _django, _pythons in MATRIX:

    @nox.session(name=f"tests-django{_django}", python=_pythons)
    def tests(session: nox.Session, django: str = _django) -> None:
        """The whole pytest suite with Django's deprecation warnings as errors."""
        _install(session, django)
        session.run("python", "-m", "pytest", *session.posargs)
