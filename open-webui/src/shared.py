import asyncio
import base64
import dataclasses
import hashlib
import html
import json
import logging
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

_log = logging.getLogger("nestbox.open_webui")

_ENV_PREFIX = "CODE_EVAL_VALVE_OVERRIDE_"
_FALLBACK_BINARY = "/usr/local/bin/nestbox"
_STATUSES = (
    "OK",
    "ERROR",
    "TIMEOUT",
    "MEMORY_LIMIT",
    "OUTPUT_LIMIT",
    "INVALID_INPUT",
    "SANDBOX_ERROR",
    "STORAGE_ERROR",
)
# Valves that nestbox itself reads from CODE_EVAL_VALVE_OVERRIDE_<NAME>.
_NESTBOX_SETTINGS = (
    "NETWORKING_ALLOWED",
    "MAX_RUNTIME_SECONDS",
    "MAX_RAM_MEGABYTES",
    "REQUIRE_RESOURCE_LIMITING",
    "AUTO_INSTALL",
    "CHECK_FOR_UPDATES",
    "DEBUG",
    "MAX_FILES_PER_EXECUTION",
    "MAX_FILES_PER_USER",
    "MAX_MEGABYTES_PER_USER",
    "WEB_ACCESSIBLE_DIRECTORY_PATH",
    "WEB_ACCESSIBLE_DIRECTORY_URL",
)
# The only variables of the Open WebUI process that nestbox inherits (plus NESTBOX_*):
# secrets such as WEBUI_SECRET_KEY or API keys never reach it.
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "RUST_BACKTRACE")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
_BUILTIN_PLUGINS = (
    {"name": "python", "aliases": ["python", "python3", "py"], "description": "Python 3.15"},
    {"name": "bash", "aliases": ["bash", "sh", "shell"], "description": "bash"},
)
_INLINE_MAX_LINES = 128
_INLINE_MAX_BYTES = 65535
_MODEL_OUTPUT_CHARS = 32000
_MAX_FILES_SHOWN = 50
_MAX_NAME_CHARS = 160
_MAX_URL_CHARS = 2048
_MAX_NOTICES = 20
_MAX_NOTICE_CHARS = 1000
_CHILD_GRACE_SECONDS = 90
_PROGRESS_EVERY_SECONDS = 10.0
_HOST_PATH = re.compile(r"(?<![\w.:/~-])/(?!(?:work|code)(?:/|\b))[\w.@+-]+(?:/[\w.@+-]*)*")

_Emitter = Callable[[dict], Awaitable[Any]] | None


class _Valves(BaseModel):
    NESTBOX_BINARY: str = Field(
        default="",
        description="Path of the nestbox program; empty: `nestbox` on PATH, else /usr/local/bin/nestbox.",
    )
    NESTBOX_SERVER: str = Field(
        default="",
        description="A running `nestbox serve` for warm sandboxes: a socket path (through the "
        "local nestbox program), or an http:// or https:// URL (called directly: no nestbox "
        "program or runsc needed here; files are stored in Open WebUI); empty: a cold sandbox "
        "per run.",
    )
    NESTBOX_SERVER_TOKEN_FILE: str = Field(
        default="",
        description="File holding the server's token (its --token-file); empty: the "
        "NESTBOX_SERVER_TOKEN variable of Open WebUI's process, else the server's serve.token.",
    )
    NESTBOX_SERVER_CA_FILE: str = Field(
        default="",
        description="For an https:// NESTBOX_SERVER with a private certificate: the PEM file of "
        "that certificate or of its CA (then only it is trusted); empty: the system's CAs.",
    )
    NESTBOX_SERVER_FALLBACK_TO_COLD: bool = Field(
        default=False,
        description="When NESTBOX_SERVER cannot be used, run in a fresh sandbox instead of failing.",
    )
    NETWORKING_ALLOWED: bool = Field(
        default=False,
        description="Network for the code. nestbox refuses true: it has no safe egress yet.",
    )
    MAX_RUNTIME_SECONDS: int = Field(default=30, ge=1, description="Wall-clock limit per run.")
    MAX_RAM_MEGABYTES: int = Field(default=256, ge=1, description="Memory limit per run (MiB).")
    REQUIRE_RESOURCE_LIMITING: bool = Field(
        default=True, description="Refuse to run when the limits cannot be enforced."
    )
    AUTO_INSTALL: bool = Field(
        default=False,
        description="When runsc is missing, let nestbox install a pinned, checksum-verified gVisor "
        "release during a chat. Off: install runsc ahead of time (the Docker image does).",
    )
    CHECK_FOR_UPDATES: bool = Field(
        default=False,
        description="Let nestbox check for a newer gVisor in the background and mention it in "
        "notices. Off: no requests to the outside.",
    )
    DEBUG: bool = Field(
        default=False,
        description="More detail in the server log and in status messages (never host paths or "
        "environment).",
    )
    MAX_FILES_PER_EXECUTION: int = Field(default=32, ge=0, description="Files kept from one run.")
    MAX_FILES_PER_USER: int = Field(
        default=4096, ge=0, description="Files kept per user; the user's oldest go first."
    )
    MAX_MEGABYTES_PER_USER: int = Field(
        default=256, ge=0, description="Storage per user (MiB); the user's oldest go first."
    )
    WEB_ACCESSIBLE_DIRECTORY_PATH: str = Field(
        default="",
        description="Where kept files are stored; empty: Open WebUI's cache directory + "
        "/functions/run_code (served at /cache/functions/run_code).",
    )
    WEB_ACCESSIBLE_DIRECTORY_URL: str = Field(
        default="/cache/functions/run_code",
        description="URL of WEB_ACCESSIBLE_DIRECTORY_PATH.",
    )


class _UserValves(BaseModel):
    MAX_RUNTIME_SECONDS: int = Field(
        default=0,
        ge=0,
        description="Your own, lower time limit in seconds (0: the administrator's limit).",
    )
    MAX_RAM_MEGABYTES: int = Field(
        default=0,
        ge=0,
        description="Your own, lower memory limit in MiB (0: the administrator's limit).",
    )


class _SettingsError(Exception):
    """A valve or CODE_EVAL_VALVE_OVERRIDE_* value that cannot be used."""


@dataclass
class _Settings:
    binary: str
    server: str
    server_token_file: str
    server_ca_file: str
    server_fallback: bool
    networking: bool
    debug: bool
    storage_path: str
    storage_url: str
    env: dict[str, str]


@dataclass
class _Job:
    valves: BaseModel
    user: dict | None
    language: str
    code: str
    attachments: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Outcome:
    result: dict
    settings: _Settings | None
    language: str
    code: str
    inputs: dict[str, str] = field(default_factory=dict)  # name in /work -> sha256


def _valve_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse_bool(text: str, name: str) -> bool:
    if text.strip().lower() in _TRUE:
        return True
    if text.strip().lower() in _FALSE:
        return False
    raise _SettingsError(f'{_ENV_PREFIX}{name}="{text}" is not valid: expected true or false')


def _effective_values(valves: BaseModel) -> dict[str, str]:
    """Valve values as text; a CODE_EVAL_VALVE_OVERRIDE_<NAME> variable wins, read on each call."""
    values = {}
    for name, value in valves.model_dump().items():
        override = os.environ.get(_ENV_PREFIX + name)
        values[name] = override if override is not None else _valve_text(value)
    return values


def _inside_open_webui() -> bool:
    """Open WebUI's modules are only used when it is the running program (importing them
    elsewhere starts a whole server configuration)."""
    return "open_webui.main" in sys.modules or "open_webui.config" in sys.modules


def _default_storage_path() -> str:
    try:
        if not _inside_open_webui():
            raise ImportError("not inside Open WebUI")
        from open_webui.config import CACHE_DIR

        return os.path.join(str(CACHE_DIR), "functions", "run_code")
    except Exception:  # noqa: BLE001 - outside Open WebUI: fall back to $DATA_DIR
        data_dir = os.environ.get("DATA_DIR", "")
        return os.path.join(data_dir, "cache", "functions", "run_code") if data_dir else ""


def _find_binary(configured: str) -> str:
    if configured:
        return configured if "/" in configured else shutil.which(configured) or configured
    return shutil.which("nestbox") or _FALLBACK_BINARY


def _binary_of(valves: BaseModel) -> str:
    return _find_binary(_effective_values(valves)["NESTBOX_BINARY"].strip())


def _settings(valves: BaseModel) -> _Settings:
    values = _effective_values(valves)
    storage_path = values["WEB_ACCESSIBLE_DIRECTORY_PATH"] or _default_storage_path()
    env = {k: v for k, v in os.environ.items() if k in _INHERITED_ENV or k.startswith("NESTBOX_")}
    for name in _NESTBOX_SETTINGS:
        env[_ENV_PREFIX + name] = values[name]
    env[_ENV_PREFIX + "WEB_ACCESSIBLE_DIRECTORY_PATH"] = storage_path
    if not storage_path:
        del env[_ENV_PREFIX + "WEB_ACCESSIBLE_DIRECTORY_PATH"]
    server = values["NESTBOX_SERVER"].strip()
    return _Settings(
        # An HTTP(S) server needs no nestbox program here: it is not even looked for.
        binary="" if _is_http(server) else _binary_of(valves),
        server=server,
        server_token_file=values["NESTBOX_SERVER_TOKEN_FILE"].strip(),
        server_ca_file=values["NESTBOX_SERVER_CA_FILE"].strip(),
        server_fallback=_parse_bool(
            values["NESTBOX_SERVER_FALLBACK_TO_COLD"], "NESTBOX_SERVER_FALLBACK_TO_COLD"
        ),
        networking=values["NETWORKING_ALLOWED"].strip().lower() in _TRUE,
        debug=_parse_bool(values["DEBUG"], "DEBUG"),
        storage_path=storage_path,
        storage_url=values["WEB_ACCESSIBLE_DIRECTORY_URL"].rstrip("/"),
        env=env,
    )


def _redact(text: str) -> str:
    """Hide host paths (anything absolute outside the sandbox's /work and /code)."""
    return _HOST_PATH.sub("[host path]", text or "")


def _made_result(status: str, message: str) -> dict:
    """A result in nestbox's JSON shape, for failures that happen before nestbox answers."""
    return _normalized({"status": status, "message": message})


def _normalized(result: dict) -> dict:
    defaults = {
        "status": "SANDBOX_ERROR",
        "exit_code": None,
        "stdout": "",
        "stderr": "",
        "stdout_truncated": False,
        "stderr_truncated": False,
        "duration_ms": 0,
        "files": [],
        "plugin": None,
        "message": "",
        "notices": [],
        "execution_id": "",
    }
    out = {**defaults, **{k: v for k, v in result.items() if v is not None or k == "exit_code"}}
    if out["status"] not in _STATUSES:
        out["status"] = "SANDBOX_ERROR"
    files = [f for f in out["files"] if isinstance(f, dict) and "path" in f]
    try:
        omitted = max(0, int(out.get("files_omitted") or 0))
    except (TypeError, ValueError):
        omitted = 0
    # Bounded whatever nestbox sent: a few files, short names, no oversized links.
    out["files_omitted"] = omitted + max(0, len(files) - _MAX_FILES_SHOWN)
    out["files"] = [_bounded_file(f) for f in files[:_MAX_FILES_SHOWN]]
    notices = [str(n) for n in out["notices"]] if isinstance(out["notices"], list) else []
    out["notices"] = [_short(n, _MAX_NOTICE_CHARS) for n in notices[:_MAX_NOTICES]]
    return out


def _short(text: str, limit: int) -> str:
    """`text` cut in the middle to at most `limit` characters."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head) :]}"


def _bounded_file(entry: dict) -> dict:
    """A file entry with known keys only, its name shortened; a link too long to use is dropped."""
    out = {"path": _short(str(entry["path"]), _MAX_NAME_CHARS)}
    if isinstance(entry.get("size"), int):
        out["size"] = entry["size"]
    if isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64:
        out["sha256"] = entry["sha256"]
    url, stored = entry.get("url"), entry.get("storage_path")
    if isinstance(url, str) and len(url) <= _MAX_URL_CHARS:
        out["url"] = url
        if isinstance(stored, str):
            out["storage_path"] = stored
        # The first bytes of a file stored in Open WebUI (HTTP mode; never from JSON).
        if isinstance(entry.get("head"), bytes):
            out["head"] = entry["head"]
    return out


def _more_files(result: dict) -> str:
    n = result.get("files_omitted") or 0
    return f"{n} more file{'s' if n != 1 else ''} not shown" if n else ""


def _plugins_from_json(text: str) -> list[dict]:
    plugins = json.loads(text)
    return [
        {
            "name": str(p["name"]),
            "aliases": list(dict.fromkeys([str(p["name"]), *map(str, p.get("aliases") or [])])),
            "description": str(p.get("description") or p["name"]),
            **({"packages": p["packages"]} if isinstance(p.get("packages"), list) else {}),
        }
        for p in plugins
    ]


_plugin_cache: dict[str, list[dict]] = {}


def _installed_plugins(binary: str) -> list[dict]:
    """The installed plugins (`nestbox plugins list --json`), read once per binary."""
    if binary not in _plugin_cache:
        try:
            done = subprocess.run(
                [binary, "plugins", "list", "--json"],
                capture_output=True,
                timeout=20,
                env={
                    k: v
                    for k, v in os.environ.items()
                    if k in _INHERITED_ENV or k.startswith("NESTBOX_")
                },
                check=True,
            )
            _plugin_cache[binary] = _plugins_from_json(done.stdout.decode())
        except Exception as e:  # noqa: BLE001 - any failure falls back to the built-in list
            _log.warning("nestbox: could not list plugins (%s); assuming python and bash", e)
            return [dict(p) for p in _BUILTIN_PLUGINS]
    return _plugin_cache[binary]


def _alias_map(plugins: list[dict]) -> dict[str, str]:
    return {alias.lower(): p["name"] for p in plugins for alias in [p["name"], *p["aliases"]]}


def _plugin_summary(plugins: list[dict]) -> str:
    return "; ".join(
        f"{p['name']} ({', '.join(p['aliases'])}): {p['description']}" for p in plugins
    )


_feature_cache: dict[str, set[str]] = {}


async def _features(settings: _Settings) -> set[str]:
    """The optional `nestbox run` flags this binary has (read from its --help once per version
    of the file)."""
    try:
        key = f"{settings.binary}:{os.stat(settings.binary).st_mtime_ns}"
    except OSError:
        return set()  # running it will say what is wrong
    if key not in _feature_cache:
        try:
            proc = await asyncio.create_subprocess_exec(
                settings.binary,
                "run",
                "--help",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                env=settings.env,
                start_new_session=True,
            )
        except OSError:
            return set()  # running it will say what is wrong
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 20)
        except TimeoutError:
            return set()  # running it will say what is wrong
        finally:
            await _kill(proc)
        _feature_cache[key] = set(re.findall(r"--[a-z][a-z-]+", out.decode()))
    return _feature_cache[key]


def _strip_fences(code: str) -> str:
    """Remove a ``` fence (with or without a language tag) that the model wrapped around the code."""
    text = code.strip()
    fenced = re.fullmatch(r"(`{3,}|~{3,})[^\n`]*\n(.*?)\n?\1\s*", text, re.DOTALL)
    if fenced:
        return fenced.group(2)
    if text.count("\n") == 0 and len(text) > 1 and text.startswith("`") and text.endswith("`"):
        return text.strip("`").strip()
    return code


def _safe_name(name: str, taken: set[str]) -> str:
    base = os.path.basename(name.replace("\\", "/")) or "file"
    base = "".join(c if c.isprintable() and c not in "/\0" else "_" for c in base).lstrip(".")
    base = (base or "file")[:120]
    stem, ext = os.path.splitext(base)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{stem} ({n}){ext}", n + 1
    taken.add(candidate)
    return candidate


def _stage_inputs(
    attachments: list[tuple[str, str]], directory: str
) -> tuple[dict[str, str], list[str]]:
    """Copy each attachment under its own (sanitised) name, so the code sees data.csv, not a
    storage name; nestbox copies these into /work read-only. Returns path -> sha256."""
    staged, taken, notes = {}, set(), []
    for name, source in attachments:
        target = os.path.join(directory, _safe_name(name, taken))
        try:
            shutil.copyfile(source, target, follow_symlinks=False)
            with open(target, "rb") as f:
                staged[target] = hashlib.file_digest(f, "sha256").hexdigest()
        except OSError as e:
            _log.warning("nestbox: attachment %s unreadable: %s", source, e)
            notes.append(f"attached file {os.path.basename(target)} could not be read")
    return staged, notes


async def _resolve_attachments(
    items: list, user: dict | None
) -> tuple[list[tuple[str, str]], list[str]]:
    """Chat files (`__files__` items) the user may read, as (name, path on this server).

    Only the file id is taken from the request; the path comes from Open WebUI's own database,
    and the user must own the file (or be an admin, or have been granted read access)."""
    wanted = []
    for item in items or []:
        if not isinstance(item, dict) or item.get("type", "file") not in ("file", "image"):
            continue
        fid = item.get("id") or (item.get("file") or {}).get("id") or item.get("url") or ""
        usable = isinstance(fid, str) and fid and not fid.startswith(("http", "data:", "/"))
        if usable and fid not in [w for w, _ in wanted]:
            wanted.append((fid, item.get("name")))
    if not wanted:
        return [], []
    if not _inside_open_webui():
        return [], ["attached files are only available inside Open WebUI"]
    try:
        from open_webui.models.files import Files
        from open_webui.storage.provider import Storage
    except Exception:  # noqa: BLE001 - not running inside Open WebUI
        return [], ["attached files are only available inside Open WebUI"]
    found, notes = [], []
    for fid, name in wanted:
        record = await Files.get_file_by_id(fid)
        if record is None or not record.path or not await _may_read(record, user or {}):
            notes.append(f"attached file {name or fid} is not available to this user")
            continue
        path = await asyncio.to_thread(Storage.get_file, record.path)
        found.append((name or record.filename, path))
    return found, notes


async def _may_read(record: Any, user: dict) -> bool:
    if user.get("id") and (record.user_id == user.get("id") or user.get("role") == "admin"):
        return True
    try:
        from open_webui.models.users import UserModel
        from open_webui.utils.access_control.files import has_access_to_file

        return bool(await has_access_to_file(record.id, "read", UserModel(**user)))
    except Exception:  # noqa: BLE001 - deny when the check itself fails
        return False


def _user_valve(user: dict | None, name: str) -> int:
    valves = (user or {}).get("valves")
    value = getattr(valves, name, None) if not isinstance(valves, dict) else valves.get(name)
    return value if isinstance(value, int) and value > 0 else 0


def _tighter(user_limit: int, admin_text: str) -> int:
    """The lower of a user's limit (0: none) and the administrator's (malformed: none; the
    nestbox run reports it)."""
    text = admin_text.strip()
    admin = int(text) if text.isdigit() else 0
    return min(n for n in (user_limit, admin) if n > 0) if user_limit > 0 or admin > 0 else 0


async def _argv(job: _Job, settings: _Settings) -> tuple[list[str], list[str]]:
    """The `nestbox run` command line, and notices about what this nestbox cannot do."""
    argv, notes = [settings.binary, "run", "--json", "--lang", job.language], []
    flags = await _features(settings)
    runtime = _user_valve(job.user, "MAX_RUNTIME_SECONDS")
    ram = _user_valve(job.user, "MAX_RAM_MEGABYTES")
    if settings.server:
        if "--server" not in flags:
            raise _SettingsError(
                "NESTBOX_SERVER is set, but this nestbox has no --server: upgrade nestbox or "
                "clear NESTBOX_SERVER"
            )
        # The server applies its own settings, not this process's: the administrator's limits
        # go with the run (they can only tighten the server's). The token goes by file or
        # environment, never on the command line.
        values = _effective_values(job.valves)
        runtime = _tighter(runtime, values["MAX_RUNTIME_SECONDS"])
        ram = _tighter(ram, values["MAX_RAM_MEGABYTES"])
        argv += ["--server", settings.server]
        if settings.server_token_file:
            argv += ["--token-file", settings.server_token_file]
        if settings.server_fallback:
            argv += ["--fallback-to-cold"]
    if runtime:
        argv += ["--max-runtime-seconds", str(runtime)]
    if ram:
        argv += ["--max-ram-mb", str(ram)]
    user_id = str((job.user or {}).get("id") or "")
    if user_id and "--keep-files-for" in flags:
        argv += ["--keep-files-for", user_id]
    elif user_id and flags:
        notes.append("files are listed but not kept: this nestbox has no --keep-files-for")
    return argv, notes


async def _kill(proc: asyncio.subprocess.Process) -> None:
    """Stop nestbox and everything it started (its own process group), gently first."""
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        if proc.returncode is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(proc.wait(), wait)
        except TimeoutError:
            continue


async def _spawn(argv: list[str], env: dict[str, str], code: str, deadline: float) -> dict:
    """Run nestbox without blocking the event loop; always returns a result dict."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except (FileNotFoundError, NotADirectoryError):
        _log.error("nestbox: binary not found: %s", argv[0])
        return _made_result(
            "SANDBOX_ERROR",
            "the nestbox program was not found. fix: install it (see nestbox's open-webui/README.md) "
            "or set the NESTBOX_BINARY valve to its path, then run `nestbox doctor`",
        )
    except PermissionError:
        _log.error("nestbox: binary not executable: %s", argv[0])
        return _made_result(
            "SANDBOX_ERROR",
            "the nestbox program cannot be executed (permissions). fix: `chmod 755` it or set "
            "NESTBOX_BINARY, then run `nestbox doctor`",
        )
    try:
        out, err = await asyncio.wait_for(proc.communicate(code.encode()), deadline)
    except TimeoutError:
        _log.error("nestbox: no answer after %.0f s; killed", deadline)
        return _made_result(
            "SANDBOX_ERROR",
            f"nestbox did not answer within {deadline:.0f} s and was stopped. fix: run "
            "`nestbox doctor` on the server",
        )
    finally:
        await _kill(proc)
    return _parsed(out, err, proc.returncode)


def _parsed(out: bytes, err: bytes, returncode: int | None) -> dict:
    if err.strip():
        _log.info("nestbox stderr: %s", err.decode(errors="replace").strip()[-4000:])
    try:
        result = json.loads(out.decode())
        if isinstance(result, dict) and result.get("status") in _STATUSES:
            return _normalized(result)
    except ValueError:
        pass
    _log.error("nestbox exited with %s without a JSON result: %r", returncode, out[:2000])
    return _made_result(
        "SANDBOX_ERROR",
        f"nestbox exited with status {returncode} without its JSON result (it may have crashed "
        "or be a different version). fix: run `nestbox doctor` on the server; details are in the "
        "server log",
    )


async def _progress(emitter: _Emitter, label: str) -> None:
    started = time.monotonic()
    while True:
        await asyncio.sleep(_PROGRESS_EVERY_SECONDS)
        elapsed = time.monotonic() - started
        await _status(emitter, f"Running {label}… {elapsed:.0f} s", done=False)


async def _execute(
    job: _Job, emitter: _Emitter, label: str, settings: _Settings | None = None
) -> _Outcome:
    """Run one job through nestbox; every failure comes back as a result, never an exception."""
    try:
        settings = settings or _settings(job.valves)
        argv, notes = [], []
        if not _is_http(settings.server):
            argv, notes = await _argv(job, settings)
    except _SettingsError as e:
        return _Outcome(_made_result("INVALID_INPUT", str(e)), None, job.language, job.code)
    if settings.server and settings.networking:
        # A server would run the code without network whatever this valve says: refuse, as a
        # fresh sandbox does, rather than ignore it.
        refused = _made_result(
            "SANDBOX_ERROR",
            "NETWORKING_ALLOWED is true, but nestbox gives code no network (the only network "
            "gVisor could offer is the host's own). fix: set it to false",
        )
        return _Outcome(refused, settings, job.language, job.code)
    if _is_http(settings.server):
        return await _execute_http(job, settings, emitter, label)
    runtime = _effective_values(job.valves)["MAX_RUNTIME_SECONDS"].strip()
    deadline = (int(runtime) if runtime.isdigit() else 30) + _CHILD_GRACE_SECONDS
    ticker = asyncio.create_task(_progress(emitter, label))
    staging = await asyncio.to_thread(tempfile.mkdtemp, prefix="nestbox-inputs-")
    result = None
    try:
        inputs, missing = await asyncio.to_thread(_stage_inputs, job.attachments, staging)
        notes += missing
        size = await asyncio.to_thread(_request_bytes, inputs, job.code)
        if settings.server and inputs and size > _SERVER_MAX_REQUEST_BYTES:
            if not settings.server_fallback:
                result = _made_result("SANDBOX_ERROR", _too_big_for_server())
            else:
                _log.warning("nestbox: attachments too large for the server; running cold")
                settings = dataclasses.replace(settings, server="")
                argv, _ = await _argv(job, settings)
                notes.append(
                    "the attached files are too large to send to the nestbox server; ran in a "
                    "fresh sandbox instead"
                )
        if result is None:
            for path in inputs:
                argv += ["--input-file", path]
            if settings.debug:
                _log.info("nestbox: running %s", argv)
            result = await _spawn(argv, settings.env, job.code, deadline)
    finally:
        ticker.cancel()
        await asyncio.to_thread(shutil.rmtree, staging, True)
    if settings.server:
        result = _server_result(result)
        await asyncio.to_thread(_check_server_storage, result, settings)
    result["notices"] = [*notes, *result["notices"]]
    names = {os.path.basename(path): digest for path, digest in inputs.items()}
    return _Outcome(result, settings, job.language, job.code, names)


# `nestbox serve` refuses requests over 112 MiB (MAX_REQUEST_BYTES in host/src/server/api.rs);
# input files travel in them as base64.
_SERVER_MAX_REQUEST_BYTES = 112 * 1024 * 1024


def _request_bytes(inputs: dict[str, str], code: str) -> int:
    """About the size of the server request that carries this code and these files."""
    files = sum(4 * ((os.path.getsize(path) + 2) // 3) + 64 for path in inputs)
    return files + len(code.encode()) + 1024


_SERVER_FIX = (
    "clear NESTBOX_SERVER to run each piece of code in a fresh sandbox, or set "
    "NESTBOX_SERVER_FALLBACK_TO_COLD to true"
)
_TOKEN_FIX = (
    "fix: set the NESTBOX_SERVER_TOKEN_FILE valve to the file the server reads its token from "
    "(its --token-file, or serve.token in its state directory), or give Open WebUI's process "
    "the server's token as the environment variable NESTBOX_SERVER_TOKEN"
)


def _too_big_for_server() -> str:
    cap = _SERVER_MAX_REQUEST_BYTES // (1024 * 1024)
    return (
        "the code and its attached files are too large to send to the nestbox server (it takes up "
        f"to {cap} MiB per run: about {cap * 3 // 4} MiB of files). fix: attach smaller files, or "
        + _SERVER_FIX
    )


def _server_problem(message: str) -> str | None:
    """The plain message for a `nestbox run --server` that could not use the server, naming
    the valves to change (nestbox's own names its command-line flags), or None."""
    why = re.search(r": ([^:]*\(os error \d+\))", message)
    detail = f" ({why.group(1)})" if why else ""
    if message.startswith("cannot reach nestbox serve"):
        return (
            f"the nestbox server in NESTBOX_SERVER cannot be reached{detail}. fix: start "
            f"`nestbox serve` there, or {_SERVER_FIX}"
        )
    if message.startswith("no token for the server"):
        return (
            "there is no token for the nestbox server: NESTBOX_SERVER_TOKEN_FILE is empty, "
            f"NESTBOX_SERVER_TOKEN is not set and the server's serve.token is not readable here. "
            f"{_TOKEN_FIX}"
        )
    if message.startswith("reading the token file"):
        return f"the file in NESTBOX_SERVER_TOKEN_FILE cannot be read{detail}. {_TOKEN_FIX}"
    answered = re.match(r"nestbox serve at .*? answered (\d{3})", message)
    if not answered:
        return None
    code = int(answered.group(1))
    if code == 401:
        return f"the nestbox server refused the token (missing or wrong). {_TOKEN_FIX}"
    if code == 413:
        return _too_big_for_server()
    if code == 429:
        return (
            "the nestbox server is busy (its queue is full). fix: try again in a moment, start "
            "it with a larger --max-concurrency or --max-queue, or " + _SERVER_FIX
        )
    if code == 503:
        return (
            f"the nestbox server is shutting down. fix: try again once it is back, or {_SERVER_FIX}"
        )
    return f"the nestbox server answered HTTP {code}. fix: see the server's log, or {_SERVER_FIX}"


def _server_result(result: dict) -> dict:
    """Say server failures in Open WebUI's terms; log a fallback to a fresh sandbox."""
    for notice in result["notices"]:
        if "--fallback-to-cold" in notice:
            _log.warning("nestbox: the server was not used: %s", notice)
    if result["status"] != "SANDBOX_ERROR" or (result.get("sandbox") or {}).get("outer"):
        return result
    plain = _server_problem(result["message"])
    if plain is None:
        return result
    _log.error("nestbox: the server could not be used: %s", result["message"])
    return {**result, "message": plain}


def _check_server_storage(result: dict, settings: _Settings) -> None:
    """Kept files land in the server's storage: warn when it is not the one Open WebUI serves
    (the links would not work)."""
    for entry in result["files"]:
        if not entry.get("url"):
            continue
        path = _stored_path(entry, settings)
        if path is None or not os.path.isfile(path):
            _log.warning(
                "nestbox: the server kept %s at %s, outside WEB_ACCESSIBLE_DIRECTORY_PATH/URL "
                "here: start `nestbox serve` with the same CODE_EVAL_VALVE_OVERRIDE_WEB_"
                "ACCESSIBLE_DIRECTORY_PATH and _URL as Open WebUI",
                entry["path"],
                entry["url"],
            )
            return


async def _emit(emitter: _Emitter, kind: str, data: dict) -> None:
    if emitter is None:
        return
    try:
        await emitter({"type": kind, "data": data})
    except Exception as e:  # noqa: BLE001 - a broken event stream must not lose the result
        _log.warning("nestbox: event emitter failed: %s", e)


async def _status(emitter: _Emitter, text: str, done: bool) -> None:
    await _emit(emitter, "status", {"description": text, "done": done, "hidden": False})


def _title(language: str) -> str:
    return {"python": "Python", "bash": "Bash"}.get(language, language.capitalize())


def _seconds(result: dict) -> str:
    return f"{(result.get('duration_ms') or 0) / 1000:.1f} s"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _syntax_error(result: dict, language: str) -> str:
    """'line N: what is wrong' when the code did not parse, else ''."""
    stderr = result.get("stderr") or ""
    if language == "python":
        kind = re.search(r"^(SyntaxError|IndentationError|TabError): (.*)$", stderr, re.MULTILINE)
        where = re.search(r'^  File "(?:/code/)?main\.py", line (\d+)', stderr, re.MULTILINE)
        if kind and not stderr.lstrip().startswith("Traceback"):
            line = f"line {where.group(1)}: " if where else ""
            return f"{line}{kind.group(2)}"
    elif result.get("exit_code") == 2:
        bad = re.search(r"line (\d+): (syntax error.*|unexpected EOF.*)$", stderr, re.MULTILINE)
        if bad:
            return f"line {bad.group(1)}: {bad.group(2)}"
    return ""


def _headline(result: dict, language: str) -> str:
    """One plain sentence for the user: what happened and, for failures, what to do."""
    status, title = result["status"], _title(language)
    message = _redact(result.get("message") or "").rstrip(".")
    if status == "OK":
        return f"{title} code ran successfully in {_seconds(result)}"
    if status == "ERROR":
        syntax = _syntax_error(result, language)
        if syntax:
            return f"{title} syntax error on {syntax}"
        last = _last_line(result.get("stderr"))
        tail = f": {last}" if last else ""
        return f"{title} code failed with exit status {result.get('exit_code')}{tail}"
    if status == "TIMEOUT":
        return f"Timed out: {message or 'the code ran too long'} (output so far is kept)"
    if status == "MEMORY_LIMIT":
        return f"Out of memory: {message or 'the code used more than its memory limit'}"
    if status == "OUTPUT_LIMIT":
        return f"Too much output: {message or 'the code printed more than the limit'} (the first part is kept)"
    if status == "INVALID_INPUT":
        return f"Could not run the code: {message}"
    if status == "STORAGE_ERROR":
        return f"The code ran, but its files could not be kept: {message}"
    own_fix = "nestbox doctor" in message or "NESTBOX_SERVER" in message
    doctor = "" if own_fix else " Then run `nestbox doctor` on the server."
    return f"The code sandbox is not working: {message}.{doctor}"


def _debug_suffix(result: dict) -> str:
    plugin = result.get("plugin") or {}
    sandbox = result.get("sandbox") or {}
    parts = [
        f"{plugin.get('name', '?')} {plugin.get('version', '?')}",
        _seconds(result),
        f"fuel {result.get('fuel_used', 0)}",
        f"memory {result.get('peak_memory_bytes', 0) / 1048576:.1f} MiB",
        f"{sandbox.get('outer', '?')}/{sandbox.get('platform', '?')}"
        + (" pooled" if sandbox.get("pooled") else ""),
        f"id {result.get('execution_id') or '-'}",
    ]
    return " [" + "; ".join(parts) + "]"


def _conclusion(outcome: _Outcome) -> str:
    """The run's one-sentence headline (logged; with DEBUG on, with the run's details)."""
    text = _headline(outcome.result, outcome.language)
    _log.info("nestbox: %s: %s", outcome.result["status"], text)
    debug = outcome.settings.debug if outcome.settings else False
    return text + (_debug_suffix(outcome.result) if debug else "")


async def _final_status(emitter: _Emitter, outcome: _Outcome) -> str:
    """Say how the run went on the status line; returns the headline without debug details."""
    text = _headline(outcome.result, outcome.language)
    await _status(emitter, _conclusion(outcome), done=True)
    return text


def _fence(text: str, tag: str = "") -> str:
    """A fenced block that the text itself cannot close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{tag}\n{text.rstrip(chr(10))}\n{ticks}"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _md_text(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)


def _printable(name: str) -> str:
    """A file name with its control and format characters (newlines, bidi overrides) as U+FFFD."""
    return "".join("\ufffd" if unicodedata.category(c)[0] == "C" else c for c in name)


def _md_name(name: str) -> str:
    """A file name as a link's label: printable, and every character Markdown or HTML could read
    as syntax escaped, so a name such as `a](javascript:x).png` stays text."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~&:$=-])", r"\\\1", _printable(name))


def _md_alt(name: str) -> str:
    """A file name as an image's alt text: printable, with only what could end or stretch the
    brackets escaped (Open WebUI's Markdown, marked, keeps any other backslash in alt text;
    alt text is never rendered as Markdown)."""
    return re.sub(r"([\\`\[\]<>])", r"\\\1", _printable(name))


def _md_code(text: str) -> str:
    """A code span that shows `text` as it is (no links, no HTML), whatever backticks it holds."""
    text = _printable(text)
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = text[:1] == "`" or text[-1:] == "`" or (text[:1] == " " and text[-1:] == " ")
    return f"{ticks} {text} {ticks}" if pad else f"{ticks}{text}{ticks}"


def _md_url(url: str) -> str:
    return urllib.parse.quote(url, safe="/:%?#=&@!$'*+,;~-._")


def _stored_path(entry: dict, settings: _Settings) -> str | None:
    """The file behind a kept file's URL, if it is inside the storage directory."""
    url, root = entry.get("url") or "", settings.storage_path
    prefix = settings.storage_url + "/"
    if not root or not url.startswith(prefix):
        return None
    root = os.path.realpath(root)
    path = os.path.realpath(os.path.join(root, urllib.parse.unquote(url[len(prefix) :])))
    return path if path.startswith(root + os.sep) else None


def _inline_text(entry: dict, settings: _Settings) -> str | None:
    """The file's text when it is small enough to show in the chat, else None."""
    if entry.get("size", 0) > _INLINE_MAX_BYTES:
        return None
    data = _stored_head(entry, settings, _INLINE_MAX_BYTES + 1)
    if data is None:
        return None
    if hashlib.sha256(data).hexdigest() != entry.get("sha256") or b"\0" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "```" in text or len(text.splitlines()) > _INLINE_MAX_LINES:
        return None
    return text


# Shown inline (as pictures) only when the name, the kept file's URL and the file's first bytes
# all say PNG, JPEG, GIF or WebP; anything else (SVG above all) is a link.
_INLINE_IMAGE_TYPES = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".gif": "gif",
    ".webp": "webp",
}
_IMAGE_MAGIC = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
}


def _image_kind(data: bytes) -> str | None:
    for kind, signatures in _IMAGE_MAGIC.items():
        if data.startswith(signatures):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _extension_kind(name: str) -> str | None:
    return _INLINE_IMAGE_TYPES.get(os.path.splitext(name)[1].lower())


def _stored_head(entry: dict, settings: _Settings | None, n: int) -> bytes | None:
    """The first `n` bytes of a kept file: from memory for a file stored in Open WebUI (HTTP
    mode), else read from the storage directory (never through a link); None if unreadable."""
    if not entry.get("url"):
        return None
    if isinstance(entry.get("head"), bytes):
        return entry["head"][:n]
    path = _stored_path(entry, settings) if settings else None
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            return f.read(n)
    except OSError:
        return None


def _is_inline_image(entry: dict, settings: _Settings | None) -> bool:
    """True for a kept, non-empty PNG, JPEG, GIF or WebP file: its name ends in that type's
    extension, the stored file starts with that type's signature, and it is served as that type
    (the kept file's URL ends in the same extension; Open WebUI serves the ones it stores with
    the type this Tool gave them, image/* only for such files)."""
    url = entry.get("url") or ""
    kind = _extension_kind(str(entry["path"]))
    if not kind or not entry.get("size"):
        return False
    if not isinstance(entry.get("head"), bytes) and kind != _extension_kind(url.split("?")[0]):
        return False
    head = _stored_head(entry, settings, 16)
    return head is not None and _image_kind(head) == kind


def _file_markdown(entry: dict, settings: _Settings | None) -> str:
    name, size, url = str(entry["path"]), int(entry.get("size") or 0), entry.get("url")
    if not url:
        return f"- 📄 {_md_code(name)} ({_size(size)}, not kept)"
    link = f"[{_md_name(name)}]({_md_url(url)})"
    if size == 0:
        return f"- ⁉ {link} (empty)"
    if _is_inline_image(entry, settings):
        return f"- 🖼 {link} ({_size(size)})\n\n  ![{_md_alt(name)}]({_md_url(url)})"
    text = _inline_text(entry, settings) if settings else None
    if text is not None:
        return f"- 📄 {link}:\n\n{_fence(text, 'text')}"
    return f"- 💾 {link} ({_size(size)})"


async def _files_markdown(outcome: _Outcome) -> str:
    files, more = _output_files(outcome), _more_files(outcome.result)
    if not files and not more:
        return ""
    lines = await asyncio.to_thread(lambda: [_file_markdown(f, outcome.settings) for f in files])
    lines += [f"- … {more}"] if more else []
    return "**Files**\n\n" + "\n".join(lines)


def _output_files(outcome: _Outcome) -> list[dict]:
    """Files the code left, without the attachments it was given (unchanged inputs)."""
    given = outcome.inputs
    return [f for f in outcome.result["files"] if given.get(f["path"]) != f.get("sha256")]


def _clip(text: str) -> tuple[str, bool]:
    if len(text) <= _MODEL_OUTPUT_CHARS:
        return text, False
    head, tail = text[: _MODEL_OUTPUT_CHARS * 3 // 4], text[-_MODEL_OUTPUT_CHARS // 4 :]
    return (
        f"{head}\n[... {len(text) - len(head) - len(tail)} characters not shown ...]\n{tail}",
        True,
    )


def _for_model(outcome: _Outcome, headline: str, images: list[dict] | None = None) -> dict:
    """What the model reads: status, the plain message, both output streams and the files
    (name, size, link; no storage paths or hashes). `ok` is false for every status but OK."""
    result = outcome.result
    stdout, cut_out = _clip(result["stdout"])
    stderr, cut_err = _clip(result["stderr"])
    shown = {f["path"] for f in images or []}
    answer = {
        "status": result["status"],
        "ok": result["status"] == "OK",
        "language": outcome.language,
        "message": headline,
        "exit_code": result["exit_code"],
        "stdout": stdout,
        "stderr": stderr,
        "stdout_truncated": bool(result["stdout_truncated"] or cut_out),
        "stderr_truncated": bool(result["stderr_truncated"] or cut_err),
        "files": [
            {
                **{k: f[k] for k in ("path", "size", "url") if k in f},
                **({"shown_to_user": True} if f["path"] in shown else {}),
            }
            for f in _output_files(outcome)
        ],
        "notices": [_redact(n) for n in result["notices"]],
    }
    if result["files_omitted"]:
        answer["files_not_shown"] = result["files_omitted"]
    return answer


def _plain_name(name: str) -> str:
    """A file name on a line of its own: as it is, or JSON-quoted when it holds a character that
    would not read as itself (a newline, a bidi override) or could be taken for syntax."""
    if (
        name.isprintable()
        and name == name.strip()
        and not name.startswith('"')
        and ": " not in name
    ):
        return name
    return json.dumps(name, ensure_ascii=False)


def _model_text(answer: dict) -> str:
    """The answer as the tool's result: plain text that reads the same to the model and in Open
    WebUI's "View Result" (which shows JSON escaped, on one line per value). A failure starts
    with "Error:", which is how Open WebUI 0.12.4 marks a tool result as failed (red cross)."""
    first = answer["message"] if answer["ok"] else f"Error: {answer['message']}"
    code = answer["exit_code"]
    exit_code = f", exit code {code}" if code is not None else ""
    lines = [first, f"status: {answer['status']}, language: {answer['language']}{exit_code}"]
    for key in ("stdout", "stderr"):
        if answer[key]:
            cut = " (truncated)" if answer[f"{key}_truncated"] else ""
            lines += [f"{key}{cut}:", _fence(answer[key])]
    if answer["files"]:
        lines.append("files (with their download links):")
        for f in answer["files"]:
            size = f" ({f['size']} bytes{', shown to the user' if f.get('shown_to_user') else ''})"
            size = size if "size" in f else ""
            link = f": {f['url']}" if f.get("url") else " (not kept)"
            lines.append(f"- {_plain_name(f['path'])}{size}{link}")
    if answer.get("files_not_shown"):
        lines.append(f"({answer['files_not_shown']} more files not shown)")
    if any(f.get("shown_to_user") for f in answer["files"]):
        lines.append(
            "The images shown to the user are already in the chat with this reply: do not repeat "
            "them as Markdown images; refer to them by name."
        )
    if answer["notices"]:
        lines += ["notices:", *(f"- {n}" for n in answer["notices"])]
    return "\n".join(lines)


def _output_markdown(outcome: _Outcome, headline: str) -> str:
    """The run's output for people: status line, stdout and stderr (both, even on failure)."""
    result, parts = outcome.result, [f"**{_md_text(headline)}**"]
    if result["stdout"]:
        cut = " (truncated)" if result["stdout_truncated"] else ""
        parts.append(f"Output{cut}:\n{_fence(result['stdout'], 'text')}")
    if result["stderr"]:
        cut = " (truncated)" if result["stderr_truncated"] else ""
        parts.append(f"Errors{cut}:\n{_fence(result['stderr'], 'text')}")
    if not result["stdout"] and not result["stderr"] and result["status"] == "OK":
        parts.append("(no output)")
    if outcome.settings and outcome.settings.debug and result["notices"]:
        parts.append("\n".join(f"- {_md_text(_redact(n))}" for n in result["notices"]))
    return "\n\n".join(parts)


# (16px: the rounding Open WebUI gives the frame itself.)
# The block follows Open WebUI's theme when the frame may look at its page (the
# iframeSandboxAllowSameOrigin setting: the page's <html> has the class `dark`); otherwise the
# computer's, and either way it paints its own background, so its text is readable whatever
# the page behind it.
_EMBED_STYLE = (
    ":root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--bg:#ffffff;--code:#f3f4f6;"
    "--line:#d1d9e0;--link:#0b57d0}"
    ":root.dark{color-scheme:dark;--fg:#e6e6e6;--muted:#a0a7b0;--bg:#171717;--code:#262626;"
    "--line:#3a3a3a;--link:#8ab4f8}"
    "html,body{margin:0;padding:0;background:var(--bg);color:var(--fg)}"
    "body{font:14px/1.45 system-ui,sans-serif;display:flow-root;padding:8px 10px;"
    "box-sizing:border-box;border:1px solid var(--line);border-radius:16px}"
    "summary{cursor:pointer;font-weight:600}"
    "h4{margin:8px 0 4px;font-size:13px;color:var(--muted)}"
    "pre{background:var(--code);color:var(--fg);margin:0;padding:8px;border-radius:6px;"
    "overflow:auto;white-space:pre-wrap;word-break:break-word}"
    "ul{margin:4px 0 0;padding-left:20px}li{margin:2px 0}li pre{margin-top:4px}"
    "a{color:var(--link)}"
)
# Dark or light as above; then the height of the content, sent to Open WebUI
# (FullHeightIframe.svelte sets the frame's height from an `iframe:height` message) on load,
# when a <details> opens or closes, and whenever the content changes size. The body is
# measured: the document's scroll height never drops below the frame's own.
_EMBED_SCRIPT = (
    "(function(){var r=document.documentElement,dark;"
    "try{dark=window.parent.document.documentElement.classList.contains('dark')}"
    "catch(e){dark=window.matchMedia('(prefers-color-scheme: dark)').matches}"
    "r.classList.toggle('dark',dark);"
    "function send(){var b=document.body;if(!b)return;"
    "var h=Math.ceil(b.getBoundingClientRect().height);"
    "window.parent.postMessage({type:'iframe:height',height:h},'*')}"
    "window.addEventListener('load',send);"
    "document.addEventListener('toggle',send,true);"
    "if(window.ResizeObserver)new ResizeObserver(send).observe(document.body);send()})();"
)


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def _file_html(entry: dict, settings: _Settings | None) -> str:
    name, size, url = str(entry["path"]), int(entry.get("size") or 0), entry.get("url")
    shown = html.escape(_printable(name))
    if not url:
        return f"<li><code>{shown}</code> ({_size(size)}, not kept)</li>"
    link = f'<a href="{html.escape(_md_url(url))}" target="_blank" rel="noopener">{shown}</a>'
    text = _inline_text(entry, settings) if settings and not _extension_kind(name) else None
    inline = _pre(text) if text is not None else ""
    return f"<li>{link} ({_size(size)}){inline}</li>"


def _embed_html(outcome: _Outcome, files: list[str]) -> str:
    """The block shown under the status line: the code (collapsed), the output and the files.
    The status line already says how the run went, so the block does not say it again."""
    result, lang = outcome.result, outcome.language
    lines = len(outcome.code.splitlines())
    code = (
        f"<details><summary>{html.escape(_title(lang))} code ({lines} line"
        f"{'s' if lines != 1 else ''})</summary>{_pre(outcome.code)}</details>"
    )
    parts = [code]
    for label, key in (("Output", "stdout"), ("Errors", "stderr")):
        if result[key]:
            cut = " (truncated)" if result[f"{key}_truncated"] else ""
            parts.append(f"<h4>{label}{cut}</h4>{_pre(result[key])}")
    if not result["stdout"] and not result["stderr"]:
        parts.append("<h4>No output</h4>")
    more = _more_files(result)
    items = "".join(files) + (f"<li>… {html.escape(more)}</li>" if more else "")
    if items:
        parts.append(f"<h4>Files</h4><ul>{items}</ul>")
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><style>{_EMBED_STYLE}</style></head>'
        f"<body>{''.join(parts)}<script>{_EMBED_SCRIPT}</script></body></html>"
    )
