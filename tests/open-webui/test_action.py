"""The Action Function ("Run code" button) with the real nestbox binary."""

import pytest
from markdown_it import MarkdownIt

from conftest import Recorder, user
from test_tool import MIXED_FILES, SHOWN

PLUGINS = [
    {"name": "python", "aliases": ["python", "python3", "py"], "description": "Python"},
    {"name": "bash", "aliases": ["bash", "sh", "shell"], "description": "bash"},
]


def body(content: str) -> dict:
    return {
        "model": "fake-model",
        "id": "m2",
        "chat_id": "",
        "messages": [
            {"id": "m1", "role": "user", "content": "write code"},
            {"id": "m2", "role": "assistant", "content": content},
        ],
    }


@pytest.mark.parametrize(
    ("content", "language", "code"),
    [
        ("```python\nprint(1)\n```", "python", "print(1)"),
        ("```py\na\n```\ntext\n```bash\necho b\n```", "bash", "echo b"),  # the last tagged one
        ("```sh\necho a\n```\n```PYTHON3\nprint(2)\n```", "python", "print(2)"),
        ("```python\nprint(1)\n```\n```rust\nfn main() {}\n```", "python", "print(1)"),
        ("```python\nprint(1)\n```\n```\n#!/bin/bash\necho x\n```", "python", "print(1)"),
        (
            "```\n#!/usr/bin/env python3\nprint(3)\n```",
            "python",
            "#!/usr/bin/env python3\nprint(3)",
        ),
        ("```\n#!/bin/sh\necho 4\n```", "bash", "#!/bin/sh\necho 4"),
        (
            "```\n#!/usr/bin/python3.12 -u\nprint(5)\n```",
            "python",
            "#!/usr/bin/python3.12 -u\nprint(5)",
        ),
        ("~~~python\nprint('tilde')\n~~~", "python", "print('tilde')"),
        ("````python\n```bash\necho inner\n```\n````", "python", "```bash\necho inner\n```"),
        ("```python title=x.py\nprint(6)\n```", "python", "print(6)"),
    ],
)
def test_block_choice(functions, content: str, language: str, code: str) -> None:
    choice = functions._choose_block(content, PLUGINS)
    assert (choice.language, choice.code) == (language, code)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("no code here", "no complete fenced code block"),
        ("```python\nprint('cut short'", "no complete fenced code block"),
        ("```rust\nfn main() {}\n```\n```js\n1\n```", "(found: js, rust)"),
        ("```\nprint('untagged')\n```", "no language tag and no #! line"),
        ("```\n#!/usr/bin/env ruby\nputs 1\n```", "no language tag and no #! line"),
    ],
)
def test_block_refusal(functions, content: str, reason: str) -> None:
    with pytest.raises(functions._Refusal) as refusal:
        functions._choose_block(content, PLUGINS)
    assert reason in str(refusal.value)


async def test_runs_last_python_block_and_appends(action, events: Recorder) -> None:
    content = (
        "First:\n```python\nprint('first')\n```\nThen:\n```python\nprint('second', 2 * 21)\n```\n"
    )
    answer = await action.action(body(content), __user__=user(), __event_emitter__=events)
    assert answer["status"] == "OK"
    assert answer["stdout"] == "second 42\n"
    # No status events (they would cover the reply's own status line): notifications instead.
    assert events.statuses() == []
    notes = events.of("notification")
    assert notes[0] == {
        "type": "info",
        "content": "Running the Python code (block 2 of 2) in the sandbox…",
    }
    assert notes[-1]["type"] == "success"
    assert notes[-1]["content"].startswith("Python code ran successfully")
    appended = events.messages()
    assert appended.startswith("\n\n---\n\n**Python code ran successfully")
    assert "```text\nsecond 42\n```" in appended
    assert "first" not in appended
    [update] = answer["messages"]
    assert update == {"id": "m2", "content": content + appended}


async def test_bash_block_with_files(action, events: Recorder) -> None:
    content = "```bash\nprintf 'a,b\\n1,2\\n' > out.csv\necho done\n```"
    answer = await action.action(body(content), __user__=user("act"), __event_emitter__=events)
    assert answer["status"] == "OK", answer
    [entry] = answer["files"]
    assert entry["path"] == "out.csv" and entry["url"].endswith("/out.csv")
    appended = events.messages()
    assert f"- 📄 [out.csv]({entry['url']}):\n\n```text\na,b\n1,2\n```" in appended


async def test_refusal_runs_nothing(action, events: Recorder) -> None:
    answer = await action.action(
        body("```\nprint(1)\n```"), __user__=user(), __event_emitter__=events
    )
    assert answer["status"] == "INVALID_INPUT"
    [note] = events.of("notification")
    assert note["type"] == "warning" and "no language tag" in note["content"]
    assert events.statuses() == []
    assert events.of("message") == []


async def test_action_syntax_error_and_timeout(action, events: Recorder, monkeypatch) -> None:
    answer = await action.action(body("```python\nprint('x'\n```"), __event_emitter__=events)
    assert answer["status"] == "ERROR"
    assert "**Python syntax error on line 1:" in events.messages()
    assert events.of("notification")[-1]["type"] == "error"
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "1")
    events.events.clear()
    content = "```python\nimport time\nprint('t0', flush=True)\ntime.sleep(9)\n```"
    answer = await action.action(body(content), __event_emitter__=events)
    assert answer["status"] == "TIMEOUT"
    assert answer["stdout"] == "t0\n"
    assert "```text\nt0\n```" in events.messages()


def rendered(markdown: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The (src, alt) of every image and the href of every link, as a CommonMark renderer
    reads the Markdown."""
    images, links = [], []
    for block in MarkdownIt("commonmark").parse(markdown):
        for token in block.children or []:
            if token.type == "image":
                alt = "".join(child.content for child in token.children or [])
                images.append((token.attrGet("src"), alt))
            elif token.type == "link_open":
                links.append(token.attrGet("href"))
    return images, links


async def test_images_inline_with_inert_names(action, events: Recorder) -> None:
    content = f"```python\n{MIXED_FILES}```"
    answer = await action.action(body(content), __user__=user("pics"), __event_emitter__=events)
    assert answer["status"] == "OK", answer
    urls = {f["path"]: f["url"] for f in answer["files"]}
    images, links = rendered(events.messages())
    # Real PNG, JPEG, GIF and WebP files only, each alt text the whole name (a newline shown
    # as U+FFFD), no link but the kept files' own.
    assert images == [(urls[name], name.replace("\n", "\ufffd")) for name in SHOWN]
    assert sorted(links) == sorted(urls.values())
    # Open WebUI's marked takes alt text as written (only \\[ and \\] undone): no needless escapes.
    assert f"![my_chart (1).png]({urls['my_chart (1).png']})" in events.messages()
    assert all(url.startswith("/cache/functions/run_code/") for url in urls.values())


@pytest.mark.parametrize("module", ["tools", "functions"])
def test_names_of_files_not_kept_are_code(request, module: str) -> None:
    """Without a link (files not kept), a name is a code span: no autolink, HTML or Markdown."""
    mod = request.getfixturevalue(module)
    names = ["<http://x.example>.txt", "<b>x</b>.txt", "`tick`.txt", "a``b", " spaced ", "*x*"]
    lines = [mod._file_markdown({"path": name, "size": 1}, None) for name in names]
    for name, line in zip(names, lines, strict=True):
        [paragraph] = [b for b in MarkdownIt("commonmark").parse(line) if b.type == "inline"]
        kinds = [t.type for t in paragraph.children]
        assert "code_inline" in kinds and "link_open" not in kinds and "html_inline" not in kinds
        [code] = [t.content for t in paragraph.children if t.type == "code_inline"]
        assert code == name, (line, code)
