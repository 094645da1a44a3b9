"""W100 (no Celery app) and W101 (Celery's default broker): in this process, and in brand-new
``startproject`` hosts where ``manage.py check`` runs as a shop developer runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import celery._state
import pytest
from celery import Celery
from django.core import checks
from django.test import override_settings

from django_wxlogistics.checks.broker import check_celery_app, is_default_broker

CELERY_PY = """import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
"""
CELERY_IMPORT = 'from .celery import app as celery_app\n\n__all__ = ("celery_app",)\n'


def ids(found: list[checks.CheckMessage]) -> list[str]:
    return [m.id or "" for m in found]


def an_app(**conf: object) -> Celery:
    app = Celery("shop", set_as_current=False)
    app.conf.update(conf)
    return app


def test_the_stand_in_app_celery_makes_when_the_project_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in a project whose __init__.py does not import its Celery app: none was ever created.
    monkeypatch.setattr(celery._state, "default_app", None)
    monkeypatch.setattr(celery._state._tls, "current_app", None)
    [found] = check_celery_app()
    assert found.id == "wxlogistics.W100"
    assert found.level == checks.WARNING
    assert "amqp://guest@localhost//" in found.msg
    assert "tests/celery.py" in (found.hint or "")  # the settings module is tests.settings
    assert "from .celery import app as celery_app" in (found.hint or "")
    assert 'app.config_from_object("django.conf:settings", namespace="CELERY")' in (found.hint or "")


def test_the_projects_app_with_a_broker_is_silent() -> None:
    assert check_celery_app() == []  # the example shop's app, broker memory://
    assert check_celery_app(an_app(broker_url="redis://127.0.0.1:6379/0")) == []


@pytest.mark.parametrize(
    "broker", [None, "", "amqp://guest@localhost//", "amqp://guest:guest@localhost:5672//"]
)
def test_w101_celerys_default_broker_while_tasks_are_not_eager(broker: str | None) -> None:
    [found] = check_celery_app(an_app(broker_url=broker))
    assert found.id == "wxlogistics.W101"
    assert "CELERY_BROKER_URL" in (found.hint or "")
    assert ("is not set" in found.msg) == (not broker)


def test_eager_tasks_need_no_broker() -> None:
    assert check_celery_app(an_app(broker_url=None, task_always_eager=True)) == []


def test_the_broker_in_the_environment_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")  # Celery reads it first
    assert check_celery_app(an_app(broker_url=None)) == []


@pytest.mark.parametrize(
    "url",
    ["amqp://127.0.0.1//", "amqp://shop:pw@localhost//", "amqp://guest@localhost/shop", "memory://"],
)
def test_other_brokers_are_not_the_default(url: str) -> None:
    assert not is_default_broker(url)
    assert is_default_broker("pyamqp://guest@localhost//")


def test_run_checks_reports_it_for_the_current_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(celery._state._tls, "current_app", an_app(broker_url=None))
    found = checks.run_checks(tags=[checks.Tags.compatibility])
    assert "wxlogistics.W101" in ids(found)


# -- brand-new startproject hosts -----------------------------------------------------------


@pytest.fixture(scope="module")
def startproject(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``django-admin startproject shop`` with the app installed as the quickstart says."""
    base = tmp_path_factory.mktemp("startproject")
    created = subprocess.run(
        [sys.executable, "-m", "django", "startproject", "shop"],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    settings_py = base / "shop" / "shop" / "settings.py"
    text = settings_py.read_text().replace(
        "INSTALLED_APPS = [\n", 'INSTALLED_APPS = [\n    "rest_framework",\n    "django_wxlogistics",\n', 1
    )
    settings_py.write_text(text + '\nWXLOGISTICS = {"APPID": "wx0123456789abcdef", "APPSECRET": "s3cret"}\n')
    return base / "shop"


def check_host(startproject: Path, tmp_path: Path, *, celery_app: bool, settings: str = "") -> str:
    """``manage.py check`` in a copy of the host, with or without its Celery app: what it printed."""
    project = tmp_path / "shop"
    shutil.copytree(startproject, project)
    if celery_app:
        (project / "shop" / "celery.py").write_text(CELERY_PY)
        (project / "shop" / "__init__.py").write_text(CELERY_IMPORT)
    with (project / "shop" / "settings.py").open("a") as settings_py:
        settings_py.write(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "DATABASE_URL"))}
    checked = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr  # warnings: the check passes
    return checked.stdout + checked.stderr


@pytest.mark.integration
def test_a_host_without_its_celery_app_is_told_what_to_add(startproject: Path, tmp_path: Path) -> None:
    said = check_host(
        startproject, tmp_path, celery_app=False, settings='CELERY_BROKER_URL = "redis://r:6379/0"\n'
    )
    assert "wxlogistics.W100" in said and "No Celery app is configured" in said
    assert "Add shop/celery.py:" in said and "import it in shop/__init__.py:" in said
    assert "celery -A shop worker" in said
    assert "wxlogistics.W101" not in said


@pytest.mark.integration
def test_a_host_with_its_app_but_no_broker(startproject: Path, tmp_path: Path) -> None:
    said = check_host(startproject, tmp_path, celery_app=True)
    assert "wxlogistics.W101" in said and "CELERY_BROKER_URL is not set" in said
    assert "wxlogistics.W100" not in said


@pytest.mark.integration
@pytest.mark.parametrize(
    "settings", ['CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"\n', "CELERY_TASK_ALWAYS_EAGER = True\n"]
)
def test_a_host_with_its_app_and_a_broker_or_eager_tasks(
    startproject: Path, tmp_path: Path, settings: str
) -> None:
    said = check_host(startproject, tmp_path, celery_app=True, settings=settings)
    assert "System check identified no issues" in said, said


def test_the_hint_names_the_project_also_under_override_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(celery._state, "default_app", None)
    monkeypatch.setattr(celery._state._tls, "current_app", None)
    with override_settings(DEBUG=False):  # the settings object then names no settings module
        [found] = check_celery_app()
    assert "tests/celery.py" in (found.hint or "")
