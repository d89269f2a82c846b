"""The Tool with the real nestbox binary and a recording event emitter."""

import json
import os
from pathlib import Path

import pytest

from conftest import Recorder, parse_answer, user
from images import PNG_CODE

# Real images, a PNG name on text, an SVG, an empty GIF and a name made to break Markdown.
MIXED_FILES = PNG_CODE + (
    "png('chart.png', 4, 3, (200, 30, 30))\n"
    "png('a](javascript:x).png', 2, 2, (0, 0, 255))\n"
    "png('two\\nlines.png', 2, 2, (0, 0, 0))\n"
    "png('my_chart (1).png', 2, 2, (9, 9, 9))\n"
    "open('photo.jpg', 'wb').write(b'\\xff\\xd8\\xff\\xe0' + bytes(60))\n"
    "open('anim.gif', 'wb').write(b'GIF89a' + bytes(20))\n"
    "open('pic.webp', 'wb').write(b'RIFF' + bytes(4) + b'WEBPVP8 ' + bytes(20))\n"
    "open('fake.png', 'w').write('<html>not a picture</html>')\n"
    "open('drawing.svg', 'w').write('<svg xmlns=\"http://www.w3.org/2000/svg\"/>')\n"
    "open('empty.gif', 'wb').close()\n"
    "open('notes.txt', 'w').write('n\\n')\n"
)
SHOWN = [
    "a](javascript:x).png",
    "anim.gif",
    "chart.png",
    "my_chart (1).png",
    "photo.jpg",
    "pic.webp",
    "two\nlines.png",
]


async def run_py(tool, events: Recorder, code: str, **kw) -> dict:
    answer = await tool.run_python_code(
        code, __user__=kw.pop("u", user()), __event_emitter__=events, **kw
    )
    return parse_answer(answer)


async def test_ok_print_reaches_model_and_user(tool, events: Recorder) -> None:
    result = await run_py(tool, events, "print('hello', 6 * 7)")
    assert result["status"] == "OK"
    assert result["stdout"] == "hello 42\n"
    assert result["stderr"] == ""
    assert result["exit_code"] == 0
    assert result["message"].startswith("Python code ran successfully in")
    assert events.statuses()[0] == "Running Python code in the sandbox…"
    assert events.final_status() == result["message"]
    [page] = events.of("embeds")[0]["embeds"]
    assert "<details>" in page and "hello 42" in page and "print(&#x27;hello&#x27;, 6 * 7)" in page
    [source] = events.of("source")
    assert "hello 42" in source["document"][0]


async def test_both_streams_kept_on_error(tool, events: Recorder) -> None:
    code = "import sys\nprint('partial')\nprint('bad', file=sys.stderr)\nraise SystemExit(3)"
    result = await run_py(tool, events, code)
    assert result["status"] == "ERROR"
    assert result["exit_code"] == 3
    assert result["stdout"] == "partial\n"
    assert result["stderr"] == "bad\n"
    assert events.final_status() == "Python code failed with exit status 3: bad"


async def test_python_syntax_error_status(tool, events: Recorder) -> None:
    result = await run_py(tool, events, "print('foo")
    assert result["status"] == "ERROR"
    assert events.final_status() == (
        "Python syntax error on line 1: unterminated string literal (detected at line 1)"
    )
    assert "SyntaxError" in result["stderr"]


async def test_runtime_exception_is_not_called_syntax_error(tool, events: Recorder) -> None:
    await run_py(tool, events, "x = 1\nprint(undefined_name)")
    assert events.final_status() == (
        "Python code failed with exit status 1: NameError: name 'undefined_name' is not defined"
    )


async def test_timeout_keeps_output(
    tool, events: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "2")
    code = "import time\nprint('before', flush=True)\ntime.sleep(20)"
    result = await run_py(tool, events, code)
    assert result["status"] == "TIMEOUT"
    assert result["stdout"] == "before\n"
    assert events.final_status() == (
        "Timed out: the code ran longer than its limit of 2 s and was stopped (output so far is kept)"
    )


async def test_memory_limit(tool, events: Recorder) -> None:
    code = "x = []\nfor i in range(400):\n    x.append(bytearray(1024 * 1024))"
    result = await run_py(tool, events, code)
    assert result["status"] == "MEMORY_LIMIT"
    assert events.final_status() == (
        "Out of memory: the code tried to use more than its memory limit of 256 MiB"
    )
    assert "MemoryError" in result["stderr"]


async def test_bash_with_python3_inside(tool, events: Recorder) -> None:
    code = 'echo "from bash"; python3 -c "print(2 ** 10)"; echo "$((6 * 7))"'
    answer = await tool.run_bash_command(code, __user__=user(), __event_emitter__=events)
    result = parse_answer(answer)
    assert result["status"] == "OK", result
    assert result["language"] == "bash"
    assert result["stdout"] == "from bash\n1024\n42\n"
    assert events.final_status().startswith("Bash code ran successfully")


async def test_bash_syntax_error_status(tool, events: Recorder) -> None:
    answer = await tool.run_bash_command("echo 'foo", __event_emitter__=events)
    assert parse_answer(answer)["status"] == "ERROR"
    assert events.final_status().startswith("Bash syntax error on line 1: unexpected EOF")


async def test_run_code_maps_aliases(tool, events: Recorder) -> None:
    result = parse_answer(await tool.run_code("py", "print('alias')", __event_emitter__=events))
    assert (result["status"], result["stdout"], result["language"]) == ("OK", "alias\n", "python")
    result = parse_answer(await tool.run_code("sh", "echo shell", __event_emitter__=events))
    assert (result["status"], result["stdout"], result["language"]) == ("OK", "shell\n", "bash")


async def test_unknown_language_is_invalid_input(tool, events: Recorder) -> None:
    result = parse_answer(await tool.run_code("cobol", "DISPLAY 'X'.", __event_emitter__=events))
    assert result["status"] == "INVALID_INPUT"
    assert 'unknown language "cobol"' in result["message"]
    assert result["message"].startswith("Could not run the code:")


@pytest.mark.parametrize(
    "wrapped",
    [
        "```python\nprint('fenced')\n```",
        "```\nprint('fenced')\n```",
        "\n```py\nprint('fenced')\n```\n",
        "````python\nprint('fenced')\n````",
        "`print('fenced')`",
    ],
)
async def test_fences_are_stripped(tool, events: Recorder, wrapped: str) -> None:
    result = await run_py(tool, events, wrapped)
    assert (result["status"], result["stdout"]) == ("OK", "fenced\n")


async def test_files_returned_with_urls_and_shown(tool, events: Recorder, storage: Path) -> None:
    code = (
        "open('small.txt', 'w').write('one\\ntwo\\n')\n"
        "open('big.txt', 'w').write('x\\n' * 200)\n"
        "open('fence.md', 'w').write('```\\nno\\n```\\n')\n"
        "import base64\n"
        "open('dot.png', 'wb').write(base64.b64decode("
        "'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='))\n"
    )
    result = await run_py(tool, events, code, u=user("files-user"))
    assert result["status"] == "OK", result
    files = {f["path"]: f for f in result["files"]}
    assert set(files) == {"small.txt", "big.txt", "fence.md", "dot.png"}
    for entry in files.values():
        assert entry["url"].startswith("/cache/functions/run_code/user_files/")
        stored = storage / entry["url"].removeprefix("/cache/functions/run_code/")
        assert stored.stat().st_size == entry["size"]
    page = events.of("embeds")[0]["embeds"][0]
    assert "<pre>one\ntwo\n</pre>" in page  # small text inline
    assert "x\nx\nx" not in page  # 200 lines: a link only
    assert "no\n```" not in page  # contains ``` : a link only
    assert page.count('target="_blank"') == 4
    assert events.of("files") == [
        {"files": [{"type": "image", "url": files["dot.png"]["url"], "name": "dot.png"}]}
    ]


async def test_no_user_means_files_listed_but_not_kept(tools, events: Recorder, storage) -> None:
    tool = tools.Tools()
    tool.valves = tools.Tools.Valves(WEB_ACCESSIBLE_DIRECTORY_PATH=str(storage))
    answer = await tool.run_python_code("open('a.txt','w').write('a')", __event_emitter__=events)
    result = parse_answer(answer)
    assert result["files"] == [{"path": "a.txt", "size": 1}]
    assert not any(storage.iterdir())


async def test_output_to_model_is_clipped_but_flagged(tool, events: Recorder) -> None:
    result = await run_py(tool, events, "print('y' * 100000)")
    assert result["status"] == "OK"
    assert result["stdout_truncated"] is True
    assert len(result["stdout"]) < 40000
    assert "characters not shown" in result["stdout"]


async def test_user_valves_only_tighten(tools, tool, events: Recorder) -> None:
    me = {**user(), "valves": tools.Tools.UserValves(MAX_RUNTIME_SECONDS=1)}
    result = await run_py(tool, events, "import time\ntime.sleep(5)", u=me)
    assert result["status"] == "TIMEOUT"
    assert "limit of 1 s" in result["message"]
    me = {**user(), "valves": tools.Tools.UserValves(MAX_RAM_MEGABYTES=100000)}
    result = await run_py(tool, events, "print('clamped')", u=me)
    assert result["status"] == "OK"
    assert any("clamp" in n or "256" in n for n in result["notices"]), result["notices"]


async def test_child_gets_no_secrets_from_open_webui_env(
    tools, tool, events: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBUI_SECRET_KEY", "s3cret-value")
    seen: dict = {}
    real_spawn = tools._spawn

    async def spy(argv, env, code, deadline):
        seen.update(env)
        return await real_spawn(argv, env, code, deadline)

    monkeypatch.setattr(tools, "_spawn", spy)
    assert (await run_py(tool, events, "print(1)"))["status"] == "OK"
    assert "WEBUI_SECRET_KEY" not in seen
    assert seen["CODE_EVAL_VALVE_OVERRIDE_NETWORKING_ALLOWED"] == "false"
    assert seen["CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS"] == "30"
    assert "PATH" in seen and os.environ["PATH"] == seen["PATH"]


@pytest.mark.parametrize("module", ["tools", "functions"])
async def test_a_huge_files_list_is_clipped_for_model_and_chat(request, module: str) -> None:
    """What an uncapped (older, or hostile) nestbox could send: 10,000 files with 3.9 KB names,
    huge links and notices. The model and the chat get a bounded list and a count of the rest."""
    mod = request.getfixturevalue(module)
    files = [
        {"path": f"{i:05d}" + "n" * 3900, "size": 1, "sha256": "0" * 64, "url": "/c/" + "u" * 5000}
        for i in range(10_000)
    ]
    raw = {"status": "OK", "exit_code": 0, "files": files, "files_omitted": 7}
    result = mod._normalized({**raw, "notices": ["n" * 100_000] * 500})
    outcome = mod._Outcome(result=result, settings=None, language="python", code="x")
    for_model = mod._for_model(outcome, "ran")
    assert len(json.dumps(for_model)) < 64 * 1024
    assert len(for_model["files"]) == 50
    assert for_model["files_not_shown"] == 10_000 - 50 + 7
    assert all(len(f["path"]) <= 160 for f in for_model["files"])
    assert for_model["files"][0]["path"].startswith("00000n")
    assert all("url" not in f for f in for_model["files"]), "a 5 KB link is not passed on"
    assert len(mod._model_text(for_model)) < 64 * 1024
    markdown = await mod._files_markdown(outcome)
    assert len(markdown) < 64 * 1024
    assert markdown.endswith("- … 9957 more files not shown")
    entries = [mod._file_html(f, None) for f in mod._output_files(outcome)]
    page = mod._embed_html(outcome, entries)
    assert len(page) < 64 * 1024 and "<li>… 9957 more files not shown</li>" in page


async def test_many_files_from_a_real_run_are_clipped(tool, events: Recorder) -> None:
    code = "for i in range(1200):\n    open(f'f{i:04d}.txt', 'w').close()"
    result = await run_py(tool, events, code, u=None)
    assert result["status"] == "OK", result
    assert [f["path"] for f in result["files"]] == [f"f{i:04d}.txt" for i in range(50)]
    assert result["files_not_shown"] == 1150
    [page] = events.of("embeds")[0]["embeds"]
    assert "1150 more files not shown" in page


async def test_images_are_shown_and_named_to_the_model(tool, events: Recorder) -> None:
    result = await run_py(tool, events, MIXED_FILES, u=user("images-user"))
    assert result["status"] == "OK", result
    urls = {f["path"]: f["url"] for f in result["files"]}
    assert len(urls) == 11
    # Only real PNG, JPEG, GIF and WebP files, each under its name and kept URL.
    shown = [{"path": name, "url": urls[name]} for name in SHOWN]
    assert result["images_shown_to_user"] == shown
    assert "do not repeat them" in result["note"]
    pictures = [
        {"type": "image", "url": urls[name], "name": name.replace("\n", "\ufffd")} for name in SHOWN
    ]
    assert events.of("files") == [{"files": pictures}]
    # Every file, images too, is still listed for the model and linked in the block.
    assert set(urls) >= {"fake.png", "drawing.svg", "empty.gif", "notes.txt"}
    page = events.of("embeds")[0]["embeds"][0]
    assert page.count('target="_blank"') == 11 and "<img" not in page
    assert ">two\ufffdlines.png</a>" in page and ">a](javascript:x).png</a>" in page


async def test_no_images_no_picture_event(tool, events: Recorder) -> None:
    result = await run_py(tool, events, "open('drawing.svg', 'w').write('<svg/>')")
    assert result["status"] == "OK", result
    assert "images_shown_to_user" not in result and "note" not in result
    assert events.of("files") == []


async def test_many_images_are_clipped_like_other_files(
    tool, events: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_FILES_PER_EXECUTION", "100")
    code = (
        PNG_CODE
        + "for i in range(60):\n    png(f'{i:02d}' + 'n' * 170 + '.png', 1, 1, (i, 0, 0))\n"
    )
    result = await run_py(tool, events, code, u=user("many-images"))
    assert result["status"] == "OK", result
    assert (len(result["files"]), result["files_not_shown"]) == (50, 10)
    shown = result["images_shown_to_user"]
    assert [i["path"] for i in shown] == [f["path"] for f in result["files"]]
    assert all(len(i["path"]) <= 160 and i["path"].endswith("n.png") for i in shown)
    [pictures] = events.of("files")
    assert [p["name"] for p in pictures["files"]] == [i["path"] for i in shown]


# The statuses nestbox run --json reports (test_generate checks the files' list against the binary).
STATUSES = (
    "OK",
    "ERROR",
    "TIMEOUT",
    "MEMORY_LIMIT",
    "OUTPUT_LIMIT",
    "INVALID_INPUT",
    "SANDBOX_ERROR",
    "STORAGE_ERROR",
)


@pytest.mark.parametrize("status", STATUSES)
def test_every_failure_reads_as_failed(tools, status: str) -> None:
    """Open WebUI 0.12.4 draws a red cross for a tool result that starts with "Error:" (and a
    green check otherwise): every status but OK starts so; the model reads the same text."""
    result = tools._normalized({"status": status, "exit_code": 1, "message": "why"})
    outcome = tools._Outcome(result=result, settings=None, language="python", code="x")
    text = tools._model_text(tools._for_model(outcome, tools._headline(result, "python")))
    assert text.startswith("Error: ") == (status != "OK"), text
    assert parse_answer(text)["status"] == status
    assert status in tools._STATUSES
