"""Does the quickstart run as written? Its own code blocks, in English and in Chinese, applied to a
fresh ``startproject`` with the package installed from a wheel, until a push reaches the sandbox;
then the testing guide's, whose tests run in that project.

The page marks its blocks with a MyST ``code-block`` class (and, for files, a caption naming the
path from the folder of ``manage.py``):

- ``quickstart-file``: the whole file; ``quickstart-append``: added at the end of the file;
- ``quickstart-env``: the ``export`` lines every terminal of the page starts with;
- ``quickstart-run``: commands run in order, in one shell, which keeps its folder (``cd``);
- ``quickstart-background``: a command left running in a terminal of its own.

In a console block, a line starting with ``$ `` is a command (a trailing backslash continues it);
other lines are its output. The only changes made to the text are the ports (8000, 8900, and
Redis' 6379 for a redis-server of the test's own), so that runs never collide.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"en": ROOT / "docs" / "quickstart.md", "zh": ROOT / "docs" / "zh" / "quickstart.md"}
#: Pages that continue the quickstart's project, run after the English one.
CONTINUED_BY = [ROOT / "docs" / "testing.md"]
KINDS = ("file", "append", "env", "run", "background")
PORTS = {"web": 8000, "sandbox": 8900, "redis": 6379}

pytestmark = pytest.mark.integration

T = TypeVar("T")


@dataclass(frozen=True)
class Block:
    kind: str
    caption: str
    text: str

    @property
    def commands(self) -> list[str]:
        """The commands of a console block, without prompts or output."""
        commands: list[str] = []
        continued = False
        for line in self.text.splitlines():
            if continued:
                commands[-1] += "\n" + line
            elif line.startswith("$ "):
                commands.append(line[2:])
            else:
                continue
            continued = line.endswith("\\")
        return commands


_FENCE = re.compile(
    r"^(?P<fence>`{3,})\{code-block\}[ \t]*(?P<lang>\S*)[ \t]*\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)


def quickstart_blocks(page: Path) -> list[Block]:
    """The page's marked code blocks, in order."""
    blocks = []
    for match in _FENCE.finditer(page.read_text(encoding="utf-8")):
        lines = match.group("body").splitlines()
        options = {}
        while lines and lines[0].startswith(":"):
            key, _, value = lines.pop(0)[1:].partition(":")
            options[key.strip()] = value.strip()
        while lines and not lines[0].strip():
            lines.pop(0)
        kind = options.get("class", "").removeprefix("quickstart-")
        if kind in KINDS:
            blocks.append(Block(kind, options.get("caption", ""), "\n".join(lines) + "\n"))
    return blocks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """Poll ``condition`` until it returns something true. ``timeout`` is a ceiling for what should
    soon hold (a server listening, a worker ready), never a deadline the code races."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: still not so after {timeout} s")
        time.sleep(0.1)


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- the package, as a new user installs it ---------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's wheel, built from this checkout (offline when hatchling is installed)."""
    dist = tmp_path_factory.mktemp("dist")
    try:
        import hatchling  # noqa: F401

        isolation = ["--no-build-isolation"]
    except ImportError:  # pip fetches the build backend
        isolation = []
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q", "-w", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [whl] = dist.glob("django_wxlogistics-*.whl")
    return whl


@pytest.fixture(scope="module")
def virtualenv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed. Its dependencies are those of this test run's
    environment, reached through a .pth file (no download), whose own copy of the package is not
    seen: the editable install's .pth there is not processed, and the venv's site-packages
    comes first."""
    env_dir = tmp_path_factory.mktemp("venv") / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    paths = json.loads(
        subprocess.run(
            [str(python), "-c", "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    import sysconfig

    deps = sysconfig.get_paths()["purelib"]
    Path(paths["purelib"], "_quickstart_dependencies.pth").write_text(deps + "\n")
    # The console scripts pip would have made with the dependencies (django-admin, celery).
    here_bin = Path(sys.executable).parent
    for script in here_bin.iterdir():
        target = env_dir / "bin" / script.name
        if target.exists() or not script.is_file():
            continue
        try:
            first, rest = script.read_text().split("\n", 1)
        except (UnicodeDecodeError, ValueError):
            continue
        if first.startswith("#!") and str(here_bin) in first:
            target.write_text(f"#!{python}\n{rest}")
            target.chmod(0o755)
    return env_dir


def clean_environment(env_dir: Path) -> dict[str, str]:
    """A shell as a new user's: the virtualenv active, nothing of this test run's settings."""
    dropped = ("DJANGO_", "WX", "CELERY_", "DATABASE_URL", "REDIS_URL", "PYTHON", "VIRTUAL_ENV", "DEMO_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    ours = {str(Path(sys.executable).parent), str(ROOT / ".venv" / "bin")}
    path = [p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p not in ours]
    env.update(PATH=os.pathsep.join([str(env_dir / "bin"), *path]), VIRTUAL_ENV=str(env_dir))
    return env


# --- running the page --------------------------------------------------------------------------


class Terminal:
    """A command left running, in its own session: stopped with its children, by its pid."""

    def __init__(self, command: str, script: str, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.command, self.log = command, log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                ["bash", "-c", script],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


class Reader:
    """Follows the page: writes its files, runs its commands, keeps its terminals."""

    def __init__(self, base: Path, env: dict[str, str], ports: dict[str, int]) -> None:
        self.cwd, self.env, self.ports = base, env, ports
        self.base = base
        self.exports = ""
        self.terminals: list[Terminal] = []
        self.transcript: list[str] = []

    def adapt(self, text: str) -> str:
        for name, port in PORTS.items():
            text = re.sub(rf"\b{port}\b", str(self.ports[name]), text)
        return text

    def follow(self, block: Block) -> None:
        text = self.adapt(block.text)
        if block.kind in ("file", "append"):
            path = self.cwd / block.caption.split()[0]
            assert block.kind == "append" or path.parent.is_dir(), f"{path.parent} does not exist yet"
            old = path.read_text() if block.kind == "append" else ""
            path.write_text(old + ("\n" if old else "") + text)
        elif block.kind == "env":
            self.exports += "\n".join(Block("env", "", text).commands) + "\n"
        elif block.kind == "run":
            self.run(Block("run", "", text).commands)
        else:
            self.ready()  # a terminal started after another sees it up, as a reader would
            [command] = Block("background", "", text).commands
            log = self.base / f"terminal-{len(self.terminals) + 1}.log"
            script = f"set -e\n{self.exports}exec {command}\n"
            self.terminals.append(Terminal(command, script, self.cwd, self.env, log))

    def run(self, commands: list[str]) -> None:
        self.ready()
        where = self.base / ".cwd"
        script = "set -e\n" + self.exports + "\n".join(commands) + f'\npwd > "{where}"\n'
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.transcript.append(f"$ {commands}\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
        assert result.returncode == 0, self.transcript[-1] + self.logs()
        self.cwd = Path(where.read_text().strip())

    def ready(self) -> None:
        """The page's terminals are up: the shop and the sandbox listen, the worker is ready."""
        for terminal in self.terminals:
            if terminal.popen.poll() is not None:
                raise AssertionError(f"{terminal.command!r} stopped:\n{terminal.output()[-3000:]}")
            if "celery" in terminal.command:
                wait_for(lambda t=terminal: " ready." in t.output(), f"the worker of {terminal.command!r}")
        for name in ("web", "sandbox"):
            if any(str(self.ports[name]) in t.command for t in self.terminals):
                wait_for(lambda n=name: listening(self.ports[n]), f"port {self.ports[name]} ({name})")

    def logs(self) -> str:
        return "".join(f"\n--- {t.command}\n{t.output()[-3000:]}" for t in self.terminals)

    def stop(self) -> None:
        for terminal in reversed(self.terminals):
            terminal.stop()


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    """A redis-server of this test's own, as the page's broker."""
    if shutil.which("redis-server") is None:
        pytest.fail("the quickstart's broker is Redis: install redis-server (apt-get install redis-server)")
    port = free_port()
    log = (tmp_path / "redis.log").open("wb")
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    try:
        wait_for(lambda: listening(port), "redis-server")
        yield port
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("language", sorted(PAGES))
def test_the_quickstart_runs_as_written(
    language: str, virtualenv: Path, redis_port: int, tmp_path: Path
) -> None:
    ports = {"web": free_port(), "sandbox": free_port(), "redis": redis_port}
    reader = Reader(tmp_path, clean_environment(virtualenv), ports)
    sandbox = f"http://127.0.0.1:{ports['sandbox']}/__sandbox__"
    try:
        for block in quickstart_blocks(PAGES[language]):
            reader.follow(block)
        reader.ready()

        # The order placed on the page came to the shop through its events URL, as add_waybill.
        [order] = requests.get(f"{sandbox}/orders", timeout=10).json()["orders"]
        assert order["state"] == "placed", order
        assert order["result_code"] == 0, order
        waybill_id = order["waybill_id"]

        # The status change reached the sandbox: a trace event of the waybill, on its trace page.
        def pushed() -> list[dict[str, object]]:
            return requests.get(f"{sandbox}/waybills/{waybill_id}/trace", timeout=10).json()["trace"]

        trace = wait_for(pushed, "the status change reaching the sandbox")
        assert [event["action_type"] for event in trace] == [100001], reader.logs()
        assert trace[0]["action_msg"] == "Your parcel has been picked up by the courier."
        page = requests.get(f"{sandbox}/trace/{waybill_id}?lang=en", timeout=10).text
        assert "Picked up" in page and "Your parcel has been picked up by the courier." in page

        # The page leaves nothing for the system checks to warn about (a Celery app that is not
        # loaded would be W100, though the worker's sweeper would still push, late).
        reader.run(["python manage.py check --fail-level WARNING"])
        assert "no issues" in reader.transcript[-1], reader.transcript[-1]

        # ... by the wheel's package, not this checkout's.
        reader.run(['python -c "import django_wxlogistics; print(django_wxlogistics.__file__)"'])
        where = reader.transcript[-1]
        assert str(virtualenv) in where and str(ROOT / "django_wxlogistics") not in where, where

        if language == "en":  # the testing guide's files and its pytest run, in the same project
            for page in CONTINUED_BY:
                for block in quickstart_blocks(page):
                    reader.follow(block)
            assert " passed" in reader.transcript[-1] and "failed" not in reader.transcript[-1]
    finally:
        reader.stop()


def test_both_pages_give_the_same_files_and_commands() -> None:
    english, chinese = (quickstart_blocks(PAGES[lang]) for lang in ("en", "zh"))
    assert [b.kind for b in english] == [b.kind for b in chinese]
    assert {b.kind for b in english} == set(KINDS), "the test reads these kinds of block"

    def what(block: Block) -> object:
        if block.kind in ("file", "append"):
            return block.caption.split()[0]
        return block.commands

    assert [what(b) for b in english] == [what(b) for b in chinese]


def test_the_reader_of_the_page_reads_blocks_commands_and_continuations(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```{code-block} console\n:class: quickstart-run\n\n$ echo one \\\n    two\none two\n$ ls\n```\n\n"
        "````{code-block} python\n:caption: pkg/mod.py (new)\n:class: quickstart-file\n\nX = 1\n````\n\n"
        "```python\nnot = 'marked'\n```\n"
    )
    run, module = quickstart_blocks(page)
    assert run.commands == ["echo one \\\n    two", "ls"]
    assert (module.kind, module.caption.split()[0], module.text) == ("file", "pkg/mod.py", "X = 1\n")
