async def _run_for_model(
    tools: "Tools",
    language: str,
    code: str,
    user: dict | None,
    emitter: _Emitter,
    files: list | None,
) -> str:
    code = _strip_fences(code)
    label = f"{_title(language)} code"
    await _status(emitter, f"Running {label} in the sandbox…", done=False)
    attachments, notes = await _resolve_attachments(files or [], user)
    job = _Job(tools.valves, user, language, code, attachments)
    outcome = await _execute(job, emitter, label)
    outcome.result["notices"] = [*notes, *outcome.result["notices"]]
    headline = await _final_status(emitter, outcome)
    images = await asyncio.to_thread(
        lambda: [f for f in _output_files(outcome) if _is_inline_image(f, outcome.settings)]
    )
    await _show(emitter, outcome, images)
    return _model_text(_for_model(outcome, headline, images))


async def _show(emitter: _Emitter, outcome: _Outcome, images: list[dict]) -> None:
    """Show the run to the user in ways Open WebUI 0.12.4 keeps in the stored chat.

    Text a tool adds to the reply (a `message` event, Markdown such as `![plot](url)`) is lost:
    during a tool call the reply is rebuilt from its structured output when the model answers.
    So: a collapsible HTML block (an `embeds` event: code, stdout, stderr, files), the images as
    pictures (a `files` event: the message's files of type image, shown above its text and
    saved with it), and a source with code and output."""
    files = _output_files(outcome)
    html_files = await asyncio.to_thread(lambda: [_file_html(f, outcome.settings) for f in files])
    page = _embed_html(outcome, html_files)
    await _emit(emitter, "embeds", {"embeds": [page]})
    if images:
        shown = [{"type": "image", "url": f["url"], "name": _printable(f["path"])} for f in images]
        await _emit(emitter, "files", {"files": shown})
    lang = outcome.language
    result = outcome.result
    document = f"{outcome.code}\n\n--- output ---\n{result['stdout']}{result['stderr']}"
    await _emit(
        emitter,
        "source",
        {
            "source": {"name": f"nestbox: {_title(lang)} code"},
            "document": [document[:_MODEL_OUTPUT_CHARS]],
            "metadata": [{"source": f"nestbox {lang} sandbox", "name": f"{_title(lang)} code"}],
        },
    )


# @PYTHON_PACKAGES@


def _python_doc(packages: tuple[tuple[str, str], ...]) -> str:
    """run_python_code's description (what the model reads), naming the installed packages."""
    imports = {name for packaged, _ in packages for name in packaged.split("/")}
    if packages:
        listed = ", ".join(f"{name} {version}" for name, version in packages)
        have = [
            f"Installed packages (import name and version), besides the standard library: {listed}.",
            "Nothing else can be installed (no pip install); no network, no threads, no subprocess.",
            "It is 32-bit WebAssembly: numpy's default integer is int32, so use dtype=np.int64 for "
            "integer arrays whose values can pass 2**31; save images as PNG (no JPEG or WebP "
            "encoder).",
        ]
    else:
        have = [
            "Only the standard library is available: no pip packages (no numpy, pandas, requests, "
            "matplotlib), no threads, no subprocess, no network."
        ]
    images = "PNG, JPEG, GIF and WebP images written there are shown to the user in the chat."
    if "matplotlib" in imports:
        images += (
            " matplotlib figures shown with plt.show() or left open at the end are saved as PNG "
            "files and shown the same way."
        )
    lines = [
        "Run a Python 3 program in a secure sandbox and return what happened, its stdout and "
        "stderr, and the files it wrote with their download links.",
        *have,
        "The working directory is /work: files the user attached to the chat are there "
        "(read-only), and files the program writes there are returned to the user with download "
        "links.",
        images,
        "Time and memory are limited (by default 30 s and 256 MB). print() everything you want "
        "to see.",
        ":param code: The complete Python program to run.",
    ]
    return "\n" + "".join(f"        {line}\n" for line in lines) + "        "


def _installed_python_packages(plugins: list[dict]) -> set[tuple[str, str]] | None:
    """The python plugin's packages as the generated block names them (generate.py), or None
    when this nestbox does not list them."""
    python = next((p for p in plugins if p["name"] == "python" and "packages" in p), None)
    if python is None:
        return None
    listed = set()
    for entry in python["packages"]:
        imports = entry.get("import") if isinstance(entry, dict) else None
        imports = imports if isinstance(imports, list) else []
        names = [i for i in imports if isinstance(i, str) and not i.startswith("_")]
        if names:
            listed.add(("/".join(dict.fromkeys(names)), str(entry.get("version"))))
    return listed


def _check_package_list(plugins: list[dict]) -> None:
    """Warn when the installed python plugin's packages are not the ones this Tool tells the
    model about (a Tool file from another nestbox version)."""
    installed = _installed_python_packages(plugins)
    if installed is None or installed == set(_PYTHON_PACKAGES):
        return
    missing = sorted(name for name, _ in set(_PYTHON_PACKAGES) - installed)
    extra = sorted(name for name, _ in installed - set(_PYTHON_PACKAGES))
    _log.warning(
        "nestbox: the python plugin's packages differ from the list this Tool gives the model "
        "(listed here but not installed or another version: %s; installed but not listed: %s). "
        "fix: install the Tool file of this nestbox version (open-webui/generate.py writes it "
        "from the python runtime's packages.json)",
        ", ".join(missing) or "none",
        ", ".join(extra) or "none",
    )


class Tools:
    """Run code that the model writes in nestbox's sandbox."""

    class Valves(_Valves):
        """Administrator settings; CODE_EVAL_VALVE_OVERRIDE_<NAME> environment variables win."""

    class UserValves(_UserValves):
        """Per-user settings: they may only lower the administrator's limits."""

    def __init__(self) -> None:
        self.valves = self.Valves()
        plugins = _plugins_now(self.valves)
        _check_package_list(plugins)
        names = ", ".join(p["name"] for p in plugins)
        Tools.run_code.__doc__ = _RUN_CODE_DOC.format(plugins=_plugin_summary(plugins), names=names)

    async def run_python_code(
        self,
        code: str,
        __user__: dict | None = None,
        __event_emitter__: _Emitter = None,
        __files__: list | None = None,
    ) -> str:
        """Set from _python_doc() and the generated _PYTHON_PACKAGES below the class."""
        return await _run_for_model(self, "python", code, __user__, __event_emitter__, __files__)

    async def run_bash_command(
        self,
        code: str,
        __user__: dict | None = None,
        __event_emitter__: _Emitter = None,
        __files__: list | None = None,
    ) -> str:
        """
        Run a bash script in a secure sandbox and return what happened, its stdout and stderr, and the files it wrote with their download links.
        The shell is bash-compatible with about 160 common commands built in (echo, ls, cat, grep, sed, awk, sort, head, wc, find, jq ...); python3 can be called from the script (the same Python, with the same packages, as run_python_code). No network, no package installs.
        The working directory is /work: files the user attached to the chat are there (read-only), and files the script writes there are given to the user with download links.
        Time and memory are limited (by default 30 s and 256 MB).
        :param code: The bash script to run.
        """
        return await _run_for_model(self, "bash", code, __user__, __event_emitter__, __files__)

    async def run_code(
        self,
        language: str,
        code: str,
        __user__: dict | None = None,
        __event_emitter__: _Emitter = None,
        __files__: list | None = None,
    ) -> str:
        """Set from _RUN_CODE_DOC when the tool is loaded."""
        plugins = await _plugins(self.valves)
        name = _alias_map(plugins).get(language.strip().lower(), language.strip().lower())
        return await _run_for_model(self, name, code, __user__, __event_emitter__, __files__)


Tools.run_python_code.__doc__ = _python_doc(_PYTHON_PACKAGES)

_RUN_CODE_DOC = """
        Run code in a secure sandbox, in one of the installed languages, and return what happened, its stdout and stderr, and the files it wrote with their download links.
        Installed: {plugins}.
        Python has the packages named in run_python_code's description. No network and no package installs. The working directory is /work: files the user attached to the chat are there (read-only), and files the code writes there are given to the user with download links.
        Time and memory are limited (by default 30 s and 256 MB).
        :param language: The language of the code: one of {names} (or an alias listed above).
        :param code: The complete program to run.
        """
