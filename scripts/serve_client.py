"""A minimal client of `nestbox serve` for the benchmarks (scripts/bench.sh, scripts/bench-server.sh):
one HTTP/1.1 request per connection on the server's unix socket, without the CLI in between, so
the figures are the server's own."""

import json
import os
import socket
import sys
import time


class Server:
    def __init__(self, state: str):
        self.sock = os.path.join(state, "serve.sock")
        self.state = state
        self.token = None

    def request(self, method, path, body=None):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.sock)
        data = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\nConnection: close\r\n"
        if self.token:
            head += f"Authorization: Bearer {self.token}\r\n"
        s.sendall(head.encode() + b"\r\n" + data)
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
        s.close()
        head, _, payload = raw.partition(b"\r\n\r\n")
        return int(head.split()[1]), payload

    def wait_ready(self, seconds=120):
        """Wait for /readyz, then read the token the server wrote."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if self.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            sys.exit("the server did not become ready")
        self.token = open(os.path.join(self.state, "serve.token")).read().strip()

    def wait_idle(self, names=None, tries=200):
        """Let the pools refill (those of `names`, else all), so the next request finds a booted
        sandbox."""
        for _ in range(tries):
            _, payload = self.request("GET", "/v1/plugins")
            pools = [p["pool"] for p in json.loads(payload) if names is None or p["name"] in names]
            if all(p["idle"] >= p["target"] for p in pools):
                return
            time.sleep(0.02)
