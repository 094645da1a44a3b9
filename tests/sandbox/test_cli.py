"""``python -m django_wxlogistics.sandbox`` and ``manage.py wxlogistics_sandbox`` as processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def start(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    read: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        read.append(line)
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            _read_at_start[process.pid] = "".join(read)
            return process, match.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"the sandbox did not start: {process.stderr.read() if process.stderr else ''}")


#: What start() read of each sandbox's output before it answered: stop() gives it back.
_read_at_start: dict[int, str] = {}


def stop(process: subprocess.Popen[str], sig: int) -> tuple[int, str, str]:
    """Stop the sandbox; its exit code and its whole output, also what start() already read.

    The pipes are read through their text wrappers, never around them as communicate() does:
    lines readline() has buffered would be lost (the sandbox's output is a few lines).
    """
    assert process.stdout is not None and process.stderr is not None
    process.send_signal(sig)
    process.wait(timeout=20)
    out = _read_at_start.pop(process.pid, "") + process.stdout.read()
    return process.returncode, out, process.stderr.read()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_python_m_serves_without_django_and_stops_on_signals(sig):
    env = {"DJANGO_SETTINGS_MODULE": ""}
    args = [sys.executable, "-m", "django_wxlogistics.sandbox", "--port", "0", "--auto-register"]
    process, url = start([*args, "--secret", "cli-secret", "--fail-rate", "0"], env=env)
    try:
        token = requests.get(
            f"{url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": "wx", "secret": "cli-secret"},
            timeout=5,
        ).json()["access_token"]
        body = {"token": "T", "waybill_id": "ANY", "action_time": 1, "action_type": 100001, "action_msg": "m"}
        reply = requests.post(
            f"{url}/cgi-bin/express/delivery/path/update",
            params={"access_token": token},
            json=body,
            timeout=5,
        ).json()
        assert reply == {"errcode": 0, "errmsg": "ok"}  # --auto-register
    finally:
        code, out, err = stop(process, sig)
    assert code == 0
    assert "sandbox stopped" in out
    assert "logistics.updatePath POST /cgi-bin/express/delivery/path/update?access_token=*** -> 200" in err
    assert token not in err and "cli-secret" not in err


def test_command_line_faults_apply():
    args = [sys.executable, "-m", "django_wxlogistics.sandbox", "--port", "0", "--quiet"]
    process, url = start(
        [*args, "--fail-rate", "1", "--fault-kinds", "http502", "--fault-apis", "token", "--seed", "1"]
    )
    try:
        response = requests.get(
            f"{url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": "a", "secret": "b"},
            timeout=5,
        )
        assert response.status_code == 502
    finally:
        code, _, err = stop(process, signal.SIGTERM)
    assert code == 0
    assert err == ""  # --quiet


def test_bad_options_exit_with_a_message():
    result = subprocess.run(
        [sys.executable, "-m", "django_wxlogistics.sandbox", "--port", "0", "--fault-kinds", "explode"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "kinds: unknown 'explode'" in result.stderr


def test_manage_py_command_serves_with_fixed_credentials():
    args = [sys.executable, "manage.py", "wxlogistics_sandbox", "--port", "0", "--quiet"]
    process, url = start([*args, "--appid", "wxfixed", "--secret", "fixed-secret", "--token-ttl", "60"])
    try:
        query = {"grant_type": "client_credential", "appid": "wxfixed"}
        wrong = requests.get(f"{url}/cgi-bin/token", params={**query, "secret": "other"}, timeout=5).json()
        assert wrong["errcode"] == 40125
        right = requests.get(
            f"{url}/cgi-bin/token", params={**query, "secret": "fixed-secret"}, timeout=5
        ).json()
        assert right["expires_in"] == 60
    finally:
        code, _, _ = stop(process, signal.SIGTERM)
    assert code == 0
