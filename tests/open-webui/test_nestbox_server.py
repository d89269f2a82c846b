"""The Tool and the Function through a real `nestbox serve` (the NESTBOX_SERVER valve): warm,
pooled sandboxes, kept files with their URLs, attachments, limits, and the plain messages for
a wrong or missing token and a server that is not there."""

import http.client
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Recorder, parse_answer, user
from test_action import body
from test_attachments import READ, stored_file

PREFIX = "/cache/functions/run_code/"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 5.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def get(socket_path: str, route: str) -> int:
    connection = UnixHTTPConnection(socket_path)
    try:
        connection.request("GET", route)
        return connection.getresponse().status
    finally:
        connection.close()


def wait_ready(proc: subprocess.Popen, socket_path: str, log: Path) -> None:
    """Until GET /readyz answers 200: the pool holds an idle sandbox for every plugin."""
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"nestbox serve exited: {log.read_text()[-3000:]}")
        try:
            if get(socket_path, "/readyz") == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"nestbox serve not ready: {log.read_text()[-3000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(nestbox: str) -> Iterator[types.SimpleNamespace]:
    """`nestbox serve` on a socket in a temporary directory, with its own state directory, a
    token file and the storage settings Open WebUI uses (given in its environment)."""
    home = Path(tempfile.mkdtemp(prefix="nestbox-serve-"))  # short: socket paths are limited
    state, storage, token_file = home / "state", home / "store", home / "token"
    storage.mkdir()
    token = secrets.token_hex(24)
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    socket_path = str(home / "serve.sock")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CODE_EVAL_VALVE_OVERRIDE_") and k != "NESTBOX_SERVER_TOKEN"
    }
    env.update(
        NESTBOX_STATE_DIR=str(state),
        CODE_EVAL_VALVE_OVERRIDE_WEB_ACCESSIBLE_DIRECTORY_PATH=str(storage),
        CODE_EVAL_VALVE_OVERRIDE_WEB_ACCESSIBLE_DIRECTORY_URL=PREFIX.rstrip("/"),
        CODE_EVAL_VALVE_OVERRIDE_AUTO_INSTALL="false",
        CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES="false",
    )
    log = open(home / "serve.log", "wb")  # noqa: SIM115 - closed in the finalizer
    argv = [nestbox, "serve", "--socket", socket_path, "--token-file", str(token_file)]
    proc = subprocess.Popen([*argv, "--pool", "1"], env=env, stdout=log, stderr=log)
    try:
        served = types.SimpleNamespace(
            socket=socket_path, token=token, token_file=str(token_file), storage=storage, home=home
        )
        served.wait_ready = lambda: wait_ready(proc, socket_path, home / "serve.log")
        served.wait_ready()
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def valves(cls: type, server: types.SimpleNamespace, **kw):
    settings = {
        "NESTBOX_SERVER": server.socket,
        "NESTBOX_SERVER_TOKEN_FILE": server.token_file,
        "WEB_ACCESSIBLE_DIRECTORY_PATH": str(server.storage),
        **kw,
    }
    return cls.Valves(**settings)


@pytest.fixture
def served(tools, server):
    """The Tool, set up for the server (same storage as the server's), once the server's pool
    is full again: a run that finds the pool empty boots a fresh sandbox (pooled: false)."""
    server.wait_ready()
    instance = tools.Tools()
    instance.valves = valves(tools.Tools, server)
    return instance


@pytest.fixture
def raw(tools, monkeypatch) -> list[dict]:
    """The results exactly as nestbox returned them (before the Tool trims them for the model)."""
    seen, spawn = [], tools._spawn

    async def recording(*args, **kw) -> dict:
        result = await spawn(*args, **kw)
        seen.append(result)
        return result

    monkeypatch.setattr(tools, "_spawn", recording)
    return seen


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="nestbox.open_webui")
    return caplog


async def run(tool, events: Recorder, code: str = "print(1)", **kw) -> dict:
    answer = await tool.run_python_code(
        code, __user__=kw.pop("u", user()), __event_emitter__=events, **kw
    )
    return parse_answer(answer)


def no_token_anywhere(token: str, *things) -> None:
    for thing in things:
        text = thing if isinstance(thing, str) else json.dumps(thing)
        assert token not in text


async def test_tool_runs_through_the_server_pooled(
    served, server, events: Recorder, raw: list[dict], log, monkeypatch
) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_DEBUG", "true")
    result = await run(served, events, "print('hello', 6 * 7)")
    assert result["status"] == "OK", result
    assert (result["stdout"], result["stderr"], result["exit_code"]) == ("hello 42\n", "", 0)
    assert raw[0]["sandbox"]["pooled"] is True
    assert raw[0]["sandbox"]["outer"] == "gvisor"
    status = events.final_status()
    assert status.startswith("Python code ran successfully in") and " pooled;" in status
    assert events.statuses()[0] == "Running Python code in the sandbox…"
    [page] = events.of("embeds")[0]["embeds"]
    assert "hello 42" in page
    no_token_anywhere(server.token, result, events.events, log.text)


async def test_bash_through_the_server(served, events: Recorder, raw: list[dict]) -> None:
    answer = await served.run_bash_command("echo $((6 * 7))", __event_emitter__=events)
    assert parse_answer(answer)["stdout"] == "42\n"
    assert raw[0]["sandbox"]["pooled"] is True


async def test_written_file_comes_back_with_its_url(
    served, server, events: Recorder, raw: list[dict], log
) -> None:
    code = "open('report.txt', 'w').write('made in a warm sandbox\\n')\nprint('done')"
    result = await run(served, events, code, u=user("server-user"))
    assert result["status"] == "OK", result
    [entry] = result["files"]
    assert entry["path"] == "report.txt" and entry["url"].startswith(PREFIX)
    kept = server.storage / entry["url"].removeprefix(PREFIX)
    assert kept.read_text() == "made in a warm sandbox\n"
    assert raw[0]["sandbox"]["pooled"] is True
    [page] = events.of("embeds")[0]["embeds"]
    assert entry["url"] in page and "made in a warm sandbox" in page  # read back inline
    assert "outside WEB_ACCESSIBLE_DIRECTORY_PATH" not in log.text


async def test_other_storage_than_the_server_is_logged(
    served, storage: Path, events: Recorder, log
) -> None:
    served.valves.WEB_ACCESSIBLE_DIRECTORY_PATH = str(storage)  # not the server's
    result = await run(served, events, "open('x.txt', 'w').write('x')", u=user("elsewhere"))
    assert result["status"] == "OK" and result["files"][0]["url"].startswith(PREFIX)
    assert "outside WEB_ACCESSIBLE_DIRECTORY_PATH/URL here" in log.text


async def test_attachments_reach_the_server(owui, served, events: Recorder, raw) -> None:
    fid = await stored_file(owui, "owner-srv", "data.csv", b"city,temp\nOslo,3\n")
    files = [{"type": "file", "id": fid, "name": "data.csv"}]
    result = await run(served, events, READ, u=user("owner-srv"), __files__=files)
    assert result["status"] == "OK", result
    assert result["stdout"] == "['data.csv']\ncity,temp\nOslo,3\nread-only\n"
    assert result["files"] == []
    assert raw[0]["sandbox"]["pooled"] is True


async def test_attachments_too_big_for_the_server(
    owui, tools, served, events: Recorder, monkeypatch
) -> None:
    # A server with a 2 MiB cap (the real one takes 112 MiB; a file that large is slow to store).
    monkeypatch.setattr(tools, "_SERVER_MAX_REQUEST_BYTES", 2 * 1024 * 1024)
    fid = await stored_file(owui, "owner-big", "big.bin", b"x" * (3 * 1024 * 1024))
    files = [{"type": "file", "id": fid, "name": "big.bin"}]
    result = await run(served, events, "print(1)", u=user("owner-big"), __files__=files)
    assert result["status"] == "SANDBOX_ERROR"
    status = events.final_status()
    assert "the code and its attached files are too large to send to the nestbox server" in status
    assert "NESTBOX_SERVER_FALLBACK_TO_COLD" in status


async def test_attachments_too_big_fall_back_to_a_fresh_sandbox(
    owui, tools, served, events: Recorder, raw, monkeypatch
) -> None:
    monkeypatch.setattr(tools, "_SERVER_MAX_REQUEST_BYTES", 2 * 1024 * 1024)
    served.valves.NESTBOX_SERVER_FALLBACK_TO_COLD = True
    fid = await stored_file(owui, "owner-big2", "big.bin", b"x" * (3 * 1024 * 1024))
    files = [{"type": "file", "id": fid, "name": "big.bin"}]
    code = "import os\nprint(os.path.getsize('big.bin'))"
    result = await run(served, events, code, u=user("owner-big2"), __files__=files)
    assert result["status"] == "OK", result
    assert result["stdout"] == f"{3 * 1024 * 1024}\n"
    assert raw[0]["sandbox"]["pooled"] is False
    assert "too large to send to the nestbox server; ran in a fresh sandbox" in result["notices"][0]


async def test_administrator_limits_apply_through_the_server(
    served, events: Recorder, monkeypatch
) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "1")
    result = await run(served, events, "import time\nprint('before', flush=True)\ntime.sleep(5)")
    assert result["status"] == "TIMEOUT"
    assert result["stdout"] == "before\n"
    assert "limit of 1 s" in result["message"]


async def test_user_limit_still_lowers_through_the_server(served, events: Recorder) -> None:
    who = {**user(), "valves": {"MAX_RAM_MEGABYTES": 80}}
    code = "x = bytearray(128 * 1024 * 1024)\nprint('allocated')"
    result = await run(served, events, code, u=who)
    assert result["status"] == "MEMORY_LIMIT", result
    assert "80 MiB" in result["message"]


async def test_networking_valve_is_refused_with_a_server_too(served, events: Recorder) -> None:
    served.valves.NETWORKING_ALLOWED = True
    result = await run(served, events)
    assert result["status"] == "SANDBOX_ERROR"
    assert "set it to false" in events.final_status()


async def test_token_from_the_environment(
    served, server, events: Recorder, raw, log, monkeypatch
) -> None:
    served.valves.NESTBOX_SERVER_TOKEN_FILE = ""
    monkeypatch.setenv("NESTBOX_SERVER_TOKEN", server.token)
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_DEBUG", "true")
    result = await run(served, events, "print('env token')")
    assert result["stdout"] == "env token\n", raw
    assert raw[0]["sandbox"]["pooled"] is True, raw
    no_token_anywhere(server.token, result, events.events, log.text)


async def test_wrong_token_names_the_fix(
    served, server, events: Recorder, log, tmp_path: Path, monkeypatch
) -> None:
    wrong = tmp_path / "wrong-token"
    wrong.write_text("not-the-token-but-long-enough\n")
    served.valves.NESTBOX_SERVER_TOKEN_FILE = str(wrong)
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_DEBUG", "true")
    result = await run(served, events)
    assert result["status"] == "SANDBOX_ERROR"
    status = events.final_status()
    assert status.startswith(
        "The code sandbox is not working: the nestbox server refused the token (missing or wrong)"
    )
    assert "NESTBOX_SERVER_TOKEN_FILE" in status and "NESTBOX_SERVER_TOKEN" in status
    assert "nestbox doctor" not in status  # not the fix here
    assert result["message"] == status.split(" [")[0]
    no_token_anywhere(server.token, result, events.events, log.text)
    no_token_anywhere("not-the-token-but-long-enough", result, events.events, log.text)
    assert str(tmp_path) not in json.dumps(events.events)


async def test_missing_token_names_the_fix(
    served, events: Recorder, tmp_path: Path, monkeypatch
) -> None:
    served.valves.NESTBOX_SERVER_TOKEN_FILE = ""
    monkeypatch.delenv("NESTBOX_SERVER_TOKEN", raising=False)
    monkeypatch.setenv("NESTBOX_STATE_DIR", str(tmp_path))  # no serve.token there
    result = await run(served, events)
    assert result["status"] == "SANDBOX_ERROR"
    status = events.final_status()
    assert "there is no token for the nestbox server" in status
    assert "set the NESTBOX_SERVER_TOKEN_FILE valve" in status
    assert str(tmp_path) not in status


async def test_unreadable_token_file_names_the_fix(
    served, events: Recorder, tmp_path: Path
) -> None:
    served.valves.NESTBOX_SERVER_TOKEN_FILE = str(tmp_path / "no-such-token")
    result = await run(served, events)
    assert result["status"] == "SANDBOX_ERROR"
    status = events.final_status()
    assert "the file in NESTBOX_SERVER_TOKEN_FILE cannot be read (No such file or directory" in (
        status
    )
    assert str(tmp_path) not in status


async def test_no_server_at_the_socket(
    served, server, events: Recorder, tmp_path: Path, log
) -> None:
    served.valves.NESTBOX_SERVER = str(tmp_path / "nobody.sock")
    result = await run(served, events)
    assert result["status"] == "SANDBOX_ERROR"
    status = events.final_status()
    assert status == (
        "The code sandbox is not working: the nestbox server in NESTBOX_SERVER cannot be reached "
        "(No such file or directory (os error 2)). fix: start `nestbox serve` there, or clear "
        "NESTBOX_SERVER to run each piece of code in a fresh sandbox, or set "
        "NESTBOX_SERVER_FALLBACK_TO_COLD to true."
    )
    assert "nobody.sock" in log.text  # the administrator's log has the detail


async def test_no_server_falls_back_to_a_fresh_sandbox(
    served, events: Recorder, tmp_path: Path, raw, log
) -> None:
    served.valves.NESTBOX_SERVER = str(tmp_path / "nobody.sock")
    served.valves.NESTBOX_SERVER_FALLBACK_TO_COLD = True
    result = await run(served, events, "print('cold')")
    assert result["status"] == "OK", result
    assert result["stdout"] == "cold\n"
    assert raw[0]["sandbox"]["pooled"] is False
    [notice] = result["notices"]
    assert "ran in a fresh sandbox instead" in notice and str(tmp_path) not in notice
    assert "the server was not used" in log.text


async def test_action_runs_through_the_server(
    functions, server, events: Recorder, raw_action: list[dict]
) -> None:
    server.wait_ready()
    action = functions.Action()
    action.valves = valves(functions.Action, server)
    content = "```python\nopen('table.csv', 'w').write('a,b\\n1,2\\n')\nprint('wrote it')\n```"
    answer = await action.action(body(content), __user__=user("clicker"), __event_emitter__=events)
    assert answer["status"] == "OK", answer
    assert raw_action[0]["sandbox"]["pooled"] is True
    appended = events.messages()
    assert "wrote it" in appended
    [entry] = answer["files"]
    assert entry["url"].startswith(PREFIX) and f"({entry['url']})" in appended
    assert "a,b\n1,2" in appended  # small text file shown inline, read from the server's storage


@pytest.fixture
def raw_action(functions, monkeypatch) -> list[dict]:
    seen, spawn = [], functions._spawn

    async def recording(*args, **kw) -> dict:
        result = await spawn(*args, **kw)
        seen.append(result)
        return result

    monkeypatch.setattr(functions, "_spawn", recording)
    return seen
