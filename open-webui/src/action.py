_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


class _Refusal(Exception):
    """Why no code block of the message can be run."""


@dataclass
class _Choice:
    language: str
    code: str
    index: int
    total: int


def _code_blocks(markdown: str) -> list[tuple[str, str]]:
    """The message's closed fenced code blocks as (tag, code), in order (CommonMark fences:
    ``` or ~~~, closed by the same character at least as many times; an unclosed block, as
    in a reply cut short, is not a block)."""
    blocks, lines, i = [], markdown.split("\n"), 0
    while i < len(lines):
        opened = _FENCE_OPEN.match(lines[i])
        i += 1
        if not opened or (opened.group(1)[0] == "`" and "`" in opened.group(2)):
            continue
        fence, info = opened.group(1), opened.group(2).strip()
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body = []
        while i < len(lines) and not closing.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i < len(lines):
            blocks.append((_tag(info), "\n".join(body)))
        i += 1
    return blocks


def _tag(info: str) -> str:
    words = info.split()
    return words[0].strip("{}.").lower() if words else ""


def _shebang_language(code: str, aliases: dict[str, str]) -> str:
    """The plugin named by the block's `#!` line (`#!/usr/bin/env python3`, `#!/bin/bash`), or ''."""
    first = code.lstrip("\n").split("\n", 1)[0].strip()
    if not first.startswith("#!"):
        return ""
    words = first[2:].split()
    if words and os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
    name = os.path.basename(words[0]).lower() if words else ""
    return aliases.get(name) or aliases.get(re.sub(r"[0-9.]+$", "", name), "")


def _choose_block(markdown: str, plugins: list[dict]) -> _Choice:
    """Apply the rule in Action.action's docstring; raise _Refusal when nothing fits."""
    aliases = _alias_map(plugins)
    blocks = _code_blocks(markdown)
    total = len(blocks)
    for index in range(total - 1, -1, -1):
        tag, code = blocks[index]
        if tag in aliases:
            return _Choice(aliases[tag], code, index + 1, total)
    for index in range(total - 1, -1, -1):
        tag, code = blocks[index]
        if not tag and (language := _shebang_language(code, aliases)):
            return _Choice(language, code, index + 1, total)
    raise _Refusal(_refusal(blocks, plugins))


def _refusal(blocks: list[tuple[str, str]], plugins: list[dict]) -> str:
    runnable = "; ".join(f"{p['name']} ({', '.join(p['aliases'])})" for p in plugins)
    if not blocks:
        return "Nothing to run: this message has no complete fenced code block (```python ... ```)."
    tags = sorted({tag for tag, _ in blocks if tag})
    if tags:
        return (
            f"Nothing to run: no code block here is in a language I can run (found: "
            f"{', '.join(tags)}). I can run: {runnable}."
        )
    return (
        "Nothing to run: the code block has no language tag and no #! line, and I do not guess. "
        "Tag it (```python or ```bash) or start it with a line such as #!/usr/bin/env python3."
    )


def _clicked_message(body: dict) -> dict:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    for message in messages:
        if body.get("id") and message.get("id") == body.get("id"):
            return message
    return messages[-1] if messages else {}


async def _chat_attachments(
    body: dict, user: dict | None
) -> tuple[list[tuple[str, str]], list[str]]:
    """Files attached to the user messages of this branch of the chat (the action's request
    carries no files, so they are read from the stored chat, which must be the user's)."""
    chat_id, user_id = body.get("chat_id") or "", (user or {}).get("id")
    if not chat_id or not _inside_open_webui():
        return [], []
    try:
        from open_webui.models.chats import Chats

        chat = await Chats.get_chat_by_id(chat_id) if chat_id else None
        if chat is None or chat.user_id != user_id:
            return [], []
        items = []
        for message in body.get("messages") or []:
            if isinstance(message, dict) and message.get("role") == "user" and message.get("id"):
                stored = await Chats.get_message_by_id_and_message_id(chat_id, message["id"])
                items += (stored or {}).get("files") or []
    except Exception as e:  # noqa: BLE001 - attachments are a bonus; the run goes on without
        _log.warning("nestbox: could not read the chat's files: %s", e)
        return [], []
    return await _resolve_attachments(items, user)


class Action:
    """A "Run code" button under each reply."""

    class Valves(_Valves):
        """Administrator settings; CODE_EVAL_VALVE_OVERRIDE_<NAME> environment variables win."""

    class UserValves(_UserValves):
        """Per-user settings: they may only lower the administrator's limits."""

    def __init__(self) -> None:
        self.valves = self.Valves()

    async def action(
        self,
        body: dict,
        __user__: dict | None = None,
        __event_emitter__: _Emitter = None,
        __event_call__: Callable[[dict], Awaitable[Any]] | None = None,
        __model__: dict | None = None,
        __request__: Any = None,
        __id__: str | None = None,
    ) -> dict:
        """
        Run one code block of the clicked message and append its output and files to it.

        Which block runs (deterministic; nothing is ever run as a guessed language):
        1. Only closed fenced blocks (``` or ~~~) of the clicked message count.
        2. The last block whose tag (the first word after the fence) names an installed
           plugin or one of its aliases: python, python3, py; bash, sh, shell.
        3. If no block has such a tag: the last untagged block whose first line is a `#!`
           line naming one (#!/usr/bin/env python3, #!/bin/bash, #!/bin/sh).
        4. Otherwise nothing runs and a notification says why (no block, only other languages,
           or an untagged block without a #! line).
        """
        # The clicked reply's status line (its statusHistory) is its own: a status event here
        # would push a line on top of it for good. The run says how it went in the text it
        # appends, and in passing notifications (not stored).
        emitter = __event_emitter__
        plugins = await _plugins(self.valves)
        try:
            choice = _choose_block(_clicked_message(body).get("content") or "", plugins)
        except _Refusal as refusal:
            await _emit(emitter, "notification", {"type": "warning", "content": str(refusal)})
            return {"status": "INVALID_INPUT", "ok": False, "message": str(refusal)}
        title = _title(choice.language)
        where = f"block {choice.index} of {choice.total}"
        await _emit(
            emitter,
            "notification",
            {"type": "info", "content": f"Running the {title} code ({where}) in the sandbox…"},
        )
        attachments, notes = await _chat_attachments(body, __user__)
        job = _Job(self.valves, __user__, choice.language, choice.code, attachments)
        outcome = await _execute(job, None, f"{title} code")
        outcome.result["notices"] = [*notes, *outcome.result["notices"]]
        headline = _headline(outcome.result, outcome.language)
        kind = "success" if outcome.result["status"] == "OK" else "error"
        await _emit(emitter, "notification", {"type": kind, "content": _conclusion(outcome)})
        files = await _files_markdown(outcome)
        text = f"\n\n---\n\n{_output_markdown(outcome, headline)}"
        text += f"\n\n{files}" if files else ""
        await _emit(emitter, "message", {"content": text})
        # 0.12.4 shows a reply from its structured `output` when it has one, and the event
        # above only extends `content`; the browser copies these messages into both.
        content = (_clicked_message(body).get("content") or "") + text
        return {
            **_for_model(outcome, headline),
            "messages": [{"id": body.get("id"), "content": content}],
        }
