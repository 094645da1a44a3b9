"""The sandbox's push options on the command line: where orders go, and how they are sealed."""

from __future__ import annotations

import signal
import subprocess
import sys

from django_wxlogistics.sandbox import SandboxControl

from .shop_receiver import AES_KEY, APPID, TOKEN, ShopReceiver
from .test_cli import ROOT, start, stop


def test_push_options_and_environment_configure_the_pushes():
    shop = ShopReceiver()
    args = [sys.executable, "-m", "django_wxlogistics.sandbox", "--port", "0", "--appid", APPID]
    env = {
        "WXLOGISTICS_PUSH_TOKEN": TOKEN,
        "WXLOGISTICS_ENCODING_AES_KEY": AES_KEY,
        "DJANGO_SETTINGS_MODULE": "",
    }
    process, url = start([*args, "--push-url", shop.url, "--push-format", "xml"], env=env)
    try:
        control = SandboxControl(url)
        assert control.push_config() == {
            "url": shop.url,
            "token": "***",
            "aes_key": "***",
            "appid": APPID,
            "format": "xml",
            "mode": "safe",
            "timeout": 5.0,
        }
        order = control.place_order("SO-CLI")
    finally:
        code, out, err = stop(process, signal.SIGTERM)
        shop.stop()
    assert code == 0
    [received] = shop.received
    assert received.verdict == "ok" and received.format == "xml" and received.query["encrypt_type"] == "aes"
    assert f"orders placed here are pushed to {shop.url} (XML, safe mode)" in out
    assert f"push add_waybill of order SO-CLI -> {shop.url}: ResultCode 0" in err
    assert order["token"] not in err + out and TOKEN not in err + out and AES_KEY not in err + out


def test_a_wrong_key_stops_the_sandbox_with_a_message():
    result = subprocess.run(
        [sys.executable, "-m", "django_wxlogistics.sandbox", "--port", "0", "--push-aes-key", "short"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "EncodingAESKey must have 43 characters" in result.stderr
