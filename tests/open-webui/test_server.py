"""End to end against a real `open-webui serve` 0.12.4 and a fake OpenAI-compatible model:
the Tool and the Function are installed through the HTTP API, a chat makes the model call
`run_python_code`, the "Run code" action is pressed, and the stored chat is checked."""

import json
import time
import types
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ACTION_ID, TOOL_ID, parse_answer
from fake_model import CHART_CODE
from images import png_bytes
from owui_server import OpenWebUI

pytestmark = pytest.mark.server


def upload(owui: OpenWebUI, name: str, data: bytes) -> str:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        owui.base + "/api/v1/files/?process=false", data=body, method="POST"
    )
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("Authorization", f"Bearer {owui.token}")
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())["id"]


def start_chat(server: OpenWebUI, prompt: str, files: list[dict]) -> types.SimpleNamespace:
    """A chat whose user message is `prompt` (the fake model runs the code fake_model.PROMPTS
    gives for it) with `files` attached; returns once the reply is done."""
    uid, aid, now = str(uuid.uuid4()), str(uuid.uuid4()), int(time.time())
    user_message = {
        "id": uid,
        "parentId": None,
        "childrenIds": [aid],
        "role": "user",
        "content": prompt,
        "files": files,
        "timestamp": now,
        "models": ["fake-model"],
    }
    reply = {
        "id": aid,
        "parentId": uid,
        "childrenIds": [],
        "role": "assistant",
        "content": "",
        "model": "fake-model",
        "timestamp": now,
    }
    history = {"currentId": aid, "messages": {uid: user_message, aid: reply}}
    created = server.api(
        "POST",
        "/api/v1/chats/new",
        {
            "chat": {
                "title": "t",
                "models": ["fake-model"],
                "messages": [user_message, reply],
                "history": history,
            }
        },
    )
    request = {
        "model": "fake-model",
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "tool_ids": [TOOL_ID],
        "files": files,
        "chat_id": created["id"],
        "id": aid,
        "parent_id": uid,
        "user_message": user_message,
        "session_id": "test-session",
    }
    started = server.api("POST", "/api/chat/completions", request)
    assert started.get("status") is True, started
    message = wait_done(server, created["id"], aid)
    return types.SimpleNamespace(id=created["id"], uid=uid, aid=aid, message=message, files=files)


@pytest.fixture(scope="session")
def chat(server: OpenWebUI) -> types.SimpleNamespace:
    """One chat in which the model called the tool (with an attached file) and answered."""
    fid = upload(server, "notes.txt", b"remember the milk\n")
    return start_chat(server, "run something", [{"type": "file", "id": fid, "name": "notes.txt"}])


def wait_done(server: OpenWebUI, chat_id: str, message_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = stored(server, chat_id, message_id)
        if message.get("done"):
            return message
        time.sleep(0.5)
    raise AssertionError(f"the reply was not done in {timeout} s: {message}")


def stored(server: OpenWebUI, chat_id: str, message_id: str) -> dict:
    return server.api("GET", f"/api/v1/chats/{chat_id}")["chat"]["history"]["messages"][message_id]


def tool_result(message: dict) -> dict:
    [call] = [o for o in message["output"] if o["type"] == "function_call_output"]
    return parse_answer(call["output"][0]["text"])


def test_model_got_the_run(server: OpenWebUI, chat) -> None:
    result = tool_result(chat.message)
    assert result["status"] == "OK", result
    assert result["stdout"] == "hello from the tool 42\nremember the milk\n"
    assert result["stderr"] == ""
    [report] = result["files"]
    assert report["path"] == "report.txt" and report["size"] == 18
    assert report["url"].startswith("/cache/functions/run_code/user_files/")
    # The fake model saw the same text as its tool result: the output as it is, no storage
    # internals.
    [seen] = [r for r in server.fake.tool_results() if "hello from the tool 42\n" in r]
    assert seen.startswith("Python code ran successfully in")
    assert "storage_path" not in seen and "sha256" not in seen and server.data_dir.name not in seen


def test_stored_statuses_display_and_files(server: OpenWebUI, chat) -> None:
    message = chat.message
    statuses = [s["description"] for s in message["statusHistory"] if "description" in s]
    assert statuses[0] == "Running Python code in the sandbox…"
    assert statuses[-1].startswith("Python code ran successfully in")
    [page] = message["embeds"]
    # The block does not repeat the status line; the code is folded away.
    assert "<details><summary>Python code (3 lines)</summary>" in page
    assert "ran successfully" not in page
    assert "hello from the tool 42" in page and "remember the milk" in page
    url = tool_result(message)["files"][0]["url"]
    assert f'href="{url}"' in page and "<pre>line one\nline two\n</pre>" in page
    [source] = message["sources"]
    assert "hello from the tool" in source["document"][0]
    assert message["content"].startswith("The tool ran.")


def test_file_urls_are_served_to_logged_in_users(server: OpenWebUI, chat) -> None:
    url = tool_result(chat.message)["files"][0]["url"]
    assert server.get_raw(url) == (200, b"line one\nline two\n")
    token, server.token = server.token, ""
    try:
        assert server.get_raw(url)[0] == 401
    finally:
        server.token = token
    kept = Path(server.data_dir) / "cache" / url.removeprefix("/cache/")
    assert kept.read_bytes() == b"line one\nline two\n"


def test_action_runs_the_block_and_appends(server: OpenWebUI, chat) -> None:
    message = stored(server, chat.id, chat.aid)
    body = {
        "model": "fake-model",
        "messages": [
            {"id": chat.uid, "role": "user", "content": "run something"},
            {"id": chat.aid, "role": "assistant", "content": message["content"]},
        ],
        "chat_id": chat.id,
        "id": chat.aid,
        "session_id": "test-session",
    }
    answer = server.api("POST", f"/api/chat/actions/{ACTION_ID}", body)
    assert answer["status"] == "OK", answer
    assert answer["stdout"] == "from the action 45\n"
    [kept] = answer["files"]
    after = stored(server, chat.id, chat.aid)
    assert after["content"].startswith(message["content"])
    appended = after["content"][len(message["content"]) :]
    assert appended.startswith("\n\n---\n\n**Python code ran successfully in")
    assert "```text\nfrom the action 45\n```" in appended
    assert f"- 📄 [action.txt]({kept['url']}):\n\n```text\nA\n```" in appended
    assert answer["messages"] == [{"id": chat.aid, "content": after["content"]}]
    # The reply's own status line is left as it was: the action said its piece in the text.
    assert after["statusHistory"] == message["statusHistory"]
    assert server.get_raw(kept["url"]) == (200, b"A\n")


def test_action_sees_the_chats_attachment(server: OpenWebUI, chat) -> None:
    content = "```python\nprint(open('notes.txt').read().upper())\n```"
    body = {
        "model": "fake-model",
        "messages": [
            {"id": chat.uid, "role": "user", "content": "run something"},
            {"id": chat.aid, "role": "assistant", "content": content},
        ],
        "chat_id": chat.id,
        "id": chat.aid,
        "session_id": "test-session",
    }
    answer = server.api("POST", f"/api/chat/actions/{ACTION_ID}", body)
    assert (answer["status"], answer["stdout"]) == ("OK", "REMEMBER THE MILK\n\n")


def press_action(server: OpenWebUI, chat, content: str) -> tuple[dict, dict]:
    """Press "Run code" under the chat's reply, as if its text were `content`; returns the
    action's answer and the reply as stored afterwards."""
    body = {
        "model": "fake-model",
        "messages": [
            {"id": chat.uid, "role": "user", "content": "run something"},
            {"id": chat.aid, "role": "assistant", "content": content},
        ],
        "chat_id": chat.id,
        "id": chat.aid,
        "session_id": "test-session",
    }
    answer = server.api("POST", f"/api/chat/actions/{ACTION_ID}", body)
    return answer, stored(server, chat.id, chat.aid)


CHART = png_bytes(40, 30, (30, 120, 200))


@pytest.fixture(scope="session")
def chart_chat(server: OpenWebUI) -> types.SimpleNamespace:
    """A chat in which the model's code drew a PNG (with the standard library)."""
    return start_chat(server, "draw a chart", [])


def test_tool_image_is_shown_inline_and_served(server: OpenWebUI, chart_chat) -> None:
    message = chart_chat.message
    result = tool_result(message)
    assert (result["status"], result["stdout"]) == ("OK", "drawn\n"), result
    [chart] = result["files"]
    # The model is told what the user already sees, with the link.
    assert result["images_shown_to_user"] == [{"path": "chart.png", "url": chart["url"]}]
    assert "do not repeat them" in result["note"]
    assert any("chart.png (" in r and "shown to the user" in r for r in server.fake.tool_results())
    # The picture, saved with the reply (the browser shows a message's image files above its
    # text), and the PNG behind it.
    assert message["files"] == [{"type": "image", "url": chart["url"], "name": "chart.png"}]
    assert server.get_file(chart["url"]) == (200, "image/png", CHART)


def test_action_image_is_shown_inline_and_served(server: OpenWebUI, chart_chat) -> None:
    answer, after = press_action(server, chart_chat, f"```python\n{CHART_CODE}```\n")
    assert answer["status"] == "OK", answer
    [chart] = answer["files"]
    assert f"![chart.png]({chart['url']})" in after["content"]
    assert server.get_file(chart["url"]) == (200, "image/png", CHART)


@pytest.mark.needs_packages("pandas")
def test_tool_reads_an_attached_csv_with_pandas(server: OpenWebUI) -> None:
    fid = upload(server, "data.csv", b"city,temp\nOslo,3\nRome,14\nCairo,25\n")
    files = [{"type": "file", "id": fid, "name": "data.csv"}]
    result = tool_result(start_chat(server, "summarise the csv", files).message)
    assert result["status"] == "OK", result
    assert result["stdout"] == "3 42 Cairo\n"
    assert result["files"] == []


@pytest.mark.needs_packages("matplotlib")
def test_tool_matplotlib_figures_are_shown_inline(server: OpenWebUI) -> None:
    message = start_chat(server, "plot with matplotlib", []).message
    result = tool_result(message)
    assert result["status"] == "OK", result
    shown = result["images_shown_to_user"]
    # The figure the code saved, and the one it showed (saved by the runtime as figure_1.png);
    # the saved one is not saved twice.
    assert [image["path"] for image in shown] == ["bars.png", "figure_1.png"], shown
    pictures = [{"type": "image", "url": i["url"], "name": i["path"]} for i in shown]
    assert message["files"] == pictures
    for image in shown:
        status, kind, data = server.get_file(image["url"])
        assert (status, kind, data[:8]) == (200, "image/png", b"\x89PNG\r\n\x1a\n")
