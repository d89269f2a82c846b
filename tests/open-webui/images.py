"""Python code (for the sandbox) that draws real image files with the standard library only,
and the same drawing here, so a test can compare the bytes Open WebUI serves."""

import os
import tempfile

PNG_CODE = """\
import struct, zlib

def png(path, width, height, rgb):
    rows = b"".join(b"\\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header))
        f.write(chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
"""


def png_bytes(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """What `png(path, width, height, rgb)` of PNG_CODE writes (run here, on our own constant)."""
    scope: dict = {}
    exec(PNG_CODE, scope)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.png")
        scope["png"](path, width, height, rgb)
        with open(path, "rb") as f:
            return f.read()
