"""Valves and their environment overrides, and the error paths of the binary itself
(missing, crashing, printing garbage: only there is a fake binary used)."""

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Recorder, parse_answer, user


def fake_binary(tmp_path: Path, script: str) -> str:
    path = tmp_path / "fake-nestbox"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def run(tool, events: Recorder, code: str = "print(1)") -> dict:
    return parse_answer(await tool.run_python_code(code, __user__=user(), __event_emitter__=events))


async def test_env_override_beats_valve(tool, events: Recorder, monkeypatch) -> None:
    tool.valves.MAX_RUNTIME_SECONDS = 30
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "1")
    result = await run(tool, events, "import time\ntime.sleep(5)")
    assert result["status"] == "TIMEOUT"
    assert "limit of 1 s" in result["message"]


async def test_valve_used_without_override_and_reread_each_call(tool, events, monkeypatch) -> None:
    tool.valves.MAX_RAM_MEGABYTES = 64
    code = "x = bytearray(100 * 1024 * 1024)\nprint('allocated')"
    assert (await run(tool, events, code))["status"] == "MEMORY_LIMIT"
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_RAM_MEGABYTES", "256")
    assert (await run(tool, events, code))["status"] == "OK"


async def test_malformed_override_is_a_clear_error(tool, events: Recorder, monkeypatch) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "soon")
    result = await run(tool, events)
    assert result["status"] == "INVALID_INPUT"
    assert "CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS" in result["message"]
    assert "soon" in result["message"]
    assert events.final_status() == result["message"]


async def test_malformed_debug_override_caught_before_running(tool, events, monkeypatch) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_DEBUG", "maybe")
    result = await run(tool, events)
    assert result["status"] == "INVALID_INPUT"
    assert 'CODE_EVAL_VALVE_OVERRIDE_DEBUG="maybe" is not valid' in result["message"]


async def test_networking_refused_with_the_fix(tool, events: Recorder) -> None:
    tool.valves.NETWORKING_ALLOWED = True
    result = await run(tool, events)
    assert result["status"] == "SANDBOX_ERROR"
    assert "set it to false" in result["message"]
    assert "nestbox doctor" in events.final_status()


def test_safe_defaults(tools) -> None:
    valves = tools.Tools.Valves()
    assert valves.NETWORKING_ALLOWED is False
    assert valves.REQUIRE_RESOURCE_LIMITING is True
    assert valves.AUTO_INSTALL is False and valves.CHECK_FOR_UPDATES is False
    assert valves.DEBUG is False
    assert (valves.MAX_RUNTIME_SECONDS, valves.MAX_RAM_MEGABYTES) == (30, 256)
    assert (valves.MAX_FILES_PER_EXECUTION, valves.MAX_FILES_PER_USER) == (32, 4096)
    assert valves.MAX_MEGABYTES_PER_USER == 256
    assert valves.WEB_ACCESSIBLE_DIRECTORY_URL == "/cache/functions/run_code"
    assert valves.NESTBOX_SERVER == ""


def test_binary_default_is_path_then_usr_local(tools, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert tools._binary_of(tools.Tools.Valves()) == "/usr/local/bin/nestbox"
    os.replace(fake_binary(tmp_path, "exit 0"), tmp_path / "nestbox")
    assert tools._binary_of(tools.Tools.Valves()) == str(tmp_path / "nestbox")


async def test_binary_missing(tool, events: Recorder, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(
        "CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY", str(tmp_path / "nope" / "nestbox")
    )
    result = await run(tool, events)
    assert result["status"] == "SANDBOX_ERROR"
    status = events.final_status()
    assert "the nestbox program was not found" in status
    assert result["notices"] == []
    assert "NESTBOX_BINARY" in status and "`nestbox doctor`" in status
    assert str(tmp_path) not in status and str(tmp_path) not in json.dumps(result)


async def test_binary_crashes(tool, events: Recorder, monkeypatch, tmp_path: Path) -> None:
    binary = fake_binary(
        tmp_path, 'echo "thread main panicked at /build/secret/path.rs" >&2\nkill -SEGV $$\n'
    )
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY", binary)
    result = await run(tool, events)
    assert result["status"] == "SANDBOX_ERROR"
    assert "without its JSON result" in result["message"]
    assert "nestbox doctor" in events.final_status()
    assert "/build/secret" not in json.dumps(events.events)


async def test_binary_prints_garbage(tool, events: Recorder, monkeypatch, tmp_path: Path) -> None:
    binary = fake_binary(tmp_path, 'echo "<html>not json</html>"\nexit 0\n')
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY", binary)
    result = await run(tool, events)
    assert result["status"] == "SANDBOX_ERROR"
    assert "exited with status 0 without its JSON result" in result["message"]


async def test_binary_hangs_is_killed(tools, tool, events, monkeypatch, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    binary = fake_binary(tmp_path, f"echo $$ >> {pidfile}\nsleep 600 &\nwait\n")
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY", binary)
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "1")
    monkeypatch.setattr(tools, "_CHILD_GRACE_SECONDS", 1)
    result = await run(tool, events)
    assert result["status"] == "SANDBOX_ERROR"
    assert "did not answer within 2 s" in result["message"]
    pids = [int(line) for line in pidfile.read_text().split()]
    assert len(pids) == 2  # `run --help` (it hangs too, and is stopped) and the run itself
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_sandbox_error_messages_hide_host_paths(tool, events, monkeypatch) -> None:
    monkeypatch.setenv("NESTBOX_RUNSC_PATH", "/opt/secret-place/runsc")
    result = await run(tool, events)
    assert result["status"] == "SANDBOX_ERROR"
    status = events.final_status()
    assert "runsc (gVisor) was not found" in status
    assert "/opt/secret-place" not in status and "/opt/secret-place" not in json.dumps(result)
    assert "[host path]" in status and "nestbox doctor" in status


async def test_debug_adds_detail_but_no_host_details(tool, events: Recorder, monkeypatch) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_DEBUG", "true")
    result = await run(tool, events)
    assert result["status"] == "OK"
    status = events.final_status()
    assert "[python 3.15.0;" in status and "gvisor/" in status
    everything = json.dumps(events.events) + json.dumps(result)
    assert os.environ["PATH"] not in everything
    assert os.environ["CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY"] not in everything


async def test_server_valve_needs_a_nestbox_with_server(tools, tool, events) -> None:
    tool.valves.NESTBOX_SERVER = "/run/nestbox-test-missing.sock"
    result = await run(tool, events)
    if "--server" in await tools._features(tools._settings(tool.valves)):
        assert result["status"] == "SANDBOX_ERROR"  # no server listens there
    else:
        assert result["status"] == "INVALID_INPUT"
        assert "this nestbox has no --server" in result["message"]


@pytest.fixture
def nobody_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="nestbox-nobody-"))  # pytest's tmp_path is root-only
    home.chmod(0o777)
    yield home
    shutil.rmtree(home, ignore_errors=True)


async def test_limits_not_enforceable_names_the_fix(
    tool, events, monkeypatch, tmp_path, nestbox, nobody_home: Path
) -> None:
    """The real binary run as an unprivileged user (a wrapper only drops root)."""
    home = nobody_home
    wrapper = fake_binary(
        tmp_path,
        f'exec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME={home} {nestbox} "$@"\n',
    )
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY", wrapper)
    result = await run(tool, events)
    assert result["status"] == "SANDBOX_ERROR"
    status = events.final_status()
    assert status.startswith("The code sandbox is not working: resource limits cannot be enforced")
    assert "run nestbox as root" in status and "nestbox doctor" in status


async def test_output_cannot_inject_html_into_the_block(tool, events: Recorder) -> None:
    await run(tool, events, "print('</pre><script>alert(1)</script><img src=x onerror=alert(2)>')")
    [page] = events.of("embeds")[0]["embeds"]
    # The block's one script is its own (it reports its height); the output is inert text.
    assert page.count("<script>") == 1 and "<script>alert" not in page and "<img" not in page
    assert "&lt;/pre&gt;&lt;script&gt;" in page
