"""A run never blocks Open WebUI's event loop: other coroutines keep running meanwhile.

Checked by the order of events, not by durations: a blocking call around nestbox would let
nothing else run between nestbox's start and its answer, however fast the machine."""

import asyncio

from conftest import parse_answer, user


def logged_spawn(module, log: list[str], name: str, started: asyncio.Event | None = None):
    """The module's _spawn (which runs nestbox), logging when nestbox starts and answers."""
    real_spawn = module._spawn

    async def spawn(*args):
        log.append(f"{name} started")
        if started:
            started.set()
        result = await real_spawn(*args)
        log.append(f"{name} answered")
        return result

    return spawn


async def test_other_coroutines_run_while_nestbox_runs(tools, tool, monkeypatch) -> None:
    log: list[str] = []
    started = asyncio.Event()
    monkeypatch.setattr(tools, "_spawn", logged_spawn(tools, log, "nestbox", started))

    async def other() -> None:
        await started.wait()
        log.append("other coroutine ran")

    task = asyncio.create_task(other())
    answer = await tool.run_python_code(
        "import time\ntime.sleep(1)\nprint('slept')", __user__=user()
    )
    await task
    assert parse_answer(answer)["stdout"] == "slept\n"
    assert log == ["nestbox started", "other coroutine ran", "nestbox answered"]


async def test_two_runs_overlap(tools, tool, functions, action, monkeypatch) -> None:
    log: list[str] = []
    monkeypatch.setattr(tools, "_spawn", logged_spawn(tools, log, "tool"))
    monkeypatch.setattr(functions, "_spawn", logged_spawn(functions, log, "action"))
    # Long enough that the second run starts before the first ends even on a busy machine.
    code = "import time\ntime.sleep(4)\nprint('done')"
    body = {
        "id": "m",
        "messages": [{"id": "m", "role": "assistant", "content": f"```python\n{code}\n```"}],
    }
    tool_answer, action_answer = await asyncio.gather(
        tool.run_python_code(code, __user__=user()), action.action(body, __user__=user())
    )
    assert parse_answer(tool_answer)["stdout"] == "done\n"
    assert action_answer["stdout"] == "done\n"
    assert sorted(log[:2]) == ["action started", "tool started"], log
