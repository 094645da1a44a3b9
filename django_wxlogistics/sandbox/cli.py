"""The command line of the sandbox, shared by ``python -m`` and ``manage.py wxlogistics_sandbox``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from .faults import ALL_APIS, BUSINESS_APIS, FAULT_KINDS, FaultPlan
from .pusher import FORMATS, MODES
from .server import SandboxServer

#: the push's Token and EncodingAESKey may come from the environment, kept off command lines
PUSH_TOKEN_ENV = "WXLOGISTICS_PUSH_TOKEN"  # noqa: S105 (a variable's name)
PUSH_AES_KEY_ENV = "WXLOGISTICS_ENCODING_AES_KEY"


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox's options, added to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8900, help="port to bind; 0 picks a free one (default 8900)"
    )
    parser.add_argument("--appid", default=None, help="accept only this appid (default: any)")
    parser.add_argument("--secret", default=None, help="accept only this app secret (default: any)")
    parser.add_argument(
        "--auto-register",
        action="store_true",
        help="accept any waybill whose token is non-empty, as if it had been registered",
    )
    parser.add_argument("--token-ttl", type=int, default=7200, help="expires_in of access tokens, seconds")
    parser.add_argument(
        "--token-grace",
        type=float,
        default=300.0,
        help="seconds a token replaced by /cgi-bin/token stays valid (default 300)",
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="added to every API call, milliseconds")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction of calls that fail, 0 to 1")
    parser.add_argument(
        "--fault-kinds",
        default="errcode",
        help=f"comma-separated kinds of failure among {', '.join(FAULT_KINDS)} (default errcode)",
    )
    parser.add_argument("--hang-seconds", type=float, default=None, help="how long a 'hang' holds the reply")
    parser.add_argument("--rate-limit", type=int, default=None, help="errcode 45009 beyond this many calls/s")
    parser.add_argument(
        "--fault-apis",
        default=",".join(BUSINESS_APIS),
        help=f"comma-separated APIs faults apply to, among {', '.join(ALL_APIS)}",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the fault injection, for repeatable runs"
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each call")
    push = parser.add_argument_group("order events pushed to the shop (add_waybill, cancel_waybill)")
    push.add_argument(
        "--push-url",
        default=None,
        help="the shop's events URL, e.g. http://127.0.0.1:8000/wxlogistics/events/",
    )
    push.add_argument(
        "--push-token",
        default=None,
        help=f"the shop's PUSH_TOKEN (default: ${PUSH_TOKEN_ENV})",
    )
    push.add_argument(
        "--push-aes-key",
        default=None,
        help=f"the shop's ENCODING_AES_KEY, 43 characters (default: ${PUSH_AES_KEY_ENV})",
    )
    push.add_argument(
        "--push-appid", default=None, help="the AppID safe-mode pushes are encrypted for (default: --appid)"
    )
    push.add_argument("--push-format", choices=FORMATS, default="json", help="JSON or XML (default json)")
    push.add_argument(
        "--push-mode", choices=MODES, default="safe", help="safe (encrypted, the default) or plain"
    )


def build_server(options: dict[str, Any]) -> SandboxServer:
    """A server from parsed options; ValueError saying which option is wrong."""
    faults = FaultPlan.from_dict(
        {
            "error_rate": options["fail_rate"],
            "kinds": options["fault_kinds"],
            "latency_ms": options["latency_ms"],
            "hang_seconds": options["hang_seconds"],
            "rate_limit": options["rate_limit"],
            "seed": options["seed"],
            "apis": options["fault_apis"],
        }
    )
    if options["token_ttl"] < 1:
        raise ValueError("--token-ttl must be at least 1 second")
    if options["token_grace"] < 0:
        raise ValueError("--token-grace must not be negative")
    push = {
        "url": options.get("push_url"),
        "token": options.get("push_token") or os.environ.get(PUSH_TOKEN_ENV) or None,
        "aes_key": options.get("push_aes_key") or os.environ.get(PUSH_AES_KEY_ENV) or None,
        "appid": options.get("push_appid") or options["appid"],
        "format": options.get("push_format") or "json",
        "mode": options.get("push_mode") or "safe",
    }
    return SandboxServer(
        host=options["host"],
        port=options["port"],
        appid=options["appid"],
        secret=options["secret"],
        seed=options["seed"],
        token_ttl=options["token_ttl"],
        token_grace=options["token_grace"],
        auto_register=options["auto_register"],
        faults=faults.to_dict(),
        push=push,
    )


def serve(options: dict[str, Any], out: Writer = sys.stdout) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""
    try:
        server = build_server(options)
    except ValueError as exc:
        print(f"wxlogistics sandbox: {exc}", file=sys.stderr)
        return 2
    if not options["quiet"]:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        sandbox_logger = logging.getLogger("django_wxlogistics.sandbox")
        sandbox_logger.addHandler(handler)
        sandbox_logger.setLevel(logging.INFO)
    try:
        server.start()
    except OSError as exc:
        print(
            f"wxlogistics sandbox: cannot listen on {options['host']}:{options['port']}: {exc}",
            file=sys.stderr,
        )
        return 1
    done = threading.Event()

    def stop(signum: int, frame: object) -> None:
        done.set()

    # Signal handlers can only be installed from the main thread (call_command may run elsewhere).
    in_main_thread = threading.current_thread() is threading.main_thread()
    signals = (signal.SIGINT, signal.SIGTERM) if in_main_thread else ()
    previous = {sig: signal.signal(sig, stop) for sig in signals}
    try:
        out.write(f"WeChat logistics sandbox listening on {server.url}\n")
        out.write(f"  point WXLOGISTICS['API_BASE_URL'] at {server.url}\n")
        out.write(f"  trace pages and control API: {server.url}/__sandbox__/\n")
        push = server.state.orders.config
        if push.url:
            out.write(
                f"  orders placed here are pushed to {push.url} ({push.format.upper()}, {push.mode} mode)\n"
            )
        out.flush()
        while not done.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)
    out.write("WeChat logistics sandbox stopped.\n")
    out.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m django_wxlogistics.sandbox",
        description="A fake WeChat logistics API (token, updatePath, getContact, order events) "
        "for development and tests.",
    )
    add_arguments(parser)
    return serve(vars(parser.parse_args(argv)))
