"""Brokers that misbehave, on real sockets on 127.0.0.1: refusing, silent, dropping, slow.

Each is a context manager that yields the port to point a broker URL at.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from tests.pipeline.processes import free_port


@contextmanager
def refusing() -> Iterator[int]:
    """Nothing listens: each connection attempt is refused at once."""
    yield free_port()


@contextmanager
def silent(port: int = 0) -> Iterator[int]:
    """The kernel completes the handshake, and nothing ever reads or answers."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(64)
        yield server.getsockname()[1]


@contextmanager
def dropping() -> Iterator[int]:
    """Connection attempts go unanswered: Linux drops a SYN while the accept queue is full.

    With a backlog of 0 the queue holds one connection; connections nobody accepts fill it,
    until a probe's connection attempt times out.
    """
    with socket.socket() as server, ExitStack() as fillers:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(10):
            probe = fillers.enter_context(socket.socket())
            probe.settimeout(0.3)
            try:
                probe.connect(("127.0.0.1", port))
            except TimeoutError:
                break  # dropped: the queue is full
        else:
            raise AssertionError("this kernel answered every connection past a full accept queue")
        yield port


class _SlowRedisHandler(socketserver.StreamRequestHandler):
    """Speaks enough of Redis' protocol for a publish, answering each command ``delay`` late."""

    server: _SlowRedisServer

    def handle(self) -> None:
        queued: list[bytes] | None = None  # the answers of a MULTI, for its EXEC
        while not self.server.stopping.is_set():
            command = self._read_command()
            if command is None:
                return
            self.server.commands.append(command)
            if self.server.stopping.wait(self.server.delay):
                return
            name, answer = command[0].upper(), self._answer(command)
            if name == b"MULTI":
                queued = []
            elif name == b"EXEC" and queued is not None:
                answer, queued = b"*%d\r\n" % len(queued) + b"".join(queued), None
            elif queued is not None:
                queued.append(answer)
                answer = b"+QUEUED\r\n"
            try:
                self.wfile.write(answer)
            except OSError:  # the client gave up and closed
                return

    def _read_command(self) -> list[bytes] | None:
        header = self.rfile.readline()
        if not header.startswith(b"*") or header[1:].strip() in (b"0", b"-1"):
            return None
        command = []
        for _ in range(int(header[1:])):
            length = int(self.rfile.readline()[1:])
            command.append(self.rfile.read(length + 2)[:-2])
        return command

    @staticmethod
    def _answer(command: list[bytes]) -> bytes:
        name = command[0].upper()
        if name == b"PING":
            return b"+PONG\r\n"
        if name == b"HELLO":  # RESP3's greeting: a map describing the server
            fields = {"server": "redis", "version": "7.2.0", "proto": 3, "id": 1, "mode": "standalone"}
            reply = [f"%{len(fields) + 2}\r\n"]
            for key, value in fields.items():
                item = f":{value}" if isinstance(value, int) else f"${len(value)}\r\n{value}"
                reply.append(f"${len(key)}\r\n{key}\r\n{item}\r\n")
            reply.append("$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")
            return "".join(reply).encode()
        if name in (b"SMEMBERS", b"LRANGE", b"KEYS"):
            return b"*0\r\n"
        if name in (b"SADD", b"LPUSH", b"RPUSH", b"EXISTS", b"DEL", b"ZADD", b"EXPIRE"):
            return b":1\r\n"
        if name == b"LLEN":
            return b":0\r\n"
        return b"+OK\r\n"


class _SlowRedisServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.stopping = threading.Event()
        self.commands: list[list[bytes]] = []
        super().__init__(("127.0.0.1", 0), _SlowRedisHandler)


@contextmanager
def slow_redis(delay: float) -> Iterator[int]:
    """A Redis that answers every command, each ``delay`` seconds after it came."""
    server = _SlowRedisServer(delay)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


BROKERS = {"refusing": refusing, "silent": silent, "dropping": dropping}
