"""Start and stop a real `open-webui serve` on 127.0.0.1 for the end-to-end tests."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpenWebUI:
    def __init__(self, data_dir: Path, model_url: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.log_path = data_dir / "server.log"
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "WEBUI_SECRET_KEY": "nestbox-test-secret",
            "OFFLINE_MODE": "true",
            "RAG_EMBEDDING_ENGINE": "openai",
            "ENABLE_OLLAMA_API": "false",
            "OPENAI_API_BASE_URL": model_url,
            "OPENAI_API_KEY": "sk-fake",
            "ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS": "false",
            "ENABLE_VERSION_UPDATE_CHECK": "false",
            **env,
        }
        self.env.pop("FROM_INIT_PY", None)
        self.proc: subprocess.Popen | None = None
        self.token = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> "OpenWebUI":
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            ["open-webui", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"open-webui exited: see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"open-webui did not answer /health in {timeout} s: {self.log_path}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if getattr(self, "_log", None):
            self._log.close()

    def api(self, method: str, path: str, body: Any = None, timeout: float = 120) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path}: {e.code} {e.read()[:2000]!r}") from e
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def get_raw(self, path: str) -> tuple[int, bytes]:
        status, _, body = self.get_file(path)
        return status, body

    def get_file(self, path: str) -> tuple[int, str, bytes]:
        """Status, Content-Type and body of a GET (with the token, if any)."""
        request = urllib.request.Request(self.base + path)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()

    def sign_up(self, name: str, email: str) -> str:
        saved, self.token = self.token, ""
        answer = self.api(
            "POST",
            "/api/v1/auths/signup",
            {"name": name, "email": email, "password": "pw-" + name},
        )
        self.token = saved
        return answer["token"]
