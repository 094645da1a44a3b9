"""``pip install .`` into a clean venv, then a brand-new ``startproject`` host project."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

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
    installed = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", ROOT, cwd=base)
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
    )
    settings.write_text(text)
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
