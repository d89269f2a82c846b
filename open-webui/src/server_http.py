# ---- HTTP mode: NESTBOX_SERVER is an http:// or https:// URL ----
# The Tool and the Action call `POST /v1/run` themselves with aiohttp (which Open WebUI ships),
# so Open WebUI's image needs neither nestbox nor runsc. The server returns the files' contents
# in its result (`return_files`), and they are stored in Open WebUI's own file storage, owned by
# the user and served at /api/v1/files/{id}/content (as Open WebUI's code interpreter stores its
# images): every Open WebUI replica serves them, whichever nestbox pod ran the code.

_HTTP_SCHEMES = ("http://", "https://")
# Marks the files this Tool stored in Open WebUI (meta.data), for the per-user quotas.
_STORED_MARK = "nestbox"
# Types Open WebUI may show inline as text (it serves text/plain inline, everything else but
# PDF as a download); an image is only ever an image when its bytes say so.
_TEXT_TYPES = (".txt", ".csv", ".tsv", ".json", ".md", ".log", ".py", ".sh", ".yaml", ".yml")
_HTTP_TOKEN_FIX = (
    "fix: set the NESTBOX_SERVER_TOKEN_FILE valve to a file holding the server's token (the "
    "file its --token-file reads), or give Open WebUI's process the token as the environment "
    "variable NESTBOX_SERVER_TOKEN"
)


class _HttpProblem(Exception):
    """The server could not be used; the message is for people and names the fix. `retry`: a
    fresh sandbox may be used instead (NESTBOX_SERVER_FALLBACK_TO_COLD)."""

    def __init__(self, message: str, retry: bool = False) -> None:
        super().__init__(message)
        self.retry = retry


def _is_http(server: str) -> bool:
    return server.lower().startswith(_HTTP_SCHEMES)


def _http_token(settings: _Settings) -> str:
    """The bearer token: the valve's file, else NESTBOX_SERVER_TOKEN. Never shown anywhere."""
    if settings.server_token_file:
        try:
            with open(settings.server_token_file, encoding="utf-8") as f:
                token = f.read(4096).strip()
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
            raise _HttpProblem(
                f"the file in NESTBOX_SERVER_TOKEN_FILE cannot be read ({why}). {_HTTP_TOKEN_FIX}"
            ) from None
        if not token:
            raise _HttpProblem(f"the file in NESTBOX_SERVER_TOKEN_FILE is empty. {_HTTP_TOKEN_FIX}")
        return token
    token = os.environ.get("NESTBOX_SERVER_TOKEN", "").strip()
    if not token:
        raise _HttpProblem(
            "there is no token for the nestbox server: NESTBOX_SERVER_TOKEN_FILE is empty and "
            f"NESTBOX_SERVER_TOKEN is not set. {_HTTP_TOKEN_FIX}"
        )
    return token


def _http_ssl(settings: _Settings) -> Any:
    """The TLS context for an https:// server: the system's CAs, or only NESTBOX_SERVER_CA_FILE."""
    if not settings.server.lower().startswith("https://"):
        return None
    try:
        if settings.server_ca_file:
            return ssl.create_default_context(cafile=settings.server_ca_file)
        return ssl.create_default_context()
    except (OSError, ssl.SSLError) as e:
        why = getattr(e, "strerror", None) or getattr(e, "reason", None) or type(e).__name__
        raise _HttpProblem(
            f"the CA file in NESTBOX_SERVER_CA_FILE cannot be used ({why}). fix: set it to the "
            "PEM file of the certificate (or its CA) that the server's --tls-cert holds"
        ) from None


def _http_url(settings: _Settings, route: str) -> str:
    return settings.server.rstrip("/") + route


def _server_name(settings: _Settings) -> str:
    """The server as the messages name it: scheme, host and port (never a path or a token)."""
    parts = urllib.parse.urlsplit(settings.server)
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}"


def _http_job(job: _Job, files: list[tuple[str, bytes]]) -> dict:
    """The API job: the code, its limits (the lower of the user's and the administrator's:
    the server's own settings apply, and a request may only tighten them), the attachments as
    content, and the files back as content (the server keeps nothing)."""
    values = _effective_values(job.valves)
    body: dict[str, Any] = {"language": job.language, "code": job.code, "return_files": True}
    runtime = _tighter(_user_valve(job.user, "MAX_RUNTIME_SECONDS"), values["MAX_RUNTIME_SECONDS"])
    ram = _tighter(_user_valve(job.user, "MAX_RAM_MEGABYTES"), values["MAX_RAM_MEGABYTES"])
    if runtime:
        body["max_runtime_seconds"] = runtime
    if ram:
        body["max_ram_mb"] = ram
    if files:
        body["input_files"] = [
            {"name": name, "content_base64": base64.b64encode(data).decode()}
            for name, data in files
        ]
    return body


def _read_attachments(
    attachments: list[tuple[str, str]],
) -> tuple[list[tuple[str, bytes]], dict[str, str], list[str]]:
    """The attachments as (name in /work, bytes), their SHA-256 by name, and notes. Too large
    for one request: _HttpProblem, before anything is read."""
    sizes = []
    for _, path in attachments:
        try:
            sizes.append(os.path.getsize(path))
        except OSError:
            sizes.append(0)
    if sum(4 * ((s + 2) // 3) + 64 for s in sizes) > _SERVER_MAX_REQUEST_BYTES:
        raise _HttpProblem(_too_big_for_server())
    files, digests, notes, taken = [], {}, [], set()
    for name, path in attachments:
        safe = _safe_name(name, taken)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                data = f.read(_SERVER_MAX_REQUEST_BYTES)
        except OSError as e:
            _log.warning("nestbox: attachment %s unreadable: %s", path, e)
            notes.append(f"attached file {safe} could not be read")
            continue
        files.append((safe, data))
        digests[safe] = hashlib.sha256(data).hexdigest()
    return files, digests, notes


async def _http_call(settings: _Settings, method: str, route: str, body: Any, seconds: float):
    """One request to the server: (HTTP status, parsed JSON or None, Retry-After). Every
    failure to get an answer is an _HttpProblem that says what to fix."""
    import aiohttp  # Open WebUI ships it; imported here so the local mode never needs it

    token = _http_token(settings)
    where = f"the nestbox server in NESTBOX_SERVER ({_server_name(settings)})"
    tls = _http_ssl(settings)
    try:
        async with (
            aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=seconds, connect=min(seconds, 15.0)),
                trust_env=False,
            ) as session,
            session.request(
                method,
                _http_url(settings, route),
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                ssl=tls if tls is not None else True,
                allow_redirects=False,
            ) as response,
        ):
            retry_after = response.headers.get("Retry-After", "")
            raw = await response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return response.status, parsed, retry_after
    except aiohttp.ClientConnectorCertificateError as e:
        raise _HttpProblem(
            f"{where} did not present a certificate this Tool trusts "
            f"({_redact(str(getattr(e, 'certificate_error', e)))}). fix: set NESTBOX_SERVER_CA_FILE "
            "to the PEM file of the server's certificate or of the CA that signed it, and check "
            "that the URL's host name is in the certificate"
        ) from None
    except aiohttp.ClientSSLError as e:
        raise _HttpProblem(
            f"the TLS connection to {where} failed ({_redact(str(e))[:300]}). fix: use https:// "
            "only for a server started with --tls-cert and --tls-key (http:// otherwise), and "
            "set NESTBOX_SERVER_CA_FILE for a private certificate"
        ) from None
    except aiohttp.ClientConnectorError as e:
        why = e.os_error.strerror if getattr(e, "os_error", None) else str(e)
        raise _HttpProblem(
            f"{where} cannot be reached ({why}). fix: start `nestbox serve` there (check the "
            f"URL and port), or {_SERVER_FIX}",
            retry=True,
        ) from None
    except TimeoutError:
        raise _HttpProblem(
            f"{where} did not answer within {seconds:.0f} s. fix: check the server's log and "
            f"load, or {_SERVER_FIX}"
        ) from None
    except aiohttp.ClientError as e:
        raise _HttpProblem(
            f"the connection to {where} failed ({type(e).__name__}: {_redact(str(e))[:300]}). "
            f"fix: check the server's log, or {_SERVER_FIX}"
        ) from None


def _http_refusal(status: int, retry_after: str) -> _HttpProblem:
    """An answer that is not a result, said in Open WebUI's terms."""
    if status == 401:
        return _HttpProblem(
            f"the nestbox server refused the token (wrong or missing). {_HTTP_TOKEN_FIX}"
        )
    if status == 413:
        return _HttpProblem(_too_big_for_server())
    if status == 429:
        wait = f"{retry_after} s" if retry_after.isdigit() else "a moment"
        return _HttpProblem(
            f"the nestbox server is busy (its queue is full). fix: try again in {wait}, add "
            "replicas or start it with a larger --max-concurrency or --max-queue, or "
            + _SERVER_FIX,
            retry=True,
        )
    if status == 503:
        return _HttpProblem(
            f"the nestbox server is shutting down. fix: try again once it is back, or {_SERVER_FIX}",
            retry=True,
        )
    return _HttpProblem(
        f"the nestbox server answered HTTP {status} without a result. fix: see the server's "
        f"log, or {_SERVER_FIX}"
    )


async def _http_run(job: _Job, settings: _Settings, body: dict, deadline: float) -> dict:
    """Run the job on the server: its result as it came (normalised later), or _HttpProblem."""
    status, parsed, retry_after = await _http_call(settings, "POST", "/v1/run", body, deadline)
    usable = isinstance(parsed, dict) and parsed.get("status") in _STATUSES
    if status in (200, 400) and usable:
        return parsed
    if status == 200:
        raise _HttpProblem(
            "the nestbox server answered without a result nestbox knows (a different version?). "
            "fix: run the same nestbox version as this Tool, see the server's log"
        )
    raise _http_refusal(status, retry_after)


_http_plugin_cache: dict[str, list[dict]] = {}


async def _http_plugins(settings: _Settings) -> list[dict]:
    """The server's plugins (`GET /v1/plugins`), read once per server; the built-in list when
    the server cannot say."""
    if settings.server not in _http_plugin_cache:
        try:
            status, parsed, _ = await _http_call(settings, "GET", "/v1/plugins", None, 20.0)
            if status != 200 or not isinstance(parsed, list):
                raise _HttpProblem(f"HTTP {status}")
            _http_plugin_cache[settings.server] = _plugins_from_json(json.dumps(parsed))
        except (_HttpProblem, KeyError, TypeError, ValueError) as e:
            _log.warning(
                "nestbox: could not list the server's plugins (%s); assuming python and bash", e
            )
            return [dict(p) for p in _BUILTIN_PLUGINS]
    return _http_plugin_cache[settings.server]


async def _plugins(valves: BaseModel) -> list[dict]:
    """The installed plugins: the server's in HTTP mode, else the local binary's."""
    try:
        settings = _settings(valves)
    except _SettingsError:
        return [dict(p) for p in _BUILTIN_PLUGINS]
    if _is_http(settings.server):
        return await _http_plugins(settings)
    return await asyncio.to_thread(_installed_plugins, settings.binary)


def _plugins_now(valves: BaseModel) -> list[dict]:
    """The plugins, when a Tool is constructed (synchronously): no request to a server then,
    the built-in list in HTTP mode (a run uses the server's own)."""
    server = _effective_values(valves)["NESTBOX_SERVER"].strip()
    if _is_http(server):
        return [dict(p) for p in _BUILTIN_PLUGINS]
    return _installed_plugins(_binary_of(valves))


async def _execute_http(job: _Job, settings: _Settings, emitter: _Emitter, label: str) -> _Outcome:
    """Run one job on an HTTP(S) server; every failure comes back as a result."""
    runtime = _effective_values(job.valves)["MAX_RUNTIME_SECONDS"].strip()
    deadline = (int(runtime) if runtime.isdigit() else 30) + _CHILD_GRACE_SECONDS
    inputs: dict[str, str] = {}
    ticker = asyncio.create_task(_progress(emitter, label))
    try:
        files, inputs, notes = await asyncio.to_thread(_read_attachments, job.attachments)
        raw = await _http_run(job, settings, _http_job(job, files), deadline)
    except _HttpProblem as problem:
        if problem.retry and settings.server_fallback:
            _log.warning("nestbox: the server was not used (%s); running cold", problem)
            cold = dataclasses.replace(settings, server="", binary=_binary_of(job.valves))
            outcome = await _execute(job, emitter, label, cold)
            outcome.result["notices"].insert(
                0, f"the nestbox server was not used ({problem}); ran in a fresh sandbox instead"
            )
            return outcome
        _log.error("nestbox: the server could not be used: %s", problem)
        return _Outcome(
            _made_result("SANDBOX_ERROR", str(problem)), settings, job.language, job.code
        )
    finally:
        ticker.cancel()
    stored, store_notes = await _store_returned(raw, job.user, job.valves)
    result = _normalized(stored)
    result["notices"] = [*notes, *store_notes, *result["notices"]]
    return _Outcome(result, settings, job.language, job.code, inputs)


def _content_type(path: str, data: bytes) -> str:
    """How Open WebUI will serve a stored file: an image only when its name and its bytes agree,
    plain text for known text types, anything else (HTML, SVG, scripts) as a download."""
    kind = _extension_kind(path)
    if kind and _image_kind(data[:16]) == kind:
        return f"image/{kind}"
    if os.path.splitext(path)[1].lower() in _TEXT_TYPES:
        return "text/plain"
    return "application/octet-stream"


def _returned_files(raw: dict) -> tuple[list[tuple[dict, bytes]], list[str]]:
    """The listed files with their verified contents, and why the others came without."""
    good, missing = [], []
    for entry in raw.get("files") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            continue
        name = _printable(entry["path"])
        content = entry.get("content_base64")
        if not isinstance(content, str):
            why = entry.get("content_omitted")
            missing.append(
                f"{name}: {why if isinstance(why, str) else 'its content was not returned'}"
            )
            continue
        try:
            data = base64.b64decode(content, validate=True)
        except ValueError:
            missing.append(f"{name}: its content arrived damaged (not base64)")
            continue
        if len(data) != entry.get("size") or hashlib.sha256(data).hexdigest() != entry.get(
            "sha256"
        ):
            missing.append(f"{name}: its content arrived damaged (size or SHA-256 differ)")
            continue
        good.append((entry, data))
    return good, missing


async def _store_returned(
    raw: dict, user: dict | None, valves: BaseModel
) -> tuple[dict, list[str]]:
    """Store the returned files in Open WebUI for the user, with the Tool's quotas; the result
    with their links. A file that cannot be stored is listed without a link and said so; the
    run is then STORAGE_ERROR (as a server that cannot keep files makes it)."""
    raw = dict(raw)
    entries = [e for e in raw.get("files") or [] if isinstance(e, dict)]
    if not entries:
        return raw, []
    good, missing = _returned_files(raw)
    problem = ""
    user_id = str((user or {}).get("id") or "")
    stored: dict[int, dict] = {}
    evicted = 0
    if not user_id:
        problem = "there is no Open WebUI user to store them for"
    elif not _inside_open_webui():
        problem = "files can only be stored inside Open WebUI"
    else:
        try:
            stored, evicted = await _store_in_open_webui(good, user, raw, valves)
        except _StoreRefused as e:
            problem = str(e)
        except Exception as e:  # noqa: BLE001 - the run's output is kept whatever storage does
            _log.exception("nestbox: storing the returned files failed")
            problem = f"Open WebUI's file storage failed ({type(e).__name__})"
    files = []
    for entry in entries:
        out = {k: entry[k] for k in ("path", "size", "sha256") if k in entry}
        if id(entry) in stored:
            out["url"] = stored[id(entry)]["url"]
            out["head"] = stored[id(entry)]["head"]
        files.append(out)
    raw["files"] = files
    notes = []
    if evicted:
        notes.append(
            f"removed this user's {evicted} oldest execution(s) from storage to stay within the quota"
        )
    lost = len(missing) + (len(good) if problem else 0)
    if lost:
        why = "; ".join(missing + ([problem] if problem and good else []))
        notes.append(_short(f"files not kept: {why}", _MAX_NOTICE_CHARS))
        if raw.get("status") in ("OK", "ERROR"):
            raw["message"] = (
                f"{raw.get('message') or ''} ({raw['status']}), but {lost} of its files could "
                f"not be kept: {_short(why, 400)}"
            )
            raw["status"] = "STORAGE_ERROR"
    return raw, notes


class _StoreRefused(Exception):
    """The files cannot be stored under the quotas; the message says which and what to do."""


async def _store_in_open_webui(
    good: list[tuple[dict, bytes]], user: dict | None, raw: dict, valves: BaseModel
) -> tuple[dict[int, dict], int]:
    """Put each file into Open WebUI's storage and file table, owned by the user, evicting the
    user's oldest runs (files this Tool stored) past MAX_FILES_PER_USER or
    MAX_MEGABYTES_PER_USER. Returns {id(entry): {"url", "head"}} and how many runs were evicted."""
    import io
    import uuid

    from open_webui.models.files import FileForm, Files
    from open_webui.storage.provider import Storage

    values = _effective_values(valves)
    per_run = _count_value(values, "MAX_FILES_PER_EXECUTION")
    per_user = _count_value(values, "MAX_FILES_PER_USER")
    bytes_per_user = _count_value(values, "MAX_MEGABYTES_PER_USER") * 1024 * 1024
    count, size = len(good), sum(len(d) for _, d in good)
    if count > per_run:
        raise _StoreRefused(
            f"the code left {count} files; at most {per_run} are kept per run "
            "(MAX_FILES_PER_EXECUTION)"
        )
    if count > per_user or size > bytes_per_user:
        raise _StoreRefused(
            f"the run's files ({count}, {_size(size)}) alone exceed the per-user quota "
            "(MAX_FILES_PER_USER, MAX_MEGABYTES_PER_USER)"
        )
    if not good:
        return {}, 0
    user_id = str(user["id"])
    evicted = await _evict(Files, Storage, user_id, count, size, per_user, bytes_per_user)
    execution = str(raw.get("execution_id") or "")
    out: dict[int, dict] = {}
    taken: set[str] = set()
    for entry, data in good:
        fid = str(uuid.uuid4())
        name = str(entry["path"])
        filename = f"{fid}_{_safe_name(name, taken)}"
        tags = {"OpenWebUI-User-Id": user_id, "OpenWebUI-File-Id": fid}
        _, path = await asyncio.to_thread(Storage.upload_file, io.BytesIO(data), filename, tags)
        meta = {
            "name": name,
            "content_type": _content_type(name, data),
            "size": len(data),
            "data": {_STORED_MARK: {"execution_id": execution}},
        }
        form = FileForm(id=fid, filename=name, path=path, data={}, meta=meta)
        if await Files.insert_new_file(user_id, form) is None:
            await asyncio.to_thread(Storage.delete_file, path)
            raise _StoreRefused("Open WebUI did not record a stored file")
        out[id(entry)] = {
            "url": f"/api/v1/files/{fid}/content",
            "head": data[: _INLINE_MAX_BYTES + 1],
        }
    return out, evicted


async def _evict(Files, Storage, user_id, count, size, per_user, bytes_per_user) -> int:
    """Remove the user's oldest runs stored by this Tool until `count` more files and `size`
    more bytes fit. Only files this Tool stored are counted or removed."""
    mine = [
        f
        for f in await Files.get_files_by_user_id(user_id)
        if isinstance((f.meta or {}).get("data"), dict) and _STORED_MARK in f.meta["data"]
    ]
    runs: dict[str, list] = {}
    for f in mine:
        run = str((f.meta["data"][_STORED_MARK] or {}).get("execution_id") or f.id)
        runs.setdefault(run, []).append(f)
    files = len(mine)
    used = sum(int((f.meta or {}).get("size") or 0) for f in mine)
    evicted = 0
    for run in sorted(runs.values(), key=lambda fs: min(f.created_at for f in fs)):
        if files + count <= per_user and used + size <= bytes_per_user:
            break
        for f in run:
            try:
                await asyncio.to_thread(Storage.delete_file, f.path)
            except Exception as e:  # noqa: BLE001 - the record goes either way
                _log.warning("nestbox: could not delete stored file %s: %s", f.id, e)
            await Files.delete_file_by_id(f.id)
            files -= 1
            used -= int((f.meta or {}).get("size") or 0)
        evicted += 1
    return evicted


def _count_value(values: dict[str, str], name: str) -> int:
    text = values[name].strip()
    if not text.isdigit():
        raise _StoreRefused(f"{name}={text!r} is not a whole number")
    return int(text)
