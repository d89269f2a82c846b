"""Per-user file storage through the Tool and the real nestbox: quotas, eviction of the same
user's oldest files only, users kept apart, and no symlink or ../ escapes."""

import os
from pathlib import Path

from conftest import Recorder, parse_answer, user

PREFIX = "/cache/functions/run_code/"


async def run(tool, who: str, code: str, events: Recorder | None = None) -> dict:
    answer = await tool.run_python_code(code, __user__=user(who), __event_emitter__=events)
    return parse_answer(answer)


def on_disk(storage: Path, entry: dict) -> Path:
    assert entry["url"].startswith(PREFIX), entry
    return storage / entry["url"].removeprefix(PREFIX)


def write(name: str, size: int = 10) -> str:
    return f"open({name!r}, 'w').write('x' * {size})\n"


async def test_too_many_files_in_one_run(tool, storage: Path, monkeypatch) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_FILES_PER_EXECUTION", "2")
    events = Recorder()
    result = await run(tool, "quota", write("a") + write("b") + write("c") + "print('ran')", events)
    assert result["status"] == "STORAGE_ERROR"
    assert result["stdout"] == "ran\n"
    assert "MAX_FILES_PER_EXECUTION" in result["message"]
    assert events.final_status().startswith("The code ran, but its files could not be kept:")
    assert not any(p.is_file() for p in storage.rglob("*") if p.name in "abc")


async def test_one_run_bigger_than_the_user_quota(tool, storage: Path, monkeypatch) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_MEGABYTES_PER_USER", "1")
    result = await run(tool, "big", write("big.bin", 2 * 1024 * 1024))
    assert result["status"] == "STORAGE_ERROR"
    assert "MAX_MEGABYTES_PER_USER" in result["message"]
    assert not list(storage.rglob("big.bin"))


async def test_eviction_takes_only_the_same_users_oldest(tool, storage: Path, monkeypatch) -> None:
    monkeypatch.setenv("CODE_EVAL_VALVE_OVERRIDE_MAX_FILES_PER_USER", "3")
    alice = [(await run(tool, "alice", write(f"a{i}.txt")))["files"][0] for i in range(3)]
    bob = [(await run(tool, "bob", write(f"b{i}.txt")))["files"][0] for i in range(3)]
    assert all(on_disk(storage, f).is_file() for f in alice + bob)
    newest = (await run(tool, "alice", write("a3.txt")))["files"][0]
    assert on_disk(storage, newest).is_file()
    assert not on_disk(storage, alice[0]).exists(), "alice's oldest file should be evicted"
    assert all(on_disk(storage, f).is_file() for f in alice[1:])
    assert all(on_disk(storage, f).is_file() for f in bob), "bob's files must not be touched"


async def test_users_are_kept_apart(tool, storage: Path) -> None:
    mine = await run(
        tool, "user-a", write("private.txt") + "print(sorted(__import__('os').listdir('.')))"
    )
    theirs = await run(tool, "user-b", "import os\nprint(sorted(os.listdir('.')))")
    assert theirs["stdout"] == "[]\n", "a run starts with an empty /work"
    url_a = mine["files"][0]["url"]
    folder_a = url_a.removeprefix(PREFIX).split("/")[1]
    other = await run(tool, "user-b", write("mine.txt"))
    folder_b = other["files"][0]["url"].removeprefix(PREFIX).split("/")[1]
    assert folder_a != folder_b
    assert "user-a" not in url_a and "user-b" not in other["files"][0]["url"]
    assert sorted(p.name for p in (storage / "user_files" / folder_b).rglob("*.txt")) == [
        "mine.txt"
    ]


async def test_symlinks_and_dotdot_names_are_not_followed(tool, storage: Path) -> None:
    code = (
        "import os\n"
        "open('real.txt', 'w').write('real')\n"
        "tried = {}\n"
        "for name, make in [\n"
        "    ('abs_link', lambda: os.symlink('/etc/passwd', 'abs_link')),\n"
        "    ('rel_link', lambda: os.symlink('real.txt', 'rel_link')),\n"
        "    ('up_link', lambda: os.symlink('..', 'up_link')),\n"
        "    ('hard', lambda: os.link('real.txt', 'hard')),\n"
        "    ('dotdot', lambda: open('../escape.txt', 'w').write('out')),\n"
        "    ('deep_dotdot', lambda: open('sub/../../escape2.txt', 'w').write('out')),\n"
        "]:\n"
        "    try:\n"
        "        make()\n"
        "        tried[name] = 'made'\n"
        "    except Exception as e:\n"
        "        tried[name] = type(e).__name__\n"
        "os.makedirs('sub', exist_ok=True)\n"
        "open('sub/..data', 'w').write('dots')\n"
        "print(sorted(tried.items()))\n"
    )
    result = await run(tool, "escaper", code)
    assert result["status"] == "OK", result
    root = storage.resolve()
    for path in storage.rglob("*"):
        assert not path.is_symlink(), f"a symlink was kept: {path}"
        assert path.resolve().is_relative_to(root)
        if path.is_file():
            assert path.stat().st_nlink == 1 or path.name == "hard"
    names = sorted(f["path"] for f in result["files"])
    assert {"abs_link", "rel_link", "up_link"}.isdisjoint(names), "symlinks are never kept"
    assert not any(".." in Path(n).parts for n in names)
    for entry in result["files"]:
        assert on_disk(storage, entry).is_file()
    assert not list(storage.parent.glob("escape*.txt"))
    assert not os.path.exists("/escape.txt")
