"""A waybill's page shows what WeChat's order events set — its BizID, WeChat's OrderID and when
WeChat cancelled the order — read-only, in the user's language."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from django.test import Client

from django_wxlogistics.models import Waybill
from tests.factories import WaybillFactory

pytestmark = pytest.mark.django_db

CANCELLED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def readonly(html: str, field: str) -> str:
    """The text the admin shows for a read-only field."""
    found = re.search(
        rf'<div class="form-row field-{field}">.*?<div class="readonly">(.*?)</div>', html, re.S
    )
    assert found, f"no read-only {field}"
    return found.group(1).strip()


@pytest.fixture
def placed() -> Waybill:
    return WaybillFactory(biz_id="biz-7", wechat_order_id="WX-OID-9", cancelled_at=CANCELLED)


def test_the_change_page_shows_them_read_only(clerk_client: Client, placed: Waybill) -> None:
    url = f"/admin/django_wxlogistics/waybill/{placed.pk}/change/"
    html = clerk_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="fieldset-heading">WeChat&#x27;s order</h2>' in html
    assert (readonly(html, "biz_id"), readonly(html, "wechat_order_id")) == ("biz-7", "WX-OID-9")
    assert "2026" in readonly(html, "cancelled_at")
    assert 'name="biz_id"' not in html and 'name="wechat_order_id"' not in html
    assert ">BizID:</label>" in html and ">WeChat OrderID:</label>" in html


def test_in_chinese(clerk_client: Client, placed: Waybill) -> None:
    url = f"/admin/django_wxlogistics/waybill/{placed.pk}/change/"
    html = clerk_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'class="fieldset-heading">微信订单</h2>' in html
    assert "商户 ID（BizID）" in html and "微信订单 ID（OrderID）" in html and "已取消" in html


def test_a_post_cannot_change_them(clerk_client: Client, placed: Waybill) -> None:
    url = f"/admin/django_wxlogistics/waybill/{placed.pk}/change/"
    reply = clerk_client.post(
        url,
        {
            "order_id": "SO-2",
            "new_token": "",
            "biz_id": "forged",
            "wechat_order_id": "forged",
            "cancelled_at": "",
        },
    )
    assert reply.status_code == 302
    placed.refresh_from_db()
    assert (placed.order_id, placed.biz_id, placed.wechat_order_id) == ("SO-2", "biz-7", "WX-OID-9")
    assert placed.cancelled_at == CANCELLED


def test_a_waybill_added_by_hand_shows_no_empty_section(make_client) -> None:
    client = make_client("adder", "view_waybill", "add_waybill", "change_waybill")
    html = client.get("/admin/django_wxlogistics/waybill/add/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "WeChat OrderID" not in html
    waybill = WaybillFactory()
    html = client.get(f"/admin/django_wxlogistics/waybill/{waybill.pk}/change/").content.decode()
    assert readonly(html, "biz_id") == "-"
