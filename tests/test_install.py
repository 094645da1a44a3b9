"""``pip install .`` into a clean venv, then a brand-new ``startproject`` host project; and what
``make test`` and the test run itself need of the machine (Chromium, Python 3.12 for Django 6)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import warnings
from pathlib import Path

import pytest

from tests.conftest import INSTALL_BROWSER, django_deprecation_warnings, missing_browser

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.integration


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def host_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("install")
    venv.create(base / "venv", with_pip=True)
    python = base / "venv" / "bin" / "python"
    # As docs/installation.md says until the package is published: a wheel, then its URL.
    quiet = ("--quiet", "--disable-pip-version-check")
    built = run(python, "-m", "pip", "wheel", *quiet, "--no-deps", "-w", base / "dist", ROOT, cwd=base)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = (base / "dist").glob("django_wxlogistics-*.whl")
    installed = run(
        python, "-m", "pip", "install", *quiet, f"django-wxlogistics[redis] @ {wheel.as_uri()}", cwd=base
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    created = run(python, "-m", "django", "startproject", "shop", cwd=base)
    assert created.returncode == 0, created.stderr
    settings = base / "shop" / "shop" / "settings.py"
    text = settings.read_text()
    text = text.replace(
        "INSTALLED_APPS = [",
        'INSTALLED_APPS = [\n    "rest_framework",\n    "django_wxlogistics",',
    )
    text += (
        "\nimport os\n"
        "WXLOGISTICS = {\n"
        '    "APPID": os.environ.get("WX_APPID", ""),\n'
        '    "APPSECRET": os.environ.get("WX_APPSECRET", ""),\n'
        "}\n"
        'CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"\n'
    )
    settings.write_text(text)
    # The project's Celery app, as the quickstart has it (without it, check says W100).
    (settings.parent / "celery.py").write_text(
        "import os\n\nfrom celery import Celery\n\n"
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n'
        'app = Celery("shop")\napp.config_from_object("django.conf:settings", namespace="CELERY")\n'
    )
    (settings.parent / "__init__.py").write_text("from .celery import app as celery_app\n")
    return python, base / "shop"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WX_", "DATABASE_URL"))}
    env.update(extra)
    return env


def test_the_package_imports_from_the_clean_venv(host_project: tuple[Path, Path]) -> None:
    python, project = host_project
    where = run(python, "-c", "import django_wxlogistics as m; print(m.__file__)", cwd=project)
    assert where.returncode == 0, where.stderr
    assert "site-packages" in where.stdout
    assert str(ROOT) not in where.stdout
    typed = run(
        python,
        "-c",
        "import django_wxlogistics, pathlib; "
        "print((pathlib.Path(django_wxlogistics.__file__).parent / 'py.typed').exists())",
        cwd=project,
    )
    assert typed.stdout.strip() == "True"
    extra = run(python, "-c", "import redis", cwd=project)
    assert extra.returncode == 0, extra.stderr  # the [redis] extra came along


def test_check_and_migrate_pass_once_credentials_are_set(host_project: tuple[Path, Path]) -> None:
    python, project = host_project
    env = _env(WX_APPID="wx0123456789abcdef", WX_APPSECRET="s3cret")
    check = run(python, "manage.py", "check", cwd=project, env=env)
    assert check.returncode == 0, check.stderr
    assert "no issues" in check.stdout
    migrate = run(python, "manage.py", "migrate", "--noinput", cwd=project, env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert "django_wxlogistics.0001_initial... OK" in migrate.stdout


def test_check_names_the_missing_credentials(host_project: tuple[Path, Path]) -> None:
    python, project = host_project
    check = run(python, "manage.py", "check", cwd=project, env=_env())
    assert check.returncode == 1
    assert "wxlogistics.E002" in check.stderr and "APPID" in check.stderr
    assert "wxlogistics.E003" in check.stderr and "HINT" in check.stderr


def test_python_used_for_the_suite_is_supported() -> None:
    assert sys.version_info >= (3, 10)


def test_djangos_deprecation_warnings_are_errors() -> None:
    from django.utils import deprecation

    # Every name, aliases too (Django 6.0's RemovedInDjango70Warning is RemovedInDjango2028Warning).
    named = {n: v for n, v in vars(deprecation).items() if n.startswith("RemovedInDjango")}
    assert "RemovedInDjango61Warning" in named  # in 5.2 (pending) and in 6.0
    for name, cls in named.items():
        with pytest.raises(cls):
            warnings.warn(f"{name} must fail the test", cls, stacklevel=1)
    assert set(django_deprecation_warnings()) == set(named.values())


def test_deprecation_warnings_raised_by_this_package_are_errors() -> None:
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old API", DeprecationWarning, "services.py", 1, module="django_wxlogistics.x")


def _make(*args: str, ci: str = "") -> subprocess.CompletedProcess[str]:
    env = {**_env(), "CI": ci, "MAKEFLAGS": ""}
    return run("make", "-s", *args, cwd=ROOT, env=env)


def test_make_browser_without_root_or_chromium_warns_outside_ci() -> None:
    result = _make("browser", "BROWSER_CHROMIUM=/nonexistent/chromium", "AS_ROOT=")
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr and "browser tests will fail" in result.stderr
    assert INSTALL_BROWSER in result.stderr


def test_make_browser_without_root_or_chromium_fails_under_ci() -> None:
    result = _make("browser", "BROWSER_CHROMIUM=/nonexistent/chromium", "AS_ROOT=", ci="true")
    assert result.returncode != 0
    assert "CI=true" in result.stderr and INSTALL_BROWSER in result.stderr


def test_make_browser_is_silent_when_chromium_and_the_font_are_there(tmp_path: Path) -> None:
    font = tmp_path / "font.ttc"
    font.write_bytes(b"")
    result = _make("browser", f"BROWSER_CHROMIUM={sys.executable}", f"CJK_FONT={font}", "AS_ROOT=", ci="true")
    assert (result.returncode, result.stderr) == (0, "")


def test_the_browser_tests_fail_saying_how_to_install_chromium() -> None:
    reason = missing_browser("/nonexistent/chromium")
    assert reason is not None
    assert "/nonexistent/chromium is missing" in reason and INSTALL_BROWSER in reason
    assert missing_browser(sys.executable) is None


def test_make_test_django6_says_loudly_when_no_python_312_runs(tmp_path: Path) -> None:
    shim = tmp_path / "python3.12"  # like a pyenv shim whose version is not active
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    result = _make("test-django6", f"DJANGO6_PYTHONS={shim} /nonexistent/python3.13", ci="true")
    assert result.returncode == 0, result.stderr
    assert "DJANGO 6.x WAS NOT TESTED" in result.stderr and "needs Python 3.12+" in result.stderr
    assert "the test suite on" not in result.stdout  # nothing was run


def test_make_migrations_check_does_not_need_the_database_of_database_url() -> None:
    # A DATABASE_URL naming a database not created yet, as a new one per concurrent run is.
    env = {**_env(), "MAKEFLAGS": "", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/wxl_never_created"}
    result = run("make", "-s", "-o", ".venv/bin/.installed", "migrations-check", cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
    assert "RuntimeWarning" not in result.stderr and "does not exist" not in result.stderr
