"""Run inside a brand-new host project (cwd): use the API and its schema as a client would, and
print what it answered, as JSON, for tests/api/test_host_projects.py.

``python /path/to/host_probe.py`` with ``DJANGO_SETTINGS_MODULE=shop.settings``; with
``WXL_PROBE_NO_SPECTACULAR=1`` it runs as if drf-spectacular were not installed.
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any

API = "/wxlogistics/api"
SCHEMA = f"{API}/schema/"


def answer(response: Any) -> dict[str, Any]:
    """Status, content type and body (JSON when it is JSON) of a response."""
    content_type = response.get("Content-Type", "")
    body: Any = response.content.decode()
    if "json" in content_type:
        body = json.loads(body)
    return {
        "status": response.status_code,
        "type": content_type.split(";")[0],
        "body": body,
        "www_authenticate": response.get("WWW-Authenticate"),
    }


def main() -> int:
    sys.path.insert(0, os.getcwd())  # the host project, as manage.py would have it
    if os.environ.get("WXL_PROBE_NO_SPECTACULAR"):
        sys.modules["drf_spectacular"] = None  # type: ignore[assignment]  # as if not installed
    import django

    django.setup()
    import yaml
    from django.conf import settings
    from django.contrib.auth.models import Permission, User
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    token_only = "rest_framework.authtoken" in settings.INSTALLED_APPS

    def client_for(user: User | None) -> Client:
        if user is None:
            return Client(raise_request_exception=False)
        if token_only:
            from rest_framework.authtoken.models import Token

            key = Token.objects.get_or_create(user=user)[0].key
            return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {key}")
        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client

    root = User.objects.create_superuser("root", "root@example.com", "pw")
    nobody = User.objects.create_user("nobody", password="pw")  # no permission at all
    clerk = User.objects.create_user("clerk", password="pw")
    clerk.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_wxlogistics", codename="view_waybill")
    )
    anon, admin = client_for(None), client_for(root)
    out: dict[str, Any] = {}

    # The schema.
    out["schema_anonymous"] = answer(anon.get(SCHEMA))
    out["schema_nobody"] = answer(client_for(nobody).get(SCHEMA))
    served = admin.get(SCHEMA)
    out["schema"] = answer(served)
    if served.status_code == 200:
        from drf_spectacular.validation import validate_schema

        document = yaml.safe_load(served.content)
        validate_schema(document)  # raises unless it is valid OpenAPI 3
        out["schema"]["body"] = document
        out["schema_clerk"] = answer(client_for(clerk).get(SCHEMA))["status"]
        out["schema_json"] = answer(admin.get(SCHEMA, {"format": "json"}))["type"]

    # The API, as docs/api.md describes it.
    json_post = {"content_type": "application/json"}
    for number in (3, 1, 2):
        admin.post(
            f"{API}/waybills/", json.dumps({"waybill_id": f"SF{number}", "order_id": "SO42"}), **json_post
        )
    out["create"] = answer(
        admin.post(f"{API}/waybills/", json.dumps({"waybill_id": "SF4", "order_id": "SO7"}), **json_post)
    )
    out["invalid"] = answer(admin.post(f"{API}/waybills/", json.dumps({}), **json_post))
    out["not_json"] = answer(admin.post(f"{API}/waybills/", "{", **json_post))
    out["unknown"] = answer(admin.get(f"{API}/waybills/NOPE/"))
    out["list"] = answer(admin.get(f"{API}/waybills/", {"ordering": "waybill_id", "order_id": "SO42"}))
    out["list_anonymous"] = answer(anon.get(f"{API}/waybills/"))
    event = {"action_type": 100001, "action_msg": "picked up", "action_time": "2026-01-02T03:04:05+08:00"}
    out["event"] = answer(admin.post(f"{API}/waybills/SF1/events/", json.dumps(event), **json_post))
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what a browser asks for
    out["html"] = answer(admin.get(f"{API}/waybills/SF1/", HTTP_ACCEPT=browser))["type"]
    out["format_json"] = answer(admin.get(f"{API}/waybills/SF1/", {"format": "json"}, HTTP_ACCEPT=browser))[
        "type"
    ]
    out["format_api"] = answer(admin.get(f"{API}/waybills/SF1/", {"format": "api"}))["status"]

    # A host on DRF's own schema generator runs it over its whole URLconf, the API included.
    generated = io.StringIO()
    try:
        call_command("generateschema", stdout=generated)
        out["drf_generateschema"] = sorted(yaml.safe_load(generated.getvalue())["paths"])
    except Exception as exc:  # what a host would see
        out["drf_generateschema"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
