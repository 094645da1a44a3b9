"""``make demo``: the example shop with everything it needs, stopped together however it stops.

Starts the WeChat sandbox, the web server, a Celery worker and beat; migrates and creates a
demo superuser. ``--port`` and ``--sandbox-port`` (``make demo PORT=… SANDBOX_PORT=…``) move
it; the sandbox's URL the shop calls and the events URL the sandbox pushes to follow. Ctrl-C,
SIGTERM or SIGHUP stop every process it started, and so does the command's own death by any
means (on Linux each child is sent SIGTERM then, SIGKILL included), or its parent's.

The story starts in the sandbox: the demo orders are placed there, and the sandbox pushes
each to the shop's events URL as WeChat's order placement event, which makes the waybill,
with its Token, in the shop; then each gets its status as staff would set it, through the
signal. Waybills of earlier runs are told to the sandbox again (it keeps nothing); waybills
added by hand in the admin are registered in it too (``shop/demo.py``).

Each paid order with a waybill has a WeChat Pay payment the sandbox knows (``shop/demo.py``
creates it): marked shipped, the worker uploads its shipping information and the sandbox's
order state becomes 2 (shipped); then (``TRACK_WAYBILLS``) it registers the parcel with
WeChat's tracking component (``trace_waybill``) and keeps the ``waybill_token`` the mini program
would open it with, and the sandbox pushes the payment's settlement notice
(``trade_manage_order_settlement``) to the shop's events URL, stored as an inbound event.
Marked delivered, the worker confirms receipt, and the sandbox, told to have its payers confirm
as soon as they are reminded, moves it to 3.
Payments of earlier runs, and what WeChat took about them, are told to the sandbox again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings
from django.urls import reverse

from django_wxlogistics import services
from django_wxlogistics.enums import ActionType, EventState, ShippingCall
from django_wxlogistics.models import ShippingInfo, Waybill
from django_wxlogistics.sandbox import SandboxControl
from django_wxlogistics.sandbox.cli import PUSH_AES_KEY_ENV, PUSH_TOKEN_ENV
from example_project.shop.demo import SANDBOX_ENV, pay_in_sandbox, register_in_sandbox, restore_in_sandbox
from example_project.shop.models import Order

DEMO_USER, DEMO_PASSWORD = "admin", "wxlogistics-demo"  # demo only: printed on screen

#: The environment variable the example settings read API_BASE_URL from.
API_BASE_URL_ENV = "WXLOGISTICS_API_BASE_URL"
#: The signals that stop the demo and everything it started (SIGINT is Python's KeyboardInterrupt).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

#: placed in the sandbox at the start: number, receiver, mobile, and the status staff give it
DEMO_ORDERS = [
    ("SO20261123001", "王小萌", "18610000000", Order.Status.PAID),
    ("SO20261123002", "李雷", "13800000000", Order.Status.SHIPPED),
    ("SO20261123003", "韩梅梅", "13900000000", Order.Status.PAID),
]
#: The sandbox's order_state of a payment (get_order): shipped, and receipt confirmed.
SHIPPED_STATE, CONFIRMED_STATE = 2, 3


class Command(BaseCommand):
    help = "Run the example shop with the WeChat sandbox, a Celery worker and beat (Ctrl-C stops all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="web server port (default 8000)")
        parser.add_argument("--sandbox-port", type=int, default=8900, help="sandbox port (default 8900)")
        parser.add_argument(
            "--check", action="store_true", help="start everything, check it answers, then stop (for CI)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sandbox_url = f"http://127.0.0.1:{options['sandbox_port']}"
        if os.environ.get(API_BASE_URL_ENV) in (None, sandbox_url):
            # Derived from --sandbox-port: here, and for the processes started below.
            os.environ[API_BASE_URL_ENV] = sandbox_url
            override_settings(WXLOGISTICS={**settings.WXLOGISTICS, "API_BASE_URL": sandbox_url}).enable()
        if settings.WXLOGISTICS.get("API_BASE_URL") != sandbox_url:
            raise CommandError(
                f"WXLOGISTICS['API_BASE_URL'] is {settings.WXLOGISTICS.get('API_BASE_URL')!r}, but the demo "
                f"sandbox listens on {sandbox_url}: set {API_BASE_URL_ENV}={sandbox_url}, or leave it unset."
            )
        for port in (options["port"], options["sandbox_port"]):
            if _listening(port):
                raise CommandError(f"Port {port} is already in use: is another demo running?")

        call_command("migrate", interactive=False, verbosity=0)
        self._create_superuser()

        python = sys.executable
        beat_schedule = settings.STATE_DIR / "celerybeat-schedule"
        events_url = f"http://127.0.0.1:{options['port']}{reverse('wxlogistics:events')}"
        commands: dict[str, list[str]] = {
            # WeChat's side: it pushes the orders placed in it to the shop's events URL.
            "sandbox": [
                python,
                "-m",
                "django_wxlogistics.sandbox",
                "--port",
                str(options["sandbox_port"]),
                "--appid",
                str(settings.WXLOGISTICS["APPID"]),
                "--push-url",
                events_url,
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "example_project",
                "worker",
                "-l",
                "info",
                "-P",
                "threads",
                "-c",
                "8",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "example_project",
                "beat",
                "-l",
                "info",
                "-s",
                str(beat_schedule),
            ],
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{options['port']}", "--noreload"],
        }
        processes: dict[str, subprocess.Popen[bytes]] = {}
        _stop_on_signals()
        _die_with_parent()  # the shell or make that started the demo
        # The push's Token and key travel in the environment, not on a command line.
        push_secrets = {
            PUSH_TOKEN_ENV: str(settings.WXLOGISTICS["PUSH_TOKEN"]),
            PUSH_AES_KEY_ENV: str(settings.WXLOGISTICS["ENCODING_AES_KEY"]),
        }
        try:
            processes["sandbox"] = _start(commands["sandbox"], push_secrets)
            _wait_for_port(options["sandbox_port"], "sandbox", processes["sandbox"])
            self._register_in_sandbox(sandbox_url)
            for name in ("worker", "beat", "web"):
                processes[name] = _start(commands[name], {SANDBOX_ENV: sandbox_url})
            _wait_for_port(options["port"], "web server", processes["web"])
            seeded = self._place_demo_orders(SandboxControl(sandbox_url))
            self._banner(options["port"], sandbox_url)
            if options["check"]:
                self._check_seeded(SandboxControl(sandbox_url), seeded)
                self._check(options["port"], sandbox_url)
                self.stdout.write(self.style.SUCCESS("The demo is up; stopping (--check)."))
                return
            _wait(processes)
        except (KeyboardInterrupt, Stopped):
            self.stdout.write("\nStopping the demo…")
        finally:
            _stop(processes)

    def _check_seeded(self, control: SandboxControl, seeded: list[Order]) -> None:
        """Each demo order given a status with an action has its trace event in the sandbox."""
        actions: Any = settings.WXLOGISTICS["STATUS_ACTIONS"]
        for order in seeded:
            action = actions.get(order.status)
            if action is None:
                continue
            action_type = action["action_type"] if isinstance(action, dict) else action
            for waybill in Waybill.objects.filter(order_id=order.number):
                _wait_for_push(control, waybill.waybill_id, action_type)
                self.stdout.write(
                    f"Order {order.number}, seeded as {order.status}, has its trace event in the sandbox."
                )
            if order.status == Order.Status.SHIPPED:
                _wait_for_order_state(control, order, SHIPPED_STATE)
                self.stdout.write(
                    f"Order {order.number}, seeded as shipped, is shipped in WeChat Pay's sandbox."
                )

    def _check(self, port: int, sandbox_url: str) -> None:
        """The admin answers; an order placed in the sandbox becomes a waybill with its Token, and
        its status change and its cancellation travel through the worker to the sandbox."""
        reply = requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=10)
        if reply.status_code != 200:
            raise CommandError(f"The admin answered HTTP {reply.status_code}.")
        control = SandboxControl(sandbox_url)
        number = f"SO-CHECK-{time.time_ns() // 1000:x}"
        placed = control.place_order(number, receiver={"Name": "检查", "Mobile": "13700000000"})
        waybill = Waybill.objects.filter(waybill_id=placed["waybill_id"]).first()
        if waybill is None or waybill.token != placed["token"] or waybill.order_id != number:
            raise CommandError(
                f"Order {number}, placed in the sandbox, did not become its waybill in the shop."
            )
        self.stdout.write(
            f"Order {number}, placed in the sandbox, became waybill {waybill.waybill_id} with its token."
        )
        order = Order.objects.get(number=number)
        order.set_status(Order.Status.SHIPPED)
        _wait_for_push(control, waybill.waybill_id, ActionType.PICKED_UP)
        self.stdout.write(
            f"Order {number}: the status change reached the sandbox's trace of {waybill.waybill_id}."
        )
        _wait_for_order_state(control, order, SHIPPED_STATE)
        self.stdout.write(f"Order {number}, marked shipped: its shipping information is uploaded (state 2).")
        _wait_for_tracking(order)
        self.stdout.write(f"Order {number}: its parcel is registered with WeChat's tracking component.")
        order.set_status(Order.Status.DELIVERED)
        _wait_for_order_state(control, order, CONFIRMED_STATE)
        self.stdout.write(f"Order {number}, marked delivered: its receipt is confirmed (state 3).")
        # Picked up, it can no longer be cancelled (30002); an order not yet shipped can.
        other = control.place_order(f"{number}-2")
        control.cancel_order(other["order_id"])
        _wait_for_push(control, other["waybill_id"], ActionType.CANCELLED)
        self.stdout.write(
            f"Order {other['order_id']}, cancelled in the sandbox, is cancelled in the sandbox's trace too."
        )
        self._check_a_waybill_added_in_the_admin(port, control)

    def _check_a_waybill_added_in_the_admin(self, port: int, control: SandboxControl) -> None:
        """Staff add a waybill in the admin while the demo runs: WeChat (the sandbox) accepts its push."""
        stamp = f"{time.time_ns() // 1000:x}"
        order = Order.objects.create(number=f"SO-CHECK-{stamp}", status=Order.Status.PAID)
        waybill_id = f"SF-CHECK-{stamp}"
        admin_url = f"http://127.0.0.1:{port}/admin/"
        session = requests.Session()
        session.get(f"{admin_url}login/", timeout=10)
        session.post(
            f"{admin_url}login/",
            data={
                "username": DEMO_USER,
                "password": DEMO_PASSWORD,
                "next": "/admin/",
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            },
            timeout=10,
        )
        add_url = f"{admin_url}django_wxlogistics/waybill/add/"
        session.get(add_url, timeout=10)
        reply = session.post(
            add_url,
            data={
                "waybill_id": waybill_id,
                "order_id": order.number,
                "new_token": f"check-token-{stamp}",
                "_save": "1",
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            },
            timeout=10,
        )
        if not Waybill.objects.filter(waybill_id=waybill_id).exists():
            raise CommandError(f"Adding waybill {waybill_id} in the admin failed (HTTP {reply.status_code}).")
        registered = {w["waybill_id"]: w for w in control.waybills()}.get(waybill_id)
        if registered is None or registered["auto_registered"]:
            raise CommandError(f"Waybill {waybill_id}, added in the admin, is not registered in the sandbox.")
        order.refresh_from_db()  # the web process gave it its payment when the waybill was saved
        order.set_status(Order.Status.SHIPPED)
        _wait_for_push(control, waybill_id, ActionType.PICKED_UP)
        self.stdout.write(
            f"Waybill {waybill_id}, added in the admin, is registered in the sandbox: its push was accepted."
        )
        _wait_for_order_state(control, order, SHIPPED_STATE)  # paid in the sandbox when it was saved
        self.stdout.write(
            f"Order {order.number}, shipped with that waybill, is shipped in WeChat Pay's sandbox."
        )

    def _create_superuser(self) -> None:
        users = get_user_model()
        if not users.objects.filter(username=DEMO_USER).exists():
            users.objects.create_superuser(DEMO_USER, "admin@example.com", DEMO_PASSWORD)

    def _place_demo_orders(self, control: SandboxControl) -> list[Order]:
        """Place the demo orders the shop does not have yet in the sandbox, as customers would,
        then give each its status as staff would: the status change sends the signal, so a
        shipped order's trace event is recorded and pushed. Returns the orders placed."""
        seeded = []
        for number, customer, mobile, status in DEMO_ORDERS:
            if Order.objects.filter(number=number).exists():
                continue  # placed in an earlier run
            placed = control.place_order(number, receiver={"Name": customer, "Mobile": mobile})
            self.stdout.write(f"Order {number} placed in the sandbox: waybill {placed['waybill_id']}.")
            order = Order.objects.get(number=number)
            pay_in_sandbox(control, order.pk, placed["waybill_id"])  # the web process did, as a rule
            order.refresh_from_db()
            self.stdout.write(
                f"Order {number} is paid with WeChat Pay: transaction {order.wechat_transaction_id}."
            )
            order.set_status(status)
            seeded.append(order)
        return seeded

    def _register_in_sandbox(self, sandbox_url: str) -> None:
        # The sandbox keeps nothing between runs: tell it every waybill the shop has.
        for waybill in Waybill.objects.exclude(token=""):
            register_in_sandbox(sandbox_url, waybill)
        control = SandboxControl(sandbox_url)
        # The payer confirms receipt as soon as reminded: "delivered" shows as receipt confirmed.
        control.configure_merchant(confirm_on_reminder=True)
        for order in Order.objects.exclude(wechat_transaction_id=""):
            try:
                restore_in_sandbox(control, order)
            except Exception as exc:  # a payment the sandbox refuses must not stop the demo
                self.stderr.write(
                    f"The payment of order {order.number} was not restored in the sandbox: {exc}"
                )

    def _banner(self, port: int, sandbox_url: str) -> None:
        lines = [
            "",
            "django-wxlogistics demo is running:",
            f"  shop admin     http://127.0.0.1:{port}/admin/",
            f"                 user {DEMO_USER!r}, password {DEMO_PASSWORD!r} (demo only)",
            f"  REST API       http://127.0.0.1:{port}/wxlogistics/api/",
            f"  API docs       http://127.0.0.1:{port}/api/docs/",
            f"  WeChat sandbox {sandbox_url}/__sandbox__/   (place an order; the customer's trace pages)",
            f"                 {sandbox_url}/__sandbox__/received   (what WeChat received)",
            "Place an order in the sandbox: it becomes a waybill in the shop. Change the order's status",
            "in the admin and watch its trace page in the sandbox. A paid order marked shipped is",
            "shipped in WeChat Pay (the sandbox's page, Payments: state 2), then its parcel is",
            "registered with WeChat's tracking component (the order's page, Parcel tracking), and the",
            "sandbox pushes its settlement notice to the shop (admin: Inbound events,",
            "trade_manage_order_settlement); marked delivered, its receipt is confirmed (state 3).",
            "Ctrl-C stops everything.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))


def _wait_for_push(control: SandboxControl, waybill_id: str, action_type: int, timeout: float = 60) -> None:
    """Until the sandbox accepted an updatePath of ``action_type`` for the waybill."""
    deadline = time.monotonic() + timeout
    while True:
        calls = control.calls(api="logistics.updatePath", waybill_id=waybill_id)
        replies = [c["reply"] for c in calls if c["body"].get("action_type") == action_type]
        if any(r and r.get("errcode") == 0 for r in replies):
            return
        if replies and not any(r and r.get("errcode") in (-1, 45009) for r in replies):
            raise CommandError(f"The sandbox refused the push of {waybill_id}: {replies[-1]}")
        if time.monotonic() > deadline:
            raise CommandError(f"The push of {waybill_id} did not reach the sandbox within {timeout:.0f} s.")
        time.sleep(0.5)


def _wait_for_order_state(control: SandboxControl, order: Order, state: int, timeout: float = 60) -> None:
    """Until the sandbox's payment of ``order`` is in ``state``; a failed call ends the wait."""
    order.refresh_from_db()
    if not order.wechat_transaction_id:
        raise CommandError(f"Order {order.number} has no WeChat Pay payment.")
    deadline = time.monotonic() + timeout
    while control.payment(order.wechat_transaction_id)["order_state"] != state:
        failed = ShippingInfo.objects.filter(order_id=order.number, state=EventState.FAILED).first()
        if failed is not None:
            raise CommandError(
                f"WeChat refused the shipping information of order {order.number}: "
                f"{failed.last_errcode} {failed.last_errmsg}"
            )
        if time.monotonic() > deadline:
            raise CommandError(
                f"The payment of order {order.number} did not reach order_state {state} "
                f"within {timeout:.0f} s."
            )
        time.sleep(0.5)


def _wait_for_tracking(order: Order, timeout: float = 60) -> None:
    """Until the order's parcel is registered with the tracking component (its token kept)."""
    deadline = time.monotonic() + timeout
    while not services.waybill_tokens(order):
        failed = ShippingInfo.objects.filter(
            order_id=order.number, call=ShippingCall.TRACE_WAYBILL, state=EventState.FAILED
        ).first()
        if failed is not None:
            raise CommandError(
                f"WeChat refused to track the parcel of order {order.number}: "
                f"{failed.last_errcode} {failed.last_errmsg}"
            )
        if time.monotonic() > deadline:
            raise CommandError(
                f"The parcel of order {order.number} was not registered for tracking within {timeout:.0f} s."
            )
        time.sleep(0.5)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Stopped(Exception):
    """SIGTERM or SIGHUP reached the demo: stop everything, as Ctrl-C does."""


def _stop_on_signals() -> None:
    def stop(signum: int, frame: Any) -> None:
        raise Stopped(signal.Signals(signum).name)

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)


def _set_parent_death_signal() -> bool:
    """Linux: SIGTERM to this process when its parent dies. False where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    pr_set_pdeathsig = 1
    return bool(libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0) == 0)


def _die_with_parent() -> None:
    """The demo stops, and stops its processes, when whatever started it (make, a shell) dies."""
    parent = os.getppid()
    if _set_parent_death_signal() and os.getppid() != parent:
        raise Stopped("parent died")  # it died before the signal was asked for


def _start(command: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    demo = os.getpid()

    def in_child() -> None:
        # SIGTERM when the demo dies, whatever kills it (SIGKILL included): no process is left behind.
        if _set_parent_death_signal() and os.getppid() != demo:
            os.kill(os.getpid(), signal.SIGTERM)

    # A process group of its own, so Ctrl-C reaches it once, through _stop().
    return subprocess.Popen(
        command, start_new_session=True, env={**os.environ, **(extra_env or {})}, preexec_fn=in_child
    )


#: How long a process of the demo may take to listen: it returns as soon as it does; the bound
#: only ends a start that hangs (a busy machine can take far longer than an idle one).
START_TIMEOUT = 120.0


def _wait_for_port(
    port: int, name: str, process: subprocess.Popen[bytes], timeout: float = START_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"The {name} exited with code {process.returncode}.")
        if _listening(port):
            return
        time.sleep(0.2)
    raise CommandError(f"The {name} did not listen on port {port} within {timeout:.0f} s.")


def _wait(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                raise CommandError(f"The {name} stopped (exit code {process.returncode}).")
        time.sleep(0.5)


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for signum in (signal.SIGINT, *STOP_SIGNALS):  # a second Ctrl-C must not cut the stopping short
        signal.signal(signum, signal.SIG_IGN)
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
