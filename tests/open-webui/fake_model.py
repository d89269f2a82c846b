"""A tiny OpenAI-compatible model server for the end-to-end test, on 127.0.0.1 only.

Its one model, `fake-model`, answers a chat that offers `run_python_code` with a call to it,
running the code PROMPTS gives for the prompt in the chat's user messages; once the chat holds
the tool's result it answers with a final text that contains a python block (for the Action);
anything else (title or tag generation) gets a short text."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from images import PNG_CODE

MODEL = "fake-model"
TOOL_CODE = (
    'print("hello from the tool", 6 * 7)\n'
    'open("report.txt", "w").write("line one\\nline two\\n")\n'
    'print(open("notes.txt").read().strip())\n'
)
CHART_CODE = PNG_CODE + "png('chart.png', 40, 30, (30, 120, 200))\nprint('drawn')\n"
PANDAS_CODE = (
    "import pandas as pd\n"
    "df = pd.read_csv('data.csv')\n"
    "print(len(df), df['temp'].sum(), df.loc[df['temp'].idxmax(), 'city'])\n"
)
MATPLOTLIB_CODE = (
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(3, 2))\n"
    "ax.bar(['a', 'b', 'c'], [3, 1, 2])\n"
    "fig.savefig('bars.png')\n"
    "plt.figure()\n"
    "plt.plot([1, 2, 3], [1, 4, 9])\n"
    "plt.show()\n"
)
# For the browser test: a short table, a CSV and a note shown inline, and a picture.
TABLE_CODE = (
    PNG_CODE
    + "rows = [('Oslo', 3), ('Rome', 14), ('Cairo', 25)]\n"
    + "for city, temp in rows:\n"
    + "    print(f'{city:<6} {temp:>3}')\n"
    + "open('temps.csv', 'w').write('city,temp\\n' + ''.join(f'{c},{t}\\n' for c, t in rows))\n"
    + "open('notes.txt', 'w').write('warmest: Cairo\\ncoldest: Oslo\\n')\n"
    + "png('bars.png', 60, 40, (200, 80, 30))\n"
)
FOREVER_CODE = "import time\nprint('started', flush=True)\nwhile True:\n    time.sleep(0.05)\n"
# The first user message of a chat -> the code the model runs.
PROMPTS = {
    "show a table": TABLE_CODE,
    "run forever": FOREVER_CODE,
    "run something": TOOL_CODE,
    "draw a chart": CHART_CODE,
    "summarise the csv": PANDAS_CODE,
    "plot with matplotlib": MATPLOTLIB_CODE,
}
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
        code = _code_for(request)
        return {"tool_call": {"name": "run_python_code", "arguments": {"code": code}}}
    if answered:
        return {"content": FINAL_TEXT}
    return {"content": '{"title": "Fake chat", "tags": [], "follow_ups": []}'}


def _code_for(request: dict) -> str:
    """The code for the prompt the user messages contain (Open WebUI may wrap them in context)."""
    text = ""
    for message in request.get("messages", []):
        content = message.get("content") if message.get("role") == "user" else ""
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        text += str(content or "")
    [code] = [code for prompt, code in PROMPTS.items() if prompt in text]
    return code


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
