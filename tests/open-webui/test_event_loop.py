"""A run never blocks Open WebUI's event loop: other coroutines keep running meanwhile."""

import asyncio
import itertools
import json
import time

from conftest import Recorder, user


async def test_other_coroutines_run_while_code_sleeps(tool, events: Recorder) -> None:
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    answer = await tool.run_python_code(
        "import time\ntime.sleep(3)\nprint('slept')", __user__=user(), __event_emitter__=events
    )
    elapsed = time.monotonic() - started
    task.cancel()
    assert json.loads(answer)["stdout"] == "slept\n"
    assert elapsed >= 3
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.5, f"the event loop stalled for {max(gaps):.2f} s"
    assert len(ticks) >= 0.7 * elapsed / 0.05


async def test_two_runs_overlap(tool, action) -> None:
    code = "import time\ntime.sleep(2)\nprint('done')"
    body = {
        "id": "m",
        "messages": [{"id": "m", "role": "assistant", "content": f"```python\n{code}\n```"}],
    }
    started = time.monotonic()
    tool_answer, action_answer = await asyncio.gather(
        tool.run_python_code(code, __user__=user()), action.action(body, __user__=user())
    )
    assert json.loads(tool_answer)["stdout"] == "done\n"
    assert action_answer["stdout"] == "done\n"
    assert time.monotonic() - started < 3.8
