"""Fixtures for the Open WebUI files: the real nestbox binary, the two files loaded as plain
modules or through Open WebUI's own loader, and a recording event emitter."""

import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_model import FakeModel
from owui_server import OpenWebUI

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# NESTBOX_OWUI_TOOL_FILE / _FUNCTION_FILE: test other copies (an older version, to show that
# a test catches what it should).
TOOL_FILE = Path(
    os.environ.get("NESTBOX_OWUI_TOOL_FILE") or REPO / "open-webui" / "tools" / "run_code.py"
)
FUNCTION_FILE = Path(
    os.environ.get("NESTBOX_OWUI_FUNCTION_FILE")
    or REPO / "open-webui" / "functions" / "run_code.py"
)
TOOL_ID, ACTION_ID = "nestbox_run_code", "nestbox_run_code_action"
# The Action's name: Open WebUI shows it as the button's label (and tooltip).
ACTION_NAME = "Run code in sandbox"
GENERATE_FILE = REPO / "open-webui" / "generate.py"
NESTBOX = os.environ.get(
    "NESTBOX", str(REPO / "target" / "x86_64-unknown-linux-gnu" / "release" / "nestbox")
)


def _load_generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("nestbox_owui_generate", GENERATE_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The runtime's package list as open-webui/generate.py finds it (the manifest names it), or
# None: the standard library only.
PACKAGES_FILE: Path | None = _load_generator().packages_file()

# Open WebUI reads its settings when it is first imported: set them before any test imports it.
_OWUI_DATA = tempfile.mkdtemp(prefix="nestbox-owui-test-")
os.environ.update(
    DATA_DIR=_OWUI_DATA,
    WEBUI_SECRET_KEY="nestbox-test",
    OFFLINE_MODE="true",
    FROM_INIT_PY="true",
    ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS="false",
    ENABLE_VERSION_UPDATE_CHECK="false",
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_OWUI_DATA, ignore_errors=True)


_FILE_LINE = re.compile(
    r"- (.*?)(?: \((\d+) bytes(, shown to the user)?\))?(?:: (\S+)| \(not kept\))"
)


def path_without_nestbox(nestbox: str) -> str:
    """PATH with every folder that holds a nestbox program left out (the test's own binary and
    the /usr/local/bin link `scripts/setup.sh` makes), for the HTTP mode that must need none."""
    here = os.path.dirname(nestbox)
    kept = [
        p
        for p in os.environ.get("PATH", "").split(":")
        if p and p != here and not os.access(os.path.join(p, "nestbox"), os.X_OK)
    ]
    return ":".join(kept)


def parse_answer(text: str) -> dict:
    """The Tool's result (plain text, see _model_text) read back into its fields; fails on
    anything out of its shape. A stream's trailing newline is not in the text: it is added."""
    lines = text.split("\n")
    first = lines.pop(0)
    ok = not first.startswith("Error: ")
    status = re.fullmatch(
        r"status: ([A-Z_]+), language: (\S+)(?:, exit code (-?\d+))?", lines.pop(0)
    )
    assert status, text
    out = {
        "status": status.group(1),
        "ok": ok,
        "message": first if ok else first[len("Error: ") :],
        "language": status.group(2),
        "exit_code": int(status.group(3)) if status.group(3) else None,
        "stdout": "",
        "stderr": "",
        "stdout_truncated": False,
        "stderr_truncated": False,
        "files": [],
        "notices": [],
    }
    section = None
    while lines:
        line = lines.pop(0)
        stream = re.fullmatch(r"(stdout|stderr)( \(truncated\))?:", line)
        if stream:
            fence = lines.pop(0)
            assert re.fullmatch(r"`{3,}", fence), text
            body = []
            while (line := lines.pop(0)) != fence:
                body.append(line)
            out[stream.group(1)] = "\n".join(body) + "\n"
            out[f"{stream.group(1)}_truncated"] = bool(stream.group(2))
        elif line.startswith("files ("):
            section = "files"
        elif line == "notices:":
            section = "notices"
        elif more := re.fullmatch(r"\((\d+) more files not shown\)", line):
            out["files_not_shown"] = int(more.group(1))
        elif line.startswith("The images shown to the user"):
            out["images_note"] = line
        elif section == "files":
            entry = _FILE_LINE.fullmatch(line)
            assert entry, line
            name, size, shown, url = entry.groups()
            out["files"].append(
                {
                    "path": json.loads(name) if name.startswith('"') else name,
                    **({"size": int(size)} if size else {}),
                    **({"url": url} if url else {}),
                    **({"shown_to_user": True} if shown else {}),
                }
            )
        elif section == "notices":
            assert line.startswith("- "), line
            out["notices"].append(line[2:])
        else:
            raise AssertionError(f"unexpected line {line!r} in {text!r}")
    shown = [{"path": f["path"], "url": f["url"]} for f in out["files"] if f.get("shown_to_user")]
    if shown:  # the names the JSON answer used to have
        out["images_shown_to_user"], out["note"] = shown, out.pop("images_note")
    return out


class Recorder:
    """An event emitter that keeps every event, as Open WebUI's would send them."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    async def __call__(self, event: dict) -> None:
        self.events.append(event)

    def of(self, kind: str) -> list[dict]:
        return [e["data"] for e in self.events if e["type"] == kind]

    def statuses(self) -> list[str]:
        return [d["description"] for d in self.of("status")]

    def final_status(self) -> str:
        done = [d for d in self.of("status") if d["done"]]
        assert done, f"no final status in {self.statuses()}"
        return done[-1]["description"]

    def messages(self) -> str:
        return "".join(d["content"] for d in self.of("message"))


def load(path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"nestbox_owui_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def nestbox() -> str:
    if not os.access(NESTBOX, os.X_OK):
        pytest.fail(f"the nestbox binary is missing at {NESTBOX} (set $NESTBOX)")
    return NESTBOX


@functools.cache
def python_imports() -> frozenset[str]:
    """The import names of the packages the installed python plugin has, as the real nestbox
    reports them (`nestbox plugins list --json`, the python plugin's `packages`)."""
    done = subprocess.run([NESTBOX, "plugins", "list", "--json"], capture_output=True, timeout=60)
    if done.returncode != 0:
        pytest.fail(f"`nestbox plugins list --json` failed: {done.stderr.decode()[-2000:]}")
    [python] = [p for p in json.loads(done.stdout) if p["name"] == "python"]
    return frozenset(_names(python.get("packages") or []))


def _names(packages: list[dict]) -> set[str]:
    """Import and distribution names (pandas is both), so a listing without import names
    still counts."""
    return {n for p in packages for n in [*p.get("import", []), p.get("distribution", "")] if n}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `needs_packages("pandas", ...)` run when the python plugin has those packages.
    They are skipped only while this checkout's python runtime does not promise them
    (plugins/python/packages.json does not list them); once it does, a plugin without them
    fails the test (a broken or stale install), never skips it. Checked before any fixture
    runs, so a skipped test starts no server."""
    marker = item.get_closest_marker("needs_packages")
    if marker is None:
        return
    wanted = set(marker.args)
    missing = sorted(wanted - python_imports())
    if not missing:
        return
    promised = _names(json.loads(PACKAGES_FILE.read_text())) if PACKAGES_FILE else set()
    if wanted & promised:
        pytest.fail(
            f"the python plugin of {NESTBOX} lacks {', '.join(missing)}, which "
            f"{PACKAGES_FILE.relative_to(REPO)} lists: the runtime is missing or stale. fix: "
            "scripts/setup.sh, then check `nestbox plugins list --json`"
        )
    pytest.skip(
        f"this checkout's python runtime has no {', '.join(missing)} (its package list, "
        "named by plugins/python/plugin.toml, does not list them)"
    )


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, nestbox: str) -> None:
    """No stray CODE_EVAL_VALVE_OVERRIDE_* from the host; the binary under test is used."""
    for name in list(os.environ):
        if name.startswith("CODE_EVAL_VALVE_OVERRIDE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY", nestbox)


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    path.mkdir()
    return path


@pytest.fixture
def tools(storage: Path) -> types.ModuleType:
    return load(TOOL_FILE)


@pytest.fixture
def tool(tools: types.ModuleType, storage: Path):
    instance = tools.Tools()
    instance.valves = tools.Tools.Valves(WEB_ACCESSIBLE_DIRECTORY_PATH=str(storage))
    return instance


@pytest.fixture
def functions() -> types.ModuleType:
    return load(FUNCTION_FILE)


@pytest.fixture
def action(functions: types.ModuleType, storage: Path):
    instance = functions.Action()
    instance.valves = functions.Action.Valves(WEB_ACCESSIBLE_DIRECTORY_PATH=str(storage))
    return instance


@pytest.fixture
def events() -> Recorder:
    return Recorder()


@pytest.fixture(scope="session")
def owui() -> Iterator[types.SimpleNamespace]:
    """Open WebUI itself, imported in this process (its loader, tool specs and file records)."""
    from open_webui.models.files import FileForm, Files
    from open_webui.storage.provider import Storage
    from open_webui.utils.plugin import load_function_module_by_id, load_tool_module_by_id
    from open_webui.utils.tools import get_tool_specs

    yield types.SimpleNamespace(
        load_tool=load_tool_module_by_id,
        load_function=load_function_module_by_id,
        get_tool_specs=get_tool_specs,
        Files=Files,
        FileForm=FileForm,
        Storage=Storage,
    )


def user(uid: str = "user-1", role: str = "user") -> dict:
    return {"id": uid, "role": role, "name": uid, "email": f"{uid}@example.com"}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, nestbox: str) -> Iterator[OpenWebUI]:
    fake = FakeModel().start()
    data = tmp_path_factory.mktemp("open-webui-data")
    owui = OpenWebUI(data, fake.url, {"CODE_EVAL_VALVE_OVERRIDE_NESTBOX_BINARY": nestbox})
    owui.fake = fake
    try:
        owui.start()
        owui.token = owui.sign_up("admin", "admin@example.com")
        install(owui)
        yield owui
    finally:
        owui.stop()
        fake.stop()


def install(owui: OpenWebUI) -> None:
    tool = {
        "id": TOOL_ID,
        "name": "Run code",
        "content": TOOL_FILE.read_text(),
        "meta": {"description": "nestbox"},
    }
    owui.api("POST", "/api/v1/tools/create", tool)
    function = {
        **tool,
        "id": ACTION_ID,
        "name": ACTION_NAME,
        "content": FUNCTION_FILE.read_text(),
    }
    owui.api("POST", "/api/v1/functions/create", function)
    assert owui.api("POST", f"/api/v1/functions/id/{ACTION_ID}/toggle")["is_active"] is True
    assert owui.api("POST", f"/api/v1/functions/id/{ACTION_ID}/toggle/global")["is_global"] is True
