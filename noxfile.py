"""The test matrix: Django 5.2 LTS and 6.x.

    nox -s tests-django5.2-3.11      # the suite `make test` runs, in a venv of its own
    nox -s tests-django6.0-3.12      # needs Python 3.12+ (Django 6 does); `make test-django6`

`make test-django6` (which `.ci/run` calls) finds a Python 3.12+ on PATH or under pyenv and
runs the Django 6.x session with it. Locally, sessions whose Python is not on the machine
are skipped and say so; under CI they are errors, so a CI run never passes by skipping.
"""

from __future__ import annotations

import os

import nox

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

nox.options.error_on_missing_interpreters = CI
nox.options.reuse_existing_virtualenvs = True

MATRIX = [
    ("5.2", ["3.10", "3.11", "3.12", "3.13"]),
    ("6.0", ["3.12", "3.13"]),
]


VERSIONS = "import django, sys; print('Django', django.get_version(), 'on Python', sys.version.split()[0])"


def _install(session: nox.Session, django: str) -> None:
    session.install("-e", ".[dev]", f"Django~={django}.0")


for _django, _pythons in MATRIX:

    @nox.session(name=f"tests-django{_django}", python=_pythons)
    def tests(session: nox.Session, django: str = _django) -> None:
        """The whole pytest suite with Django's deprecation warnings as errors."""
        _install(session, django)
        session.run("python", "-c", VERSIONS)
        session.run("python", "-m", "pytest", *session.posargs)
