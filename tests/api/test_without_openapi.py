"""Without drf-spectacular (the ``openapi`` extra), the API imports and serves; ``api/schema/`` is a 404
that says what is missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["drf_spectacular"] = None  # as if not installed: any import of it fails

    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.auth", "django.contrib.contenttypes", "rest_framework",
            "django_filters", "django_wxlogistics",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        ROOT_URLCONF="django_wxlogistics.urls",
        ALLOWED_HOSTS=["testserver"],
        USE_TZ=True,
        WXLOGISTICS={"APPID": "wx1", "APPSECRET": "s"},
    )
    django.setup()
    from django.core.management import call_command
    from django.urls import reverse
    from rest_framework.test import APIClient

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    assert APIClient().get("/api/schema/").status_code == 403  # who may not use the API learns nothing
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser("root", "r@example.com", "pw"))
    created = client.post("/api/waybills/", {"waybill_id": "SF1", "order_id": "1"}, format="json")
    assert created.status_code == 201, created.content
    assert client.get("/api/waybills/SF1/").json()["waybill_id"] == "SF1"
    missing = client.get(reverse("api-schema"))
    assert missing.status_code == 404
    assert "drf-spectacular" in missing.json()["detail"], missing.json()
    print("OK without drf-spectacular")
    """
)


def test_the_api_works_without_drf_spectacular() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "OK without drf-spectacular"
