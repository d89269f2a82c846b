"""HTTPS between the Tool and `nestbox serve --tls-cert PEM --tls-key PEM`: a self-signed
certificate made here with openssl, trusted through NESTBOX_SERVER_CA_FILE; without it, or with
plain http:// to a TLS server, a clear SANDBOX_ERROR that names what to fix."""

import ssl
import subprocess
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import TOOL_FILE, parse_answer, user
from fake_model import CHART_CODE
from test_http_mode import CHART, FILE_URL, Served, never, stored, without_binary


@pytest.fixture(scope="module")
def tls(nestbox: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.SimpleNamespace]:
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    served = Served(nestbox, "--tls-cert", str(cert), "--tls-key", str(key), scheme="https")
    try:
        served.wait_ready(ssl.create_default_context(cafile=str(cert)))
        yield types.SimpleNamespace(served=served, cert=cert)
    finally:
        served.stop()


@pytest.fixture
async def https_tool(owui, nestbox: str, monkeypatch: pytest.MonkeyPatch):
    without_binary(monkeypatch, nestbox)
    instance, _, module = await owui.load_tool("nestbox_https", content=TOOL_FILE.read_text())
    for name in ("_spawn", "_features", "_installed_plugins", "_find_binary"):
        monkeypatch.setattr(module, name, never)
    return types.SimpleNamespace(instance=instance, module=module)


def valves(https_tool, tls, **kw):
    settings = {
        "NESTBOX_SERVER": tls.served.url,
        "NESTBOX_SERVER_TOKEN_FILE": str(tls.served.token_file),
        **kw,
    }
    return https_tool.module.Tools.Valves(**settings)


async def test_https_with_the_ca_file(owui, https_tool, tls) -> None:
    https_tool.instance.valves = valves(https_tool, tls, NESTBOX_SERVER_CA_FILE=str(tls.cert))
    answer = parse_answer(
        await https_tool.instance.run_python_code(CHART_CODE, __user__=user("tls-user"))
    )
    assert (answer["status"], answer["stdout"]) == ("OK", "drawn\n"), answer
    [chart] = answer["files"]
    assert FILE_URL.fullmatch(chart["url"]) and chart["shown_to_user"], chart
    _, data = await stored(owui, chart["url"])
    assert data == CHART


async def test_an_untrusted_certificate_names_the_ca_valve(https_tool, tls) -> None:
    https_tool.instance.valves = valves(https_tool, tls)
    text = await https_tool.instance.run_python_code("print(1)", __user__=user())
    answer = parse_answer(text)
    assert answer["status"] == "SANDBOX_ERROR" and text.startswith("Error: "), text
    assert "certificate" in answer["message"] and "NESTBOX_SERVER_CA_FILE" in answer["message"]


async def test_a_ca_file_that_is_not_one(https_tool, tls, tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    https_tool.instance.valves = valves(https_tool, tls, NESTBOX_SERVER_CA_FILE=str(bad))
    answer = parse_answer(await https_tool.instance.run_python_code("print(1)", __user__=user()))
    assert answer["status"] == "SANDBOX_ERROR", answer
    assert "NESTBOX_SERVER_CA_FILE cannot be used" in answer["message"], answer


async def test_plain_http_to_a_tls_server_fails_clearly(https_tool, tls) -> None:
    https_tool.instance.valves = valves(
        https_tool, tls, NESTBOX_SERVER=tls.served.url.replace("https://", "http://")
    )
    text = await https_tool.instance.run_python_code("print(1)", __user__=user())
    answer = parse_answer(text)
    assert answer["status"] == "SANDBOX_ERROR" and text.startswith("Error: "), text
    assert "NESTBOX_SERVER" in answer["message"], answer
