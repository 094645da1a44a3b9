"""The API and ``api/schema/`` in brand-new ``startproject`` hosts, whatever their settings say.

Each host is the quickstart of docs/installation.md plus one thing (drf-spectacular, a
REST_FRAMEWORK setting ...), run in a process of its own, so DRF reads its settings at import
as it does in a real project. ``host_probe.py`` uses the API there and reports, as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).resolve().parent / "host_probe.py"
OUR_PATHS = {
    "/wxlogistics/api/waybills/",
    "/wxlogistics/api/waybills/{waybill_id}/",
    "/wxlogistics/api/waybills/{waybill_id}/contact/",
    "/wxlogistics/api/waybills/{waybill_id}/events/",
    "/wxlogistics/api/waybills/{waybill_id}/events/{event_id}/",
    "/wxlogistics/api/waybills/{waybill_id}/events/{event_id}/retry/",
    "/wxlogistics/api/payments/",
    "/wxlogistics/api/payments/{payment_id}/",
    "/wxlogistics/api/payments/{payment_id}/wechat-order/",
    "/wxlogistics/api/shipping-info/",
    "/wxlogistics/api/shipping-info/{shipping_info_id}/",
    "/wxlogistics/api/shipping-info/{shipping_info_id}/retry/",
    "/wxlogistics/api/carriers/",
}

#: A host that sets every REST_FRAMEWORK default the API could depend on, and drf-spectacular's too.
HOSTILE_SETTINGS = """
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_RENDERER_CLASSES": ["shop.handlers.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.FormParser"],
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "ALLOWED_VERSIONS": ["v1", "v2"],
    "EXCEPTION_HANDLER": "shop.handlers.drop_every_error",
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 2,
    "DEFAULT_FILTER_BACKENDS": ["rest_framework.filters.SearchFilter"],
    "ORDERING_PARAM": "sort",
    "DATETIME_FORMAT": "%d/%m/%Y %H:%M",
    "DATETIME_INPUT_FORMATS": ["%d/%m/%Y %H:%M"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "The shop's own API",
    "SERVE_PUBLIC": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_URLCONF": "shop.handlers",
    "SCHEMA_PATH_PREFIX": "/wxlogistics/api",
    "SCHEMA_PATH_PREFIX_TRIM": True,
    "POSTPROCESSING_HOOKS": [],
    "COMPONENT_SPLIT_REQUEST": False,
}
"""
HOST_HANDLERS = '''"""The hostile host's own renderer, exception handler and (empty) schema URLconf."""

from rest_framework.renderers import JSONRenderer

urlpatterns = []


class EnvelopeRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        return super().render({"data": data}, accepted_media_type, renderer_context)


def drop_every_error(exc, context):
    return None  # DRF turns this into a 500
'''


@pytest.fixture(scope="module")
def startproject(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``django-admin startproject shop`` once; each host is a copy of it."""
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
    return base / "shop"


def run_host(
    startproject: Path,
    tmp_path: Path,
    apps: list[str],
    settings: str = "",
    without_spectacular: bool = False,
) -> dict[str, Any]:
    """The quickstart host plus ``apps`` and ``settings``: what the probe saw there."""
    project = tmp_path / "shop"
    shutil.copytree(startproject, project)
    settings_py = project / "shop" / "settings.py"
    text = settings_py.read_text()
    assert "INSTALLED_APPS = [\n" in text
    added = "".join(f'    "{app}",\n' for app in ["rest_framework", *apps, "django_wxlogistics"])
    text = text.replace("INSTALLED_APPS = [\n", "INSTALLED_APPS = [\n" + added, 1)
    text += '\nWXLOGISTICS = {"APPID": "wx0123456789abcdef", "APPSECRET": "s3cret"}\n' + settings
    settings_py.write_text(text)
    (project / "shop" / "handlers.py").write_text(HOST_HANDLERS)
    urls_py = project / "shop" / "urls.py"
    urls = urls_py.read_text().replace(
        "from django.urls import path", "from django.urls import include, path"
    )
    assert "admin.site.urls),\n" in urls
    urls = urls.replace(
        "admin.site.urls),\n",
        'admin.site.urls),\n    path("wxlogistics/", include("django_wxlogistics.urls")),\n',
    )
    urls_py.write_text(urls)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WXL_", "DATABASE_URL"))}
    env["DJANGO_SETTINGS_MODULE"] = "shop.settings"
    if without_spectacular:
        env["WXL_PROBE_NO_SPECTACULAR"] = "1"
    probe = subprocess.run(
        [sys.executable, str(PROBE)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-4000:]
    assert "Traceback" not in probe.stderr, probe.stderr[-4000:]  # no 500 anywhere
    return json.loads(probe.stdout.strip().splitlines()[-1])


def assert_the_api_works(seen: dict[str, Any]) -> None:
    """What docs/api.md promises, checked the same way in every host."""
    assert seen["create"]["status"] == 201, seen["create"]
    assert seen["create"]["body"]["waybill_id"] == "SF4"
    assert seen["invalid"]["status"] == 400
    assert set(seen["invalid"]["body"]) == {"waybill_id", "order_id"}
    assert seen["not_json"]["status"] == 400
    assert seen["not_json"]["body"]["detail"].startswith("JSON parse error")
    assert (seen["unknown"]["status"], seen["unknown"]["type"]) == (404, "application/json")
    assert set(seen["unknown"]["body"]) == {"detail"}
    listed = seen["list"]
    assert listed["status"] == 200, listed
    assert set(listed["body"]) == {"count", "next", "previous", "results"}
    assert listed["body"]["count"] == 3
    assert [w["waybill_id"] for w in listed["body"]["results"]][:2] == ["SF1", "SF2"]
    assert listed["body"]["results"][0]["created_at"][4] == "-"  # ISO 8601, as in the docs
    assert seen["event"]["status"] == 201, seen["event"]
    action_time = datetime.fromisoformat(seen["event"]["body"]["action_time"])  # in the host's TIME_ZONE
    assert action_time == datetime.fromisoformat("2026-01-02T03:04:05+08:00")
    assert seen["format_json"] == "application/json"


def assert_the_schema_is_served(seen: dict[str, Any]) -> dict[str, Any]:
    assert seen["schema"]["status"] == 200, seen["schema"]
    assert seen["schema"]["type"] == "application/vnd.oai.openapi"
    document = seen["schema"]["body"]
    assert document["openapi"].startswith("3.")  # and drf-spectacular's validator passed
    assert set(document["paths"]) == OUR_PATHS
    assert document["info"]["title"] == "django-wxlogistics API"
    assert seen["schema_json"] == "application/vnd.oai.openapi+json"
    assert seen["schema_clerk"] == 200  # view_waybill is enough
    return document


def assert_anonymous_refused(seen: dict[str, Any], status: int) -> None:
    for key in ("schema_anonymous", "list_anonymous"):
        assert (seen[key]["status"], seen[key]["type"]) == (status, "application/json"), seen[key]
        assert seen[key]["body"] == {"detail": "Authentication credentials were not provided."}
    assert seen["schema_nobody"]["status"] == 403  # logged in, without view_waybill


def without_security(document: dict[str, Any]) -> dict[str, Any]:
    """The schema less how clients authenticate, which is the host's to choose."""
    document = json.loads(json.dumps(document))
    del document["components"]["securitySchemes"]
    for operations in document["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
    return document


@pytest.fixture(scope="module")
def quickstart(startproject: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The quickstart, with drf-spectacular installed and added; DRF's own DEFAULT_SCHEMA_CLASS."""
    return run_host(startproject, tmp_path_factory.mktemp("quickstart"), ["drf_spectacular"])


def test_schema_with_drf_spectacular_and_drfs_default_schema_class(quickstart: dict[str, Any]) -> None:
    assert_the_schema_is_served(quickstart)
    assert_anonymous_refused(quickstart, 403)  # session authentication first: no WWW-Authenticate
    assert_the_api_works(quickstart)
    assert (quickstart["html"], quickstart["format_api"]) == ("text/html", 200)  # the browsable API


def test_drfs_own_schema_generator_describes_the_api_too(quickstart: dict[str, Any]) -> None:
    """A host on DRF's DEFAULT_SCHEMA_CLASS may run ``generateschema`` over its whole URLconf."""
    assert isinstance(quickstart["drf_generateschema"], list), quickstart["drf_generateschema"]
    assert OUR_PATHS <= set(quickstart["drf_generateschema"])


def test_schema_with_drf_spectacular_as_default_schema_class(
    startproject: Path, tmp_path: Path, quickstart: dict[str, Any]
) -> None:
    seen = run_host(
        startproject,
        tmp_path,
        ["drf_spectacular"],
        'REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}\n',
    )
    assert assert_the_schema_is_served(seen) == quickstart["schema"]["body"]
    assert_anonymous_refused(seen, 403)
    assert_the_api_works(seen)


def test_schema_with_drf_spectacular_installed_but_not_in_installed_apps(
    startproject: Path, tmp_path: Path, quickstart: dict[str, Any]
) -> None:
    seen = run_host(startproject, tmp_path, [])
    assert assert_the_schema_is_served(seen) == quickstart["schema"]["body"]
    assert_anonymous_refused(seen, 403)
    assert_the_api_works(seen)


def test_without_drf_spectacular_the_schema_is_a_404_that_says_why(
    startproject: Path, tmp_path: Path
) -> None:
    seen = run_host(startproject, tmp_path, [], without_spectacular=True)
    assert_anonymous_refused(seen, 403)
    assert (seen["schema"]["status"], seen["schema"]["type"]) == (404, "application/json")
    assert seen["schema"]["body"] == {
        "detail": "This server has no OpenAPI schema: it needs drf-spectacular "
        '(pip install "django-wxlogistics[openapi]").',
        "errcode": None,
    }
    assert_the_api_works(seen)
    # Without drf-spectacular the API's views have no schema, and DRF's generator leaves them out.
    assert isinstance(seen["drf_generateschema"], list), seen["drf_generateschema"]
    assert not OUR_PATHS & set(seen["drf_generateschema"])


def test_the_api_ignores_the_hosts_rest_framework_defaults(
    startproject: Path, tmp_path: Path, quickstart: dict[str, Any]
) -> None:
    seen = run_host(startproject, tmp_path, ["rest_framework.authtoken", "drf_spectacular"], HOSTILE_SETTINGS)
    # Authentication is the host's: token only, so anonymous requests get 401 with a challenge.
    assert_anonymous_refused(seen, 401)
    assert seen["schema_anonymous"]["www_authenticate"] == "Token"
    # The schema is this API's, whatever drf-spectacular's SERVE_* and path settings say; only
    # how to authenticate differs, as it should.
    document = assert_the_schema_is_served(seen)
    assert list(document["components"]["securitySchemes"]) == ["tokenAuth"]
    assert without_security(document) == without_security(quickstart["schema"]["body"])
    # JSON bodies, 404s, ISO 8601, ?ordering= and pages as documented (the host's PAGE_SIZE holds).
    assert_the_api_works(seen)
    assert len(seen["list"]["body"]["results"]) == 2 and "page=2" in seen["list"]["body"]["next"]
    # The host's renderers have no browsable API: none here either; the API's JSON is its own.
    assert (seen["html"], seen["format_api"]) == ("application/json", 404)
