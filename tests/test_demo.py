"""``make demo`` brings up the example shop: run it with --check on free ports; stop it every way."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_env(state_dir: Path) -> dict[str, str]:
    """The environment of a demo of its own: SQLite and the broker under ``state_dir``."""
    unset = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "WXLOGISTICS_API_BASE_URL")
    return {**{k: v for k, v in os.environ.items() if k not in unset}, "DEMO_STATE_DIR": str(state_dir)}


def test_the_demo_starts_everything_and_serves_the_admin(tmp_path: Path) -> None:
    web, sandbox = _free_port(), _free_port()
    env = demo_env(tmp_path)  # the sandbox's URL follows from --sandbox-port
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
    # The order seeded as shipped got there through the status change, as staff would ship it.
    assert "Order SO20261123002, seeded as shipped, has its trace event in the sandbox." in result.stdout
    assert f"REST API       http://127.0.0.1:{web}/wxlogistics/api/" in result.stdout
    assert f"WeChat sandbox http://127.0.0.1:{sandbox}/__sandbox__/" in result.stdout
    assert f"http://127.0.0.1:{sandbox}/__sandbox__/received   (what WeChat received)" in result.stdout
    assert "placed in the sandbox, became waybill SF" in result.stdout and "with its token" in result.stdout
    assert "the status change reached the sandbox" in result.stdout  # worker, broker, sandbox
    # The merchant's side: a paid order's payment is known to the sandbox; shipped, its shipping
    # information is uploaded; delivered, its receipt is confirmed (SHIPPING_ACTIONS).
    assert "Order SO20261123001 is paid with WeChat Pay: transaction 42" in result.stdout
    assert "Order SO20261123002, seeded as shipped, is shipped in WeChat Pay's sandbox." in result.stdout
    assert "marked shipped: its shipping information is uploaded (state 2)" in result.stdout
    # TRACK_WAYBILLS: then its parcel is registered with the tracking component, its token kept.
    assert "its parcel is registered with WeChat's tracking component." in result.stdout
    assert "marked delivered: its receipt is confirmed (state 3)" in result.stdout
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


def test_make_demo_takes_the_ports() -> None:
    env = {**demo_env(ROOT / ".demo"), "MAKEFLAGS": ""}
    # -n: print the command only; -o: take the venv as it is.
    shown = subprocess.run(
        ["make", "-n", "-o", ".venv/bin/.installed", "demo", "PORT=8123", "SANDBOX_PORT=8124"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "manage.py rundemo --port 8123 --sandbox-port 8124" in shown.stdout


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = command
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie holds no port and runs nothing


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the demo's servers bind
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll ``condition``; ``seconds`` only bounds a hang (the wait itself is for the condition)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {seconds:.0f} s")
        time.sleep(0.1)


#: Starts the command it is given and waits for it, as make or a shell would.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc; the parent-death signal is Linux's"
)
@pytest.mark.parametrize(
    "stop",
    [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL, "parent killed"],
    ids=lambda s: getattr(s, "name", str(s).replace(" ", "_")),
)
def test_stopping_the_demo_stops_everything_it_started(tmp_path: Path, stop: signal.Signals | str) -> None:
    web, sandbox = _free_port(), _free_port()
    command = [sys.executable, "manage.py", "rundemo", "--port", str(web), "--sandbox-port", str(sandbox)]
    via_parent = stop == "parent killed"
    started = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *command] if via_parent else command,
        cwd=ROOT,
        env=demo_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "demo.err").open("w"),
        text=True,
    )
    demo, children = 0, {}
    try:
        assert started.stdout is not None
        for line in started.stdout:  # until the banner: everything is up
            if "demo is running" in line:
                break
        else:
            code = started.wait()
            raise AssertionError(
                f"the demo ended (code {code}) before it ran: {(tmp_path / 'demo.err').read_text()[-2000:]}"
            )
        # Keep reading: the demo's processes write to the same pipe, and a full pipe would block
        # them (and the demo's own "Stopping" line) while they stop.
        threading.Thread(target=started.stdout.read, daemon=True).start()
        demo = next(iter(_children(started.pid))) if via_parent else started.pid
        children = _children(demo)
        kinds = {
            kind
            for kind in ("sandbox", "worker", "beat", "runserver")
            if any(kind in c for c in children.values())
        }
        assert kinds == {"sandbox", "worker", "beat", "runserver"}, children
        assert not _port_free(web) and not _port_free(sandbox)

        started.send_signal(signal.SIGKILL if isinstance(stop, str) else stop)
        # Generous bounds: they only end a hang (a loaded machine stops a worker slowly).
        started.wait(timeout=180)
        _wait_until(lambda: not _alive(demo), "the demo to end", seconds=180)
        _wait_until(
            lambda: not any(_alive(pid) for pid in children), "the demo's processes to end", seconds=180
        )
        assert _port_free(web) and _port_free(sandbox)
    finally:
        if started.poll() is None:
            started.kill()
            started.wait()
        if via_parent and demo and _alive(demo):
            os.kill(demo, signal.SIGKILL)
        for pid in children:  # a failed run leaves nothing behind either (each leads its group)
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
