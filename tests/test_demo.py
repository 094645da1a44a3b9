"""``make demo`` brings up the example shop: run it with --check on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_demo_starts_everything_and_serves_the_admin(tmp_path: Path) -> None:
    web, sandbox = _free_port(), _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL")
    }
    env.update(DEMO_STATE_DIR=str(tmp_path), WXLOGISTICS_API_BASE_URL=f"http://127.0.0.1:{sandbox}")
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "rundemo",
            "--check",
            "--port",
            str(web),
            "--sandbox-port",
            str(sandbox),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "The demo is up" in result.stdout
    # The story starts in the sandbox: orders placed there become waybills in the shop through
    # the events endpoint (safe mode, the settings' Token and key), with no --auto-register.
    assert "Order SO20261123001 placed in the sandbox: waybill SF" in result.stdout
    assert "placed in the sandbox, became waybill SF" in result.stdout and "with its token" in result.stdout
    assert "the status change reached the sandbox" in result.stdout  # worker, broker, sandbox
    assert "cancelled in the sandbox, is cancelled in the sandbox's trace too" in result.stdout
    assert "--auto-register" not in result.stdout + result.stderr
    assert "ResultCode 0" in result.stderr  # the sandbox's log of its pushes
    # A waybill added in the admin while the demo runs is registered in the sandbox by the web
    # process (not auto-registered), and its push is accepted.
    assert "added in the admin, is registered in the sandbox: its push was accepted" in result.stdout
    assert "'admin'" in result.stdout  # the demo superuser is printed
    assert (tmp_path / "shop.sqlite3").exists()  # SQLite by default
    assert (tmp_path / "broker").is_dir()  # the broker that needs no server


def test_the_demo_refuses_a_sandbox_it_does_not_run(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DEMO_STATE_DIR": str(tmp_path),
        "WXLOGISTICS_API_BASE_URL": "https://api.weixin.qq.com",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "rundemo", "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "WXLOGISTICS_API_BASE_URL=http://127.0.0.1:8900" in result.stderr
