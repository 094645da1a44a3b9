"""``make demo``'s paid-order story: a demo order marked shipped in the admin is shipped in WeChat
Pay (the sandbox's ``get_order`` answers order_state 2), its parcel then registered with the
tracking component (``trace_waybill``, its token kept for the mini program), and the sandbox's
settlement notice reaches the shop; marked delivered, its receipt is confirmed (3). The demo runs
as ``make demo`` runs it: its own processes, stopped by their pid."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from django_wxlogistics.client import WeChatLogisticsClient
from django_wxlogistics.sandbox import SandboxControl
from tests.test_demo import ROOT, _alive, _children, _free_port, _wait_until, demo_env

pytestmark = pytest.mark.integration

ORDER = "SO20261123001"  # a demo order seeded as paid
#: What the demo's own database says of ORDER, read by a process of the demo's project.
IN_THE_SHOP = f"""
import json
from django_wxlogistics import services
from django_wxlogistics.models import InboundEvent
print(json.dumps({{
    "tokens": [[p.waybill_id, p.delivery_id, p.waybill_token] for p in services.waybill_tokens("{ORDER}")],
    "settlements": [
        [e.verdict, (e.payload or {{}}).get("transaction_id")]
        for e in InboundEvent.objects.filter(event="trade_manage_order_settlement").order_by("pk")
    ],
}}))
"""
USER, PASSWORD = "admin", "wxlogistics-demo"  # the demo's superuser, as its banner prints them
SHIPPED, CONFIRMED = 2, 3  # WeChat's order_state


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``manage.py rundemo`` on free ports, up to its banner; its URLs (shop, sandbox)."""
    web, sandbox = _free_port(), _free_port()
    command = [sys.executable, "manage.py", "rundemo", "--port", str(web), "--sandbox-port", str(sandbox)]
    errors = tmp_path / "demo.err"
    started = subprocess.Popen(
        command, cwd=ROOT, env=demo_env(tmp_path), stdout=subprocess.PIPE, stderr=errors.open("w"), text=True
    )
    children: dict[int, str] = {}
    try:
        assert started.stdout is not None
        for line in started.stdout:  # until the banner: everything is up, the orders seeded
            if "demo is running" in line:
                break
        else:
            code = started.wait()
            raise AssertionError(f"the demo ended (code {code}) before it ran: {errors.read_text()[-2000:]}")
        # The demo's processes write to the same pipe: keep reading it, or they block.
        threading.Thread(target=started.stdout.read, daemon=True).start()
        children = _children(started.pid)
        yield f"http://127.0.0.1:{web}", f"http://127.0.0.1:{sandbox}"
    finally:
        if started.poll() is None:
            started.send_signal(signal.SIGTERM)  # the demo stops what it started
            try:
                started.wait(timeout=180)  # a bound for a hang only
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait()
        for pid in children:  # whatever is left (each child leads its own process group)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                    os.killpg(pid, signal.SIGKILL)


def _in_the_shop(state_dir: Path) -> dict[str, list[list[str]]]:
    """The order's tracked parcels and the settlement notices, from the demo's database."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", IN_THE_SHOP],
        cwd=ROOT,
        env=demo_env(state_dir),
        capture_output=True,
        text=True,
        timeout=120,  # a bound for a hang only
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _admin(shop: str) -> requests.Session:
    session = requests.Session()
    session.headers["Accept-Language"] = "en"
    session.get(f"{shop}/admin/login/", timeout=30)
    reply = session.post(
        f"{shop}/admin/login/",
        data={
            "username": USER,
            "password": PASSWORD,
            "next": "/admin/",
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
        },
        timeout=30,
    )
    assert reply.ok and "sessionid" in session.cookies, reply.status_code
    return session


def _mark(session: requests.Session, shop: str, pk: str, action: str) -> None:
    """Staff select the order in the admin's list and run ``action`` on it."""
    changelist = f"{shop}/admin/shop/order/"
    reply = session.post(
        changelist,
        data={
            "action": action,
            "_selected_action": pk,
            "index": "0",
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
        },
        timeout=30,
    )
    assert reply.ok, reply.status_code
    assert "1 order marked" in reply.text  # the admin's message: the status changed


def test_a_paid_demo_order_marked_shipped_then_delivered_moves_wechats_order_state(
    demo: tuple[str, str], transactional_db: None, settings, tmp_path: Path
) -> None:
    shop, sandbox_url = demo
    state_dir = tmp_path  # the demo's database and broker (the fixture's demo_env)
    control = SandboxControl(sandbox_url)
    # The demo's order is paid with WeChat Pay: the sandbox knows its payment (out_trade_no:
    # the shop's order number), not shipped yet.
    payment = next(p for p in control.payments() if p["out_trade_no"] == ORDER)
    transaction_id = payment["transaction_id"]
    settings.WXLOGISTICS = {**settings.WXLOGISTICS, "API_BASE_URL": sandbox_url}
    client = WeChatLogisticsClient(base_url=sandbox_url)  # the demo's AppID and secret

    def order_state() -> int:
        return int(client.get_order(transaction_id=transaction_id).order_state)

    assert order_state() == 1  # awaiting shipment

    session = _admin(shop)
    listing = session.get(f"{shop}/admin/shop/order/", params={"q": ORDER}, timeout=30).text
    pk = re.search(r'href="/admin/shop/order/(\d+)/change/', listing)
    assert pk is not None, listing[-2000:]

    _mark(session, shop, pk.group(1), "mark_shipped")
    # The worker uploads the shipping information; the wait ends as soon as WeChat shows it.
    _wait_until(lambda: order_state() == SHIPPED, "get_order's order_state 2 (shipped)", seconds=120)
    shipped = control.payment(transaction_id)
    assert shipped["shipping"]["shipping_list"][0]["express_company"] == "SF"
    assert shipped["shipping"]["shipping_list"][0]["contact"]["receiver_contact"] == "186****0000"
    assert shipped["reminded_at"] is None

    # Then the worker registers the parcel with the tracking component (TRACK_WAYBILLS).
    def tracking_calls() -> list[dict]:
        return control.payment_calls(transaction_id, api="trace_waybill")

    _wait_until(lambda: any(c["reply"] for c in tracking_calls()), "the trace_waybill call", seconds=120)
    (registration,) = tracking_calls()
    assert registration["reply"]["errcode"] == 0, registration["reply"]
    body = registration["body"]
    assert (body["waybill_id"], body["delivery_id"], body["trans_id"]) == (
        shipped["shipping"]["shipping_list"][0]["tracking_no"],
        "SF",
        transaction_id,
    )
    assert body["receiver_phone"] == "18610000000"  # whole, as the tracking component takes it
    assert body["order_detail_path"] == f"pages/orders/detail?number={ORDER}"
    assert body["goods_info"]["detail_list"][0]["goods_img_url"].startswith("https://")
    apis = [c["api"] for c in control.payment_calls(transaction_id) if c["api"] != "get_order"]
    assert apis.index("upload_shipping_info") < apis.index("trace_waybill"), apis
    token = registration["reply"]["waybill_token"]

    # The sandbox pushes the payment's settlement notice (shipping complete) to the shop.
    def settlement_delivered() -> bool:
        pushes = control.trade_pushes(transaction_id=transaction_id, event="trade_manage_order_settlement")
        return any(p["state"] == "delivered" for p in pushes)

    _wait_until(settlement_delivered, "the settlement notice delivered to the shop", seconds=120)
    # The shop keeps the token (services.waybill_tokens) and stored the notice, processed.
    kept = _in_the_shop(state_dir)
    assert kept["tokens"] == [[body["waybill_id"], "SF", token]], kept["tokens"]
    assert ["ok", transaction_id] in kept["settlements"], kept["settlements"]

    _mark(session, shop, pk.group(1), "mark_delivered")
    # notify_confirm_receive: the sandbox records the reminder, and its payer (the demo's
    # confirm_on_reminder) confirms receipt.
    _wait_until(lambda: order_state() == CONFIRMED, "get_order's order_state 3 (confirmed)", seconds=120)
    confirmed = control.payment(transaction_id)
    assert confirmed["reminded_at"] is not None and confirmed["received_time"] is not None
    taken = [
        c["api"]
        for c in control.payment_calls(transaction_id)
        if c["api"] != "get_order" and c["reply"] and c["reply"].get("errcode") == 0
    ]
    assert taken == ["upload_shipping_info", "trace_waybill", "notify_confirm_receive"], taken

    # The shop's admin shows both calls sent, on the order's page.
    page = session.get(f"{shop}/admin/shop/order/{pk.group(1)}/change/", timeout=30).text
    assert re.search(r">Upload</a> — Sent<", page), page[-3000:]
    assert re.search(r">Receipt confirmation</a> — Sent<", page), page[-3000:]
    assert transaction_id in page
    # The parcel's registration, without its token (a secret the mini program opens it with).
    assert f"{body['waybill_id']}: registered with WeChat&#x27;s tracking component" in page, page[-3000:]
    assert token not in page
    # The inbound events in the admin list the settlement notices.
    events = session.get(
        f"{shop}/admin/django_wxlogistics/inboundevent/",
        params={"q": "trade_manage_order_settlement"},
        timeout=30,
    ).text
    assert "trade_manage_order_settlement" in events
