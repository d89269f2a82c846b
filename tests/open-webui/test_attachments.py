"""Files attached to the chat reach the code read-only in /work, looked up in Open WebUI's own
file records (in this process) and only when the user may read them."""

import io
import uuid

from conftest import Recorder, parse_answer, user

READ = (
    "import os\n"
    "print(sorted(os.listdir('.')))\n"
    "print(open('data.csv').read().strip() if os.path.exists('data.csv') else 'absent')\n"
    "try:\n"
    "    open('data.csv', 'a').write('x')\n"
    "    print('writable')\n"
    "except OSError as e:\n"
    "    print('read-only')\n"
)


async def stored_file(owui, owner: str, name: str, data: bytes) -> str:
    fid = str(uuid.uuid4())
    _, path = owui.Storage.upload_file(io.BytesIO(data), f"{fid}_{name}", {})
    form = owui.FileForm(id=fid, filename=name, path=path, meta={"name": name})
    await owui.Files.insert_new_file(owner, form)
    return fid


async def test_attachment_is_readable_and_read_only(owui, tool, events: Recorder) -> None:
    fid = await stored_file(owui, "owner-1", "data.csv", b"city,temp\nOslo,3\n")
    files = [{"type": "file", "id": fid, "name": "data.csv"}]
    answer = await tool.run_python_code(
        READ, __user__=user("owner-1"), __event_emitter__=events, __files__=files
    )
    result = parse_answer(answer)
    assert result["status"] == "OK", result
    assert result["stdout"] == "['data.csv']\ncity,temp\nOslo,3\nread-only\n"
    assert result["files"] == []  # the attachment is not presented as a file the code made


async def test_same_names_do_not_collide(owui, tool, events: Recorder) -> None:
    first = await stored_file(owui, "owner-2", "data.csv", b"1")
    second = await stored_file(owui, "owner-2", "data.csv", b"2")
    files = [{"type": "file", "id": first}, {"type": "file", "id": second}]
    code = "import os\nprint(sorted((n, open(n).read()) for n in os.listdir('.')))"
    answer = await tool.run_python_code(code, __user__=user("owner-2"), __files__=files)
    assert parse_answer(answer)["stdout"] == "[('data (2).csv', '2'), ('data.csv', '1')]\n"


async def test_other_users_file_is_not_given(owui, tool, events: Recorder) -> None:
    fid = await stored_file(owui, "owner-3", "data.csv", b"secret\n")
    forged = [
        {"type": "file", "id": fid, "name": "data.csv"},
        {"type": "file", "id": "/etc/passwd"},
        {"type": "file", "file": {"path": "/etc/passwd"}, "name": "passwd"},
    ]
    answer = await tool.run_python_code(
        READ, __user__=user("intruder"), __event_emitter__=events, __files__=forged
    )
    result = parse_answer(answer)
    assert result["stdout"].startswith("[]\nabsent\n")
    assert "attached file data.csv is not available to this user" in result["notices"]


async def test_admin_may_use_any_file(owui, tool) -> None:
    fid = await stored_file(owui, "owner-4", "data.csv", b"for the admin\n")
    answer = await tool.run_python_code(
        READ, __user__=user("boss", role="admin"), __files__=[{"type": "file", "id": fid}]
    )
    assert "for the admin" in parse_answer(answer)["stdout"]
