"""The example shop's own pages: Swagger UI works offline (its assets are served locally)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_swagger_ui_serves_its_assets_locally(admin_client: Client) -> None:
    page = admin_client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr.net" not in html
    assert "/wxlogistics/api/schema/" in html


def test_the_root_redirects_to_the_admin(client: Client) -> None:
    reply = client.get("/")
    assert reply.status_code == 302
    assert reply["Location"] == "/admin/"
