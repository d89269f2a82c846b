"""Both files through Open WebUI 0.12.4's own loader: the exact tool specs the model sees."""

from conftest import FUNCTION_FILE, TOOL_FILE


def code_param(description: str) -> dict:
    return {
        "type": "object",
        "properties": {"code": {"type": "string", "description": description}},
        "required": ["code"],
    }


async def test_tool_specs_exactly(owui) -> None:
    tools, frontmatter, _ = await owui.load_tool("nestbox_run_code", content=TOOL_FILE.read_text())
    assert frontmatter["title"] == "Run code (nestbox)"
    specs = {spec["name"]: spec for spec in owui.get_tool_specs(tools)}
    assert sorted(specs) == ["run_bash_command", "run_code", "run_python_code"]
    assert specs["run_python_code"]["parameters"] == code_param(
        "The complete Python program to run."
    )
    assert specs["run_bash_command"]["parameters"] == code_param("The bash script to run.")
    assert specs["run_code"]["parameters"] == {
        "type": "object",
        "properties": {
            "language": {
                "type": "string",
                "description": "The language of the code: one of bash, python (or an alias listed above).",
            },
            "code": {"type": "string", "description": "The complete program to run."},
        },
        "required": ["language", "code"],
    }
    python = specs["run_python_code"]["description"]
    assert python.startswith("Run a Python 3 program in a secure sandbox")
    for promise in ("standard library", "no network", "/work", "download links", "30 s and 256 MB"):
        assert promise in python
    bash = specs["run_bash_command"]["description"]
    assert "python3 can be called from the script" in bash and "No network" in bash
    installed = specs["run_code"]["description"]
    assert "Installed: bash (bash, sh, shell): " in installed
    assert "python (python, python3, py): CPython 3." in installed
    assert "Python has the packages named in run_python_code's description." in installed


async def test_no_helper_or_reserved_argument_leaks(owui) -> None:
    tools, _, module = await owui.load_tool("nestbox_run_code_2", content=TOOL_FILE.read_text())
    for spec in owui.get_tool_specs(tools):
        assert not spec["name"].startswith("_")
        assert not any(p.startswith("_") for p in spec["parameters"]["properties"])
    public = [n for n in vars(module) if not n.startswith("_") and callable(vars(module)[n])]
    assert set(public) <= {
        "Tools",
        "BaseModel",
        "Field",
        "Any",
        "Awaitable",
        "Callable",
        "dataclass",
        "field",
    }


async def test_action_loads_as_action(owui) -> None:
    action, kind, frontmatter, _module = await owui.load_function(
        "nestbox_run_code_action", content=FUNCTION_FILE.read_text()
    )
    assert kind == "action"
    assert frontmatter["title"] == "Run code in sandbox (nestbox)"
    # The button's icon (0.12.4 reads the front matter's icon_url): an SVG, so Open WebUI
    # inverts it in its dark theme as it does its own icons.
    assert frontmatter["icon_url"].startswith("data:image/svg+xml;base64,")
    assert callable(action.action) and hasattr(action, "valves")


def test_valves_identical_in_both_files(tools, functions) -> None:
    tool_valves = tools.Tools.Valves.model_json_schema()["properties"]
    action_valves = functions.Action.Valves.model_json_schema()["properties"]
    assert tool_valves == action_valves
    assert (
        tools.Tools.UserValves.model_json_schema()
        == functions.Action.UserValves.model_json_schema()
    )


def test_files_survive_open_webui_import_rewriting(owui) -> None:
    from open_webui.utils.plugin import replace_imports

    for path in (TOOL_FILE, FUNCTION_FILE):
        text = path.read_text()
        assert text.startswith('"""\n'), (
            "Open WebUI needs the first line to be exactly three quotes"
        )
        assert replace_imports(text) == text, f"{path.name}: Open WebUI would rewrite an import"
