"""A tiny OpenAI-compatible model server for the end-to-end test, on 127.0.0.1 only.

Its one model, `fake-model`, answers a chat that offers `run_python_code` with a call to it;
once the chat holds the tool's result it answers with a final text that contains a python
block (for the Action); anything else (title or tag generation) gets a short text."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-model"
TOOL_CODE = (
    'print("hello from the tool", 6 * 7)\n'
    'open("report.txt", "w").write("line one\\nline two\\n")\n'
    'print(open("notes.txt").read().strip())\n'
)
FINAL_TEXT = (
    "The tool ran. To run it yourself:\n\n"
    "```python\nprint('from the action', sum(range(10)))\nopen('action.txt', 'w').write('A\\n')\n```\n"
)


class FakeModel:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> "FakeModel":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def tool_results(self) -> list[str]:
        return [
            m.get("content") or ""
            for r in self.requests
            for m in r.get("messages", [])
            if m.get("role") == "tool"
        ]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    body = {"object": "list", "data": [{"id": MODEL, "object": "model"}]}
                    self._json(body)
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(request)
                reply = _reply(request)
                if request.get("stream"):
                    self._stream(reply)
                else:
                    self._json(_completion(reply))

            def _json(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(reply):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def _reply(request: dict) -> dict:
    tools = [t.get("function", {}).get("name") for t in request.get("tools") or []]
    answered = any(m.get("role") == "tool" for m in request.get("messages", []))
    if "run_python_code" in tools and not answered:
        return {"tool_call": {"name": "run_python_code", "arguments": {"code": TOOL_CODE}}}
    if answered:
        return {"content": FINAL_TEXT}
    return {"content": '{"title": "Fake chat", "tags": [], "follow_ups": []}'}


def _base() -> dict:
    return {"id": "chatcmpl-fake", "created": int(time.time()), "model": MODEL}


def _completion(reply: dict) -> dict:
    message: dict = {"role": "assistant", "content": reply.get("content")}
    finish = "stop"
    if "tool_call" in reply:
        message["tool_calls"] = [_tool_call(reply["tool_call"])]
        finish = "tool_calls"
    choice = {"index": 0, "message": message, "finish_reason": finish}
    return {**_base(), "object": "chat.completion", "choices": [choice]}


def _tool_call(call: dict) -> dict:
    return {
        "index": 0,
        "id": "call_fake_1",
        "type": "function",
        "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])},
    }


def _chunks(reply: dict) -> list[dict]:
    def chunk(delta: dict, finish: str | None = None) -> dict:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {**_base(), "object": "chat.completion.chunk", "choices": [choice]}

    if "tool_call" in reply:
        return [
            chunk(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [_tool_call(reply["tool_call"])],
                }
            ),
            chunk({}, "tool_calls"),
        ]
    return [chunk({"role": "assistant", "content": reply["content"]}), chunk({}, "stop")]
