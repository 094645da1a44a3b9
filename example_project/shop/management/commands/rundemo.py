"""``make demo``: the example shop with everything it needs, stopped together on Ctrl-C.

Starts the WeChat sandbox, the web server, a Celery worker and beat; migrates, creates
demo orders and waybills (registered in the sandbox) and a demo superuser. Waybills saved
while the demo runs (in the admin, say) are registered in the sandbox too (``shop/demo.py``).
"""

from __future__ import annotations

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

from django_wxlogistics.models import Waybill
from django_wxlogistics.sandbox import SandboxControl
from django_wxlogistics.services import register_waybill
from example_project.shop.demo import SANDBOX_ENV, register_in_sandbox
from example_project.shop.models import Order

DEMO_USER, DEMO_PASSWORD = "admin", "wxlogistics-demo"  # demo only: printed on screen

DEMO_ORDERS = [
    ("SO20261123001", Order.Status.PAID, "王小萌", "SF1400000000001"),
    ("SO20261123002", Order.Status.SHIPPED, "李雷", "SF1400000000002"),
    ("SO20261123003", Order.Status.PAID, "韩梅梅", "YT7700000000003"),
]


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
        if settings.WXLOGISTICS.get("API_BASE_URL") != sandbox_url:
            raise CommandError(
                f"WXLOGISTICS['API_BASE_URL'] is {settings.WXLOGISTICS.get('API_BASE_URL')!r}, but the demo "
                f"sandbox listens on {sandbox_url}: set WXLOGISTICS_API_BASE_URL={sandbox_url}."
            )
        for port in (options["port"], options["sandbox_port"]):
            if _listening(port):
                raise CommandError(f"Port {port} is already in use: is another demo running?")

        call_command("migrate", interactive=False, verbosity=0)
        self._create_superuser()
        self._create_orders()

        python = sys.executable
        beat_schedule = settings.STATE_DIR / "celerybeat-schedule"
        commands = {
            # --auto-register: a waybill the shop's processes could not announce is still accepted.
            "sandbox": [
                python,
                "-m",
                "django_wxlogistics.sandbox",
                "--port",
                str(options["sandbox_port"]),
                "--auto-register",
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
        try:
            processes["sandbox"] = _start(commands["sandbox"])
            _wait_for_port(options["sandbox_port"], "sandbox", processes["sandbox"])
            self._register_in_sandbox(sandbox_url)
            for name in ("worker", "beat", "web"):
                processes[name] = _start(commands[name], {SANDBOX_ENV: sandbox_url})
            _wait_for_port(options["port"], "web server", processes["web"])
            self._banner(options["port"], sandbox_url)
            if options["check"]:
                self._check(options["port"], sandbox_url)
                self.stdout.write(self.style.SUCCESS("The demo is up; stopping (--check)."))
                return
            _wait(processes)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the demo…")
        finally:
            _stop(processes)

    def _check(self, port: int, sandbox_url: str) -> None:
        """The admin answers, and a status change travels through the worker to the sandbox."""
        reply = requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=10)
        if reply.status_code != 200:
            raise CommandError(f"The admin answered HTTP {reply.status_code}.")
        number, _, _, waybill_id = DEMO_ORDERS[0]
        order = Order.objects.get(number=number)
        order.set_status(Order.Status.OUT_FOR_DELIVERY if order.status != "out_for_delivery" else "delivered")
        control = SandboxControl(sandbox_url)
        deadline = time.monotonic() + 60
        while not control.calls(api="logistics.updatePath", waybill_id=waybill_id):
            if time.monotonic() > deadline:
                raise CommandError("The status change did not reach the sandbox within 60 s.")
            time.sleep(0.5)
        self.stdout.write(f"Order {number}: the status change reached the sandbox's trace of {waybill_id}.")
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
        order.set_status(Order.Status.SHIPPED)
        deadline = time.monotonic() + 60
        while True:
            replies = [c["reply"] for c in control.calls(api="logistics.updatePath", waybill_id=waybill_id)]
            if any(r and r.get("errcode") == 0 for r in replies):
                break
            if replies and not any(r and r.get("errcode") in (-1, 45009) for r in replies):
                raise CommandError(f"The sandbox refused the push of {waybill_id}: {replies[-1]}")
            if time.monotonic() > deadline:
                raise CommandError(f"The push of {waybill_id} did not reach the sandbox within 60 s.")
            time.sleep(0.5)
        self.stdout.write(
            f"Waybill {waybill_id}, added in the admin, is registered in the sandbox: its push was accepted."
        )

    def _create_superuser(self) -> None:
        users = get_user_model()
        if not users.objects.filter(username=DEMO_USER).exists():
            users.objects.create_superuser(DEMO_USER, "admin@example.com", DEMO_PASSWORD)

    def _create_orders(self) -> None:
        for number, status, customer, waybill_id in DEMO_ORDERS:
            order, _ = Order.objects.get_or_create(
                number=number,
                defaults={
                    "status": status,
                    "customer_name": customer,
                    "courier_name": "邓丽君",
                    "courier_phone": "18666666666",
                },
            )
            if not Waybill.objects.filter(waybill_id=waybill_id).exists():
                register_waybill(order, waybill_id, token=f"demo-token-{waybill_id[-4:]}")

    def _register_in_sandbox(self, sandbox_url: str) -> None:
        # The sandbox keeps nothing between runs: tell it every waybill the shop has.
        for waybill in Waybill.objects.exclude(token=""):
            register_in_sandbox(sandbox_url, waybill)

    def _banner(self, port: int, sandbox_url: str) -> None:
        lines = [
            "",
            "django-wxlogistics demo is running:",
            f"  shop admin     http://127.0.0.1:{port}/admin/",
            f"                 user {DEMO_USER!r}, password {DEMO_PASSWORD!r} (demo only)",
            f"  REST API       http://127.0.0.1:{port}/wxlogistics/api/",
            f"  API docs       http://127.0.0.1:{port}/api/docs/",
            f"  WeChat sandbox {sandbox_url}/__sandbox__/   (the customer's trace pages)",
            "Change an order's status in the admin and watch its trace page. Ctrl-C stops everything.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _start(command: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    # A process group of its own, so Ctrl-C reaches it once, through _stop().
    return subprocess.Popen(command, start_new_session=True, env={**os.environ, **(extra_env or {})})


def _wait_for_port(port: int, name: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
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
