"""The example shop's own pages: Swagger UI works offline (its assets are served locally), and
the shop's name in the admin is in the user's language."""

from __future__ import annotations

import re

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


@pytest.mark.parametrize(("language", "label"), [("en", "Shop"), ("zh-hans", "商店")])
def test_the_shops_name_in_the_admin_is_in_the_users_language(
    admin_client: Client, language: str, label: str
) -> None:
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    caption = re.search(r'<a href="/admin/shop/" class="section"[^>]*>([^<]*)</a>', page.content.decode())
    assert caption is not None and caption.group(1) == label
