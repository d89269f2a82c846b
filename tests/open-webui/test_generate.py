"""open-webui/generate.py: both files written from open-webui/src/ and kept fresh, their status and
settings lists the ones the nestbox binary reports, and the package list in run_python_code's
description generated from plugins/python/packages.json and read by Open WebUI's own loader."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FUNCTION_FILE, NESTBOX, PACKAGES_FILE, REPO, TOOL_FILE, _load_generator

GENERATE = REPO / "open-webui" / "generate.py"
# What the scientific runtime ships (a sample of its packages.json, in its format).
SAMPLE = [
    {"distribution": "numpy", "version": "2.5.2", "import": ["numpy"]},
    {"distribution": "pandas", "version": "3.0.6", "import": ["pandas"]},
    {"distribution": "matplotlib", "version": "3.11.2", "import": ["matplotlib", "pylab"]},
    {"distribution": "scipy", "version": "1.18.1", "import": ["scipy"]},
    {"distribution": "scikit-learn", "version": "1.9.1", "import": ["sklearn"]},
    {"distribution": "statsmodels", "version": "0.15.0", "import": ["statsmodels"]},
    {"distribution": "sympy", "version": "1.14.0", "import": ["sympy", "isympy"]},
    {"distribution": "Pillow", "version": "13.0.0", "import": ["PIL"]},
    {"distribution": "PyYAML", "version": "6.0.3", "import": ["yaml", "_yaml"]},
    {"distribution": "beautifulsoup4", "version": "4.15.0", "import": ["bs4"]},
    *(
        {"distribution": f"dependency-{n:02d}", "version": "1.0.0", "import": [f"dep_{n:02d}"]}
        for n in range(60)
    ),
]


def generate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GENERATE), *args], capture_output=True, text=True, timeout=60
    )


def generated_tool(tmp_path: Path, packages: list) -> Path:
    """The Tool generated into tmp_path from `packages`."""
    listing = tmp_path / "packages.json"
    listing.write_text(json.dumps(packages))
    done = generate("--packages", str(listing), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    return tmp_path / "tools" / "run_code.py"


def test_committed_files_are_fresh() -> None:
    """Fails when open-webui/src/ or plugins/python/packages.json changed and the files were not
    regenerated (or when someone edited a generated file instead of its source)."""
    done = generate("--check")
    assert done.returncode == 0, f"{done.stderr}(run: python3 open-webui/generate.py)"


def test_edited_output_is_stale(tmp_path: Path) -> None:
    generated_tool(tmp_path, SAMPLE[:3])
    action = tmp_path / "functions" / "run_code.py"
    action.write_text(action.read_text().replace("Run code", "Run kode", 1))
    listing = str(tmp_path / "packages.json")
    done = generate("--check", "--packages", listing, "--out", str(tmp_path))
    assert done.returncode == 1
    assert f"{action} is stale" in done.stderr and "edit open-webui/src/" in done.stderr
    assert "tools" not in done.stderr.replace(str(tmp_path), "")


def test_both_files_share_the_same_code(tools, functions) -> None:
    """The shared parts are written into both files once, from src/shared.py and
    src/server_http.py."""
    for part in ("shared.py", "server_http.py"):
        shared = (REPO / "open-webui" / "src" / part).read_text().strip()
        for path in (TOOL_FILE, FUNCTION_FILE):
            assert path.read_text().count(shared) == 1, (path, part)


def _binary_json(*args: str) -> object:
    done = subprocess.run([NESTBOX, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_status_list_is_the_binarys(tools, functions) -> None:
    """The statuses the files know are the ones `nestbox run --json` can report."""
    reported = [s["status"] for s in _binary_json("statuses", "--json")]
    assert sorted(reported) == sorted(tools._STATUSES) == sorted(functions._STATUSES)
    assert "OK" in reported and len(reported) == len(set(reported))


def test_settings_list_is_the_binarys(tools) -> None:
    """The valves the files hand to nestbox as CODE_EVAL_VALVE_OVERRIDE_<NAME> are exactly the
    settings the binary reads from such variables, and each is a valve."""
    prefix = tools._ENV_PREFIX
    envs = [s["env"] for s in _binary_json("settings", "--json")["settings"]]
    read = [env[len(prefix) :] for env in envs if env.startswith(prefix)]
    assert sorted(read) == sorted(tools._NESTBOX_SETTINGS)
    assert set(tools._NESTBOX_SETTINGS) <= set(tools.Tools.Valves.model_fields)


def test_stale_tool_is_reported(tmp_path: Path) -> None:
    tool = generated_tool(tmp_path, SAMPLE[:3])
    listing = tmp_path / "packages.json"
    listing.write_text(json.dumps(SAMPLE[:4]))
    out = ("--packages", str(listing), "--out", str(tmp_path))
    done = generate("--check", *out)
    assert done.returncode == 1
    assert "is stale" in done.stderr and "fix: python3 open-webui/generate.py" in done.stderr
    assert generate(*out).returncode == 0
    assert generate("--check", *out).returncode == 0
    assert '("scipy", "1.18.1"),' in tool.read_text()


def test_bad_listing_is_named(tmp_path: Path) -> None:
    generated_tool(tmp_path, [])
    listing = tmp_path / "packages.json"
    for bad, reason in [
        ("[1]", "entry 0: expected an object"),
        ('[{"version": "1", "import": ["a b"]}]', 'entry 0: "import" holds names that are not'),
        ('[{"version": "1\\n\\")", "import": ["a"]}]', 'entry 0: "version" must be'),
        ("{", "cannot be read as JSON"),
    ]:
        listing.write_text(bad)
        done = generate("--packages", str(listing), "--out", str(tmp_path))
        assert (done.returncode, reason in done.stderr) == (2, True), (bad, done.stderr)
        assert str(listing) in done.stderr


async def test_model_sees_the_packages(owui, tmp_path: Path) -> None:
    tool = generated_tool(tmp_path, SAMPLE)
    tools, _, _ = await owui.load_tool("nestbox_run_code_packages", content=tool.read_text())
    [spec] = [s for s in owui.get_tool_specs(tools) if s["name"] == "run_python_code"]
    text = spec["description"]
    for promise in (
        "numpy 2.5.2, pandas 3.0.6",
        "PIL 13.0.0",
        "sklearn 1.9.1",
        "sympy/isympy 1.14.0",
        "yaml 6.0.3",
        "no pip install",
        "no network",
        "plt.show()",
        "shown to the user",
        "returned to the user with download links",
    ):
        assert promise in text, promise
    assert "_yaml" not in text  # private modules are left out
    # 70 packages and still a description of sensible length.
    assert len(text) < 2500, len(text)
    assert spec["parameters"]["properties"]["code"]["description"] == (
        "The complete Python program to run."
    )


async def test_committed_description_matches_the_runtime(owui) -> None:
    tools, _, _ = await owui.load_tool("nestbox_run_code_now", content=TOOL_FILE.read_text())
    [spec] = [s for s in owui.get_tool_specs(tools) if s["name"] == "run_python_code"]
    listed = json.loads(PACKAGES_FILE.read_text()) if PACKAGES_FILE else []
    if not listed:
        assert "Only the standard library is available" in spec["description"]
    for package in listed:
        names = [name for name in package["import"] if not name.startswith("_")]
        if names:  # a component without a Python module (sqlite) is not named
            assert f"{'/'.join(names)} {package['version']}" in spec["description"], package


def test_a_tool_for_other_packages_is_logged(tools, monkeypatch, caplog) -> None:
    """The installed plugin's packages (`nestbox plugins list --json`) against the Tool's list."""
    listing = json.dumps(
        [{"name": "python", "aliases": ["py"], "packages": SAMPLE[1:3]}, {"name": "bash"}]
    )
    plugins = tools._plugins_from_json(listing)
    assert plugins[0]["packages"] == SAMPLE[1:3] and "packages" not in plugins[1]
    monkeypatch.setattr(tools, "_installed_plugins", lambda binary: plugins)
    monkeypatch.setattr(tools, "_PYTHON_PACKAGES", (("numpy", "2.5.2"), ("pandas", "3.0.5")))
    with caplog.at_level(logging.WARNING, logger="nestbox.open_webui"):
        tools.Tools()
    assert (
        "listed here but not installed or another version: numpy, pandas; "
        "installed but not listed: matplotlib/pylab, pandas)"
    ) in caplog.text
    caplog.clear()
    monkeypatch.setattr(
        tools, "_PYTHON_PACKAGES", (("pandas", "3.0.6"), ("matplotlib/pylab", "3.11.2"))
    )
    with caplog.at_level(logging.WARNING, logger="nestbox.open_webui"):
        tools.Tools()
        monkeypatch.setattr(tools, "_installed_plugins", lambda binary: plugins[1:])
        tools.Tools()  # a nestbox that does not list packages: nothing to compare
    assert "differ" not in caplog.text


def test_the_manifest_names_the_list(tmp_path: Path) -> None:
    generator = _load_generator()
    manifest = tmp_path / "plugin.toml"
    manifest.write_text('name = "python"\n')
    assert generator.packages_file(manifest) is None  # the standard library only
    manifest.write_text('name = "python"\npackages = "boot/packages.json"\n')
    with pytest.raises(generator.GenerateError, match="which does not exist"):
        generator.packages_file(manifest)
    (tmp_path / "boot").mkdir()
    (tmp_path / "boot" / "packages.json").write_text("[]")
    assert generator.packages_file(manifest) == tmp_path / "boot" / "packages.json"
    for bad in ('packages = "/etc/passwd"', 'packages = "../x.json"', "packages = 1", "= ["):
        manifest.write_text(bad + "\n")
        with pytest.raises(generator.GenerateError, match=str(manifest)):
            generator.packages_file(manifest)
