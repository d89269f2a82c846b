"""The Tool and the Action talking HTTP to `nestbox serve` (NESTBOX_SERVER=http://...): two
real servers on 127.0.0.1 TCP ports with their own tokens, the Tool loaded by Open WebUI's own
loader with no nestbox program to find, and results compared with the local path's (the same
Tool running the nestbox binary). Files come back in the result and are stored in Open WebUI's
own file storage, owned by the user."""

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import TOOL_FILE, Recorder, parse_answer, path_without_nestbox, user
from fake_model import CHART_CODE
from images import png_bytes
from owui_server import free_port
from test_action import body
from test_attachments import stored_file

CHART = png_bytes(40, 30, (30, 120, 200))
FILE_URL = re.compile(r"/api/v1/files/([0-9a-f-]{36})/content")


def serve_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CODE_EVAL_VALVE_OVERRIDE_") and k != "NESTBOX_SERVER_TOKEN"
    }
    env.update(
        CODE_EVAL_VALVE_OVERRIDE_AUTO_INSTALL="false",
        CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES="false",
        **extra,
    )
    return env


def readyz(url: str, context=None) -> int:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=5, context=context) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class Served:
    """One `nestbox serve --listen 127.0.0.1:PORT` with its own state, token and settings."""

    def __init__(self, nestbox: str, *extra_args: str, scheme: str = "http", **env: str) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="nestbox-http-"))
        self.token = secrets.token_hex(24)
        self.token_file = self.home / "token"
        self.token_file.write_text(self.token + "\n")
        self.token_file.chmod(0o600)
        self.port = free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.log = self.home / "serve.log"
        argv = [
            nestbox,
            "serve",
            "--socket",
            str(self.home / "serve.sock"),
            "--listen",
            f"127.0.0.1:{self.port}",
            "--token-file",
            str(self.token_file),
            "--pool",
            "1",
            *extra_args,
        ]
        env = serve_env(NESTBOX_STATE_DIR=str(self.home / "state"), **env)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)

    def wait_ready(self, context=None) -> None:
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"nestbox serve exited: {self.log.read_text()[-3000:]}")
            try:
                if readyz(self.url, context) == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"nestbox serve not ready: {self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture(scope="module")
def servers(nestbox: str) -> Iterator[types.SimpleNamespace]:
    """Two servers: `a` with the default settings, `b` returning at most 1 MiB of files."""
    a = Served(nestbox)
    b = Served(nestbox, NESTBOX_MAX_RETURNED_MEGABYTES="1")
    try:
        a.wait_ready()
        b.wait_ready()
        yield types.SimpleNamespace(a=a, b=b)
    finally:
        a.stop()
        b.stop()


def without_binary(m: pytest.MonkeyPatch, nestbox: str) -> None:
    """No nestbox program anywhere: NESTBOX_BINARY points nowhere, PATH has none."""
    m.setenv("CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY", "/nonexistent/nestbox")
    m.setenv("PATH", path_without_nestbox(nestbox))
    assert shutil.which("nestbox") is None


def never(*args, **kw):
    raise AssertionError("HTTP mode must not run or look for the nestbox program")


@pytest.fixture
async def loaded(owui, nestbox: str, monkeypatch: pytest.MonkeyPatch):
    """The Tool as Open WebUI loads it (in HTTP mode from the start, as with the operator's
    CODE_EVAL_VALVE_OVERRIDE_NESTBOX_SERVER), with every way of running the program disabled."""
    with monkeypatch.context() as m:
        without_binary(m, nestbox)
        m.setenv("CODE_EVAL_VALVE_OVERRIDE_NESTBOX_SERVER", "http://127.0.0.1:9")
        instance, _, module = await owui.load_tool("nestbox_http", content=TOOL_FILE.read_text())
    for name in ("_spawn", "_features", "_installed_plugins", "_find_binary"):
        monkeypatch.setattr(module, name, never)
    return types.SimpleNamespace(instance=instance, module=module, nestbox=nestbox)


def point(loaded, server: Served, **kw) -> None:
    settings = {"NESTBOX_SERVER": server.url, "NESTBOX_SERVER_TOKEN_FILE": str(server.token_file)}
    loaded.instance.valves = loaded.module.Tools.Valves(**{**settings, **kw})


def comparable(answer: dict) -> dict:
    """An answer without what differs between two runs of the same code: timings and links."""
    out = {k: v for k, v in answer.items() if k not in ("notices", "images_shown_to_user")}
    out["message"] = re.sub(r"\d+\.\d s", "N s", answer["message"])
    out["files"] = [{k: v for k, v in f.items() if k != "url"} for f in answer["files"]]
    return out


def shown(events: Recorder) -> list[str]:
    return [f["name"] for e in events.of("files") for f in e["files"]]


async def stored(owui, url: str) -> tuple[object, bytes]:
    """The Open WebUI file record behind a link and its bytes."""
    match = FILE_URL.fullmatch(url)
    assert match, url
    record = await owui.Files.get_file_by_id(match.group(1))
    assert record is not None, url
    return record, Path(owui.Storage.get_file(record.path)).read_bytes()


async def both(tool, loaded, server: Served, method: str, code: str, **kw):
    """The same code through the local path and through the server: both answers and events."""
    local_events, http_events = Recorder(), Recorder()
    local = await getattr(tool, method)(code, __event_emitter__=local_events, **kw)
    point(loaded, server)
    with pytest.MonkeyPatch.context() as m:
        without_binary(m, loaded.nestbox)
        remote = await getattr(loaded.instance, method)(code, __event_emitter__=http_events, **kw)
    return parse_answer(local), local_events, parse_answer(remote), http_events


async def test_a_chart_is_shown_inline_from_open_webui_storage(owui, tool, loaded, servers) -> None:
    me = user("http-chart")
    local, local_events, remote, events = await both(
        tool, loaded, servers.a, "run_python_code", CHART_CODE, __user__=me
    )
    assert remote["status"] == "OK", remote
    assert comparable(remote) == comparable(local)
    assert shown(events) == shown(local_events) == ["chart.png"]
    [chart] = remote["files"]
    assert chart["shown_to_user"] and FILE_URL.fullmatch(chart["url"]), chart
    assert events.of("files")[0]["files"][0]["url"] == chart["url"]
    record, data = await stored(owui, chart["url"])
    assert data == CHART
    assert record.user_id == "http-chart"
    assert record.meta["content_type"] == "image/png" and record.meta["name"] == "chart.png"
    assert events.final_status().startswith("Python code ran successfully in")
    assert [s.split(" in ")[0] for s in events.statuses()] == [
        s.split(" in ")[0] for s in local_events.statuses()
    ]


@pytest.mark.needs_packages("matplotlib")
async def test_matplotlib_figures_come_back_as_on_the_local_path(tool, loaded, servers) -> None:
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()\n"
    local, local_events, remote, events = await both(
        tool, loaded, servers.b, "run_python_code", code, __user__=user("http-plot")
    )
    assert remote["status"] == "OK", remote
    assert comparable(remote) == comparable(local)
    assert shown(events) == shown(local_events) == ["figure_1.png"]


async def test_bash_and_text_files_as_on_the_local_path(owui, tool, loaded, servers) -> None:
    code = "echo hello; mkdir -p out; printf 'a,b\\n1,2\\n' > out/t.csv; echo '<b>x</b>' > p.html"
    local, _, remote, events = await both(
        tool, loaded, servers.b, "run_bash_command", code, __user__=user("http-bash")
    )
    assert remote["status"] == "OK", remote
    assert remote["stdout"] == "hello\n"
    assert comparable(remote) == comparable(local)
    by_name = {f["path"]: f for f in remote["files"]}
    assert sorted(by_name) == ["out/t.csv", "p.html"]
    record, data = await stored(owui, by_name["out/t.csv"]["url"])
    assert data == b"a,b\n1,2\n" and record.meta["content_type"] == "text/plain"
    # HTML is never served as a page from Open WebUI's origin: it is a download.
    record, data = await stored(owui, by_name["p.html"]["url"])
    assert data == b"<b>x</b>\n" and record.meta["content_type"] == "application/octet-stream"
    # The block shows the small text file inline, as the local path does.
    [page] = events.of("embeds")[0]["embeds"]
    assert "<pre>a,b\n1,2\n</pre>" in page


@pytest.mark.needs_packages("pandas")
async def test_an_attached_csv_is_read_with_pandas(owui, tool, loaded, servers) -> None:
    fid = await stored_file(owui, "http-csv", "data.csv", b"city,temp\nOslo,3\nRome,14\n")
    code = "import pandas as pd\ndf = pd.read_csv('data.csv')\nprint(len(df), df['temp'].sum())\n"
    files = [{"type": "file", "id": fid, "name": "data.csv"}]
    local, _, remote, _ = await both(
        tool, loaded, servers.a, "run_python_code", code, __user__=user("http-csv"), __files__=files
    )
    assert remote["status"] == "OK", remote
    assert remote["stdout"] == "2 17\n"
    assert comparable(remote) == comparable(local)
    assert remote["files"] == []  # the attachment is not a file the code made


async def test_an_error_is_the_same_error(tool, loaded, servers) -> None:
    code = "print('before')\nraise ValueError('boom')\n"
    local, _, remote, events = await both(
        tool, loaded, servers.a, "run_python_code", code, __user__=user("http-err")
    )
    assert (remote["status"], remote["ok"], remote["exit_code"]) == ("ERROR", False, 1), remote
    assert "ValueError: boom" in remote["stderr"]
    assert comparable(remote) == comparable(local)
    assert events.final_status() == "Python code failed with exit status 1: ValueError: boom"


async def test_no_file_is_lost_past_the_servers_cap(owui, loaded, servers) -> None:
    """Server b returns at most 1 MiB: the big file is not stored and every message says so,
    the others are stored, and the run is STORAGE_ERROR (it ran; not all files were kept)."""
    point(loaded, servers.b)
    events = Recorder()
    code = (
        "open('a.txt', 'w').write('small')\n"
        "open('big.bin', 'wb').write(b'x' * (1024 * 1024 + 1))\n"
        "open('c.txt', 'w').write('also small')\n"
        "print('done')\n"
    )
    answer = parse_answer(
        await loaded.instance.run_python_code(
            code, __user__=user("http-cap"), __event_emitter__=events
        )
    )
    assert answer["status"] == "STORAGE_ERROR" and answer["stdout"] == "done\n", answer
    by_name = {f["path"]: f for f in answer["files"]}
    assert sorted(by_name) == ["a.txt", "big.bin", "c.txt"]
    assert "url" not in by_name["big.bin"] and by_name["big.bin"]["size"] == 1024 * 1024 + 1
    assert [n for n in answer["notices"] if "big.bin" in n and "NESTBOX_MAX_RETURNED" in n]
    assert "big.bin" in answer["message"]
    for name, content in (("a.txt", b"small"), ("c.txt", b"also small")):
        _, data = await stored(owui, by_name[name]["url"])
        assert data == content


async def test_each_server_and_its_own_token(loaded, servers, monkeypatch) -> None:
    code = "print('which')"
    for server in (servers.a, servers.b):
        point(loaded, server)
        answer = parse_answer(await loaded.instance.run_python_code(code, __user__=user()))
        assert (answer["status"], answer["stdout"]) == ("OK", "which\n"), answer
    # a's token at b: refused, with the valve and the variable to fix, and no token shown.
    point(loaded, servers.b, NESTBOX_SERVER_TOKEN_FILE=str(servers.a.token_file))
    events = Recorder()
    text = await loaded.instance.run_python_code(code, __user__=user(), __event_emitter__=events)
    answer = parse_answer(text)
    assert answer["status"] == "SANDBOX_ERROR" and text.startswith("Error: "), text
    assert "refused the token" in answer["message"]
    assert "NESTBOX_SERVER_TOKEN_FILE" in answer["message"]
    assert "NESTBOX_SERVER_TOKEN" in answer["message"]
    for token in (servers.a.token, servers.b.token):
        assert token not in text and token not in str(events.events)
    assert "refused the token" in events.final_status()
    # The token from the environment when the valve names no file.
    point(loaded, servers.a, NESTBOX_SERVER_TOKEN_FILE="")
    monkeypatch.setenv("NESTBOX_SERVER_TOKEN", servers.a.token)
    answer = parse_answer(await loaded.instance.run_python_code(code, __user__=user()))
    assert answer["status"] == "OK", answer
    monkeypatch.delenv("NESTBOX_SERVER_TOKEN")
    answer = parse_answer(await loaded.instance.run_python_code(code, __user__=user()))
    assert answer["status"] == "SANDBOX_ERROR" and "no token" in answer["message"], answer


async def test_a_dead_port_says_so(loaded) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    token = Path(tempfile.mkdtemp(prefix="nestbox-tok-")) / "token"
    token.write_text("x" * 32)
    loaded.instance.valves = loaded.module.Tools.Valves(
        NESTBOX_SERVER=dead, NESTBOX_SERVER_TOKEN_FILE=str(token)
    )
    events = Recorder()
    text = await loaded.instance.run_python_code(
        "print(1)", __user__=user(), __event_emitter__=events
    )
    answer = parse_answer(text)
    assert answer["status"] == "SANDBOX_ERROR" and text.startswith("Error: "), text
    assert "cannot be reached" in answer["message"] and dead in answer["message"], answer
    assert "Connect call failed" in answer["message"] or "refused" in answer["message"].lower()
    assert "cannot be reached" in events.final_status()
    shutil.rmtree(token.parent)


async def test_the_action_over_http(owui, functions, nestbox, servers, monkeypatch) -> None:
    without_binary(monkeypatch, nestbox)
    action = functions.Action()
    action.valves = functions.Action.Valves(
        NESTBOX_SERVER=servers.a.url, NESTBOX_SERVER_TOKEN_FILE=str(servers.a.token_file)
    )
    for name in ("_spawn", "_features", "_installed_plugins", "_find_binary"):
        monkeypatch.setattr(functions, name, never)
    events = Recorder()
    answer = await action.action(
        body(f"```python\n{CHART_CODE}```"), __user__=user("http-act"), __event_emitter__=events
    )
    assert answer["status"] == "OK", answer
    [chart] = answer["files"]
    assert FILE_URL.fullmatch(chart["url"]), chart
    assert f"![chart.png]({chart['url']})" in events.messages()
    _, data = await stored(owui, chart["url"])
    assert data == CHART


async def test_https_to_a_plain_http_server_is_a_tls_failure(loaded, servers) -> None:
    point(loaded, servers.a)
    loaded.instance.valves = loaded.module.Tools.Valves(
        NESTBOX_SERVER=servers.a.url.replace("http://", "https://"),
        NESTBOX_SERVER_TOKEN_FILE=str(servers.a.token_file),
    )
    text = await loaded.instance.run_python_code("print(1)", __user__=user())
    answer = parse_answer(text)
    assert answer["status"] == "SANDBOX_ERROR" and text.startswith("Error: "), text
    assert "TLS connection" in answer["message"] and "--tls-cert" in answer["message"], answer


@pytest.mark.parametrize(
    ("status", "retry_after", "words"),
    [
        (401, "", ["refused the token", "NESTBOX_SERVER_TOKEN_FILE", "NESTBOX_SERVER_TOKEN"]),
        (429, "1", ["busy", "try again in 1 s", "NESTBOX_SERVER_FALLBACK_TO_COLD"]),
        (413, "", ["too large", "MiB"]),
        (503, "", ["shutting down"]),
        (500, "", ["answered HTTP 500", "server's log"]),
        (502, "", ["answered HTTP 502"]),
    ],
)
def test_refusals_say_what_to_fix(tools, status: int, retry_after: str, words: list[str]) -> None:
    """What each HTTP answer that is not a result becomes (the busy and failing cases, which
    a healthy test server does not give on demand)."""
    problem = tools._http_refusal(status, retry_after)
    for word in words:
        assert word in str(problem), (word, str(problem))
    assert problem.retry == (status in (429, 503))


async def test_a_server_that_never_answers_times_out(loaded, monkeypatch, tmp_path: Path) -> None:
    """A listener that takes the connection and never answers: the run ends when its time
    limit plus the grace period (made 0 here) has passed, and says so."""
    import socket

    monkeypatch.setattr(loaded.module, "_CHILD_GRACE_SECONDS", 0)
    token = tmp_path / "token"
    token.write_text("x" * 32)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        loaded.instance.valves = loaded.module.Tools.Valves(
            NESTBOX_SERVER=url, NESTBOX_SERVER_TOKEN_FILE=str(token), MAX_RUNTIME_SECONDS=1
        )
        text = await loaded.instance.run_python_code("print(1)", __user__=user())
    answer = parse_answer(text)
    assert answer["status"] == "SANDBOX_ERROR" and text.startswith("Error: "), text
    assert "did not answer within 1 s" in answer["message"], answer


async def test_the_quotas_of_the_local_storage_apply(owui, loaded, servers) -> None:
    """MAX_FILES_PER_EXECUTION refuses a run's files (STORAGE_ERROR, listed without links);
    MAX_FILES_PER_USER evicts the same user's oldest run, and only files this Tool stored."""
    me = user("http-quota")
    other = await stored_file(owui, "http-quota", "mine.txt", b"uploaded by the user")
    point(loaded, servers.a, MAX_FILES_PER_USER=2, MAX_FILES_PER_EXECUTION=2)
    two = "open('a.txt', 'w').write('a')\nopen('b.txt', 'w').write('b')\n"
    first = parse_answer(await loaded.instance.run_python_code(two, __user__=me))
    assert first["status"] == "OK" and len(first["files"]) == 2, first
    one = "open('c.txt', 'w').write('c')\n"
    second = parse_answer(await loaded.instance.run_python_code(one, __user__=me))
    assert second["status"] == "OK", second
    assert "removed this user's 1 oldest execution(s)" in " ".join(second["notices"]), second
    for gone in first["files"]:
        assert await owui.Files.get_file_by_id(FILE_URL.fullmatch(gone["url"]).group(1)) is None
    _, data = await stored(owui, second["files"][0]["url"])
    assert data == b"c"
    assert await owui.Files.get_file_by_id(other) is not None  # not the Tool's: never counted
    point(loaded, servers.a, MAX_FILES_PER_EXECUTION=1)
    refused = parse_answer(await loaded.instance.run_python_code(two, __user__=me))
    assert refused["status"] == "STORAGE_ERROR", refused
    assert "MAX_FILES_PER_EXECUTION" in refused["message"], refused
    assert [f.get("url") for f in refused["files"]] == [None, None], refused


async def test_fallback_to_cold_when_the_server_is_down(tools, storage: Path) -> None:
    """With NESTBOX_SERVER_FALLBACK_TO_COLD an unreachable server sends the run to a fresh
    local sandbox (which needs the local program), and a notice says so."""
    token = storage / "token"
    token.write_text("x" * 32)
    instance = tools.Tools()
    instance.valves = tools.Tools.Valves(
        NESTBOX_SERVER=f"http://127.0.0.1:{free_port()}",
        NESTBOX_SERVER_TOKEN_FILE=str(token),
        NESTBOX_SERVER_FALLBACK_TO_COLD=True,
        WEB_ACCESSIBLE_DIRECTORY_PATH=str(storage),
    )
    code = "print('cold')\nopen('f.txt', 'w').write('x')\n"
    answer = parse_answer(await instance.run_python_code(code, __user__=user("http-cold")))
    assert (answer["status"], answer["stdout"]) == ("OK", "cold\n"), answer
    assert answer["files"][0]["url"].startswith("/cache/functions/run_code/user_files/"), answer
    assert any("cannot be reached" in n and "fresh sandbox" in n for n in answer["notices"])
