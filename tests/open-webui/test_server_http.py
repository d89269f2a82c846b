"""End to end in HTTP mode: a real `open-webui serve` whose Tool and Action reach a separately
started `nestbox serve --listen 127.0.0.1:PORT` over HTTP, with no nestbox program on Open
WebUI's PATH and NESTBOX_BINARY pointing nowhere. The files come back in the run's result and
Open WebUI serves them from its own storage."""

import shutil
import types
from collections.abc import Iterator

import pytest

from conftest import install, path_without_nestbox
from fake_model import CHART_CODE, FakeModel
from owui_server import OpenWebUI
from test_http_mode import CHART, FILE_URL, Served
from test_server import press_action, start_chat, tool_result, upload

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def http_owui(
    tmp_path_factory: pytest.TempPathFactory, nestbox: str
) -> Iterator[types.SimpleNamespace]:
    served = Served(nestbox)
    fake = FakeModel().start()
    path = path_without_nestbox(nestbox)
    env = {
        "PATH": path,
        "CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY": "/nonexistent/nestbox",
        "CODE_EVAL_VALVE_OVERRIDE_NESTBOX_SERVER": served.url,
        "NESTBOX_SERVER_TOKEN": served.token,
    }
    owui = OpenWebUI(tmp_path_factory.mktemp("open-webui-http"), fake.url, env)
    owui.fake = fake
    try:
        served.wait_ready()
        owui.start()
        owui.token = owui.sign_up("admin", "admin@example.com")
        install(owui)
        yield types.SimpleNamespace(owui=owui, served=served)
    finally:
        owui.stop()
        fake.stop()
        served.stop()


def test_http_mode_end_to_end(http_owui) -> None:
    owui = http_owui.owui
    assert shutil.which("nestbox", path=owui.env["PATH"]) is None
    # The model's tool call draws a chart: shown inline, served by Open WebUI, owned by the user.
    chat = start_chat(owui, "draw a chart", [])
    result = tool_result(chat.message)
    assert (result["status"], result["stdout"]) == ("OK", "drawn\n"), result
    [chart] = result["files"]
    assert FILE_URL.fullmatch(chart["url"]), chart
    assert result["images_shown_to_user"] == [{"path": "chart.png", "url": chart["url"]}]
    assert chat.message["files"] == [{"type": "image", "url": chart["url"], "name": "chart.png"}]
    assert owui.get_file(chart["url"]) == (200, "image/png", CHART)
    statuses = [s["description"] for s in chat.message["statusHistory"] if "description" in s]
    assert statuses[0] == "Running Python code in the sandbox…"
    assert statuses[-1].startswith("Python code ran successfully in")
    # Another user cannot read it.
    other = owui.api(
        "POST",
        "/api/v1/auths/add",
        {"name": "other", "email": "other@example.com", "password": "pw-other", "role": "user"},
    )["token"]
    mine, owui.token = owui.token, other
    try:
        assert owui.get_file(chart["url"])[0] in (401, 403, 404)
    finally:
        owui.token = mine
    # The Action on the same reply: the run's output and the chart appended to the message.
    answer, after = press_action(owui, chat, f"```python\n{CHART_CODE}```\n")
    assert answer["status"] == "OK", answer
    [pressed] = answer["files"]
    assert FILE_URL.fullmatch(pressed["url"]) and pressed["url"] != chart["url"]
    assert f"![chart.png]({pressed['url']})" in after["content"]
    assert owui.get_file(pressed["url"]) == (200, "image/png", CHART)
    # Nothing ran through the nestbox program: Open WebUI's log never names it missing.
    log = owui.log_path.read_text(errors="replace")
    assert "binary not found" not in log and "could not list plugins" not in log


@pytest.mark.needs_packages("pandas")
def test_http_mode_reads_an_attached_csv(http_owui) -> None:
    owui = http_owui.owui
    fid = upload(owui, "data.csv", b"city,temp\nOslo,3\nRome,14\nCairo,25\n")
    files = [{"type": "file", "id": fid, "name": "data.csv"}]
    result = tool_result(start_chat(owui, "summarise the csv", files).message)
    assert (result["status"], result["stdout"]) == ("OK", "3 42 Cairo\n"), result
    assert result["files"] == []
