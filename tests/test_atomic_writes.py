"""Writes are atomic and durable: a killed seed leaves the old or the new complete database,
and a write that fails (a folder without write permission, a file size limit
standing in for a full disk) says so in one line and leaves the old one intact.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
from conftest import SEEDS, newsgraph, opened_snapshot, without_root_powers
from tinydb import TinyDB


from benchmarks.generate import generate

# Large enough that writing the database (~7 MB, dumped, written and fsynced) is a good
# part of each run, small enough that the 20 runs stay within seconds.
BASE_FILES = 1500
EXTRA_FILES = 150
KILLS = 24


def article_count(db: Path) -> int:
    """Parse the whole file (a torn file fails here) and count its articles."""
    data = orjson.loads(db.read_bytes())
    assert data["meta"]["1"]["format"] == 1
    return len(data["articles"])


def file_ids(db: Path) -> list[str]:
    return sorted(doc["id"] for doc in orjson.loads(db.read_bytes())["articles"].values())


def served_ids(db: Path) -> list[str]:
    return [doc["id"] for doc in opened_snapshot(db).docs]


def start_seed(cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    return subprocess.Popen(
        [sys.executable, "-m", "graph", "seed", *args, "--db", "db/newsgraph.json", "--quiet"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_at_any_moment_leaves_the_old_or_the_new_database(tmp_path):
    generate(tmp_path / "base", BASE_FILES, seed=11)
    generate(tmp_path / "extra", EXTRA_FILES, seed=12)
    db = tmp_path / "db" / "newsgraph.json"
    # Two runs that turn one database into the other: with the extra files, and pruned back without them.
    grow, shrink = ("base", "extra"), ("base", "--prune")
    sizes = {grow: BASE_FILES + EXTRA_FILES, shrink: BASE_FILES}

    for args in (grow, shrink):  # the first run parses everything; the second is timed as a typical run
        started = time.perf_counter()
        process = start_seed(tmp_path, *args)
        assert process.wait(120) == 0, process.stderr.read().decode()
        process.stderr.close()
        duration = time.perf_counter() - started
        assert article_count(db) == sizes[args]

    rng = random.Random(5)
    current, killed_while_running, mid_write = BASE_FILES, 0, 0
    for n in range(KILLS):
        args = grow if n % 2 == 0 else shrink
        process = start_seed(tmp_path, *args)
        if n < KILLS // 2:
            # Moments spread from the start to a little past the usual end of a run...
            time.sleep(duration * 1.1 * (n + rng.random()) / (KILLS // 2))
        else:
            # ...and moments while the new file is being written, which is a small part of a run.
            wait_for_a_temporary_file(process, db.parent)
            if n % 2:  # every other one at once, so that some surely land before the rename
                time.sleep(rng.random() * 0.03)
        process.send_signal(signal.SIGKILL)
        status = process.wait(60)
        process.stderr.close()
        killed_while_running += status == -signal.SIGKILL
        mid_write += any(db.parent.glob(".newsgraph.json.*.tmp"))  # killed before the rename
        count = article_count(db)
        assert count in (current, sizes[args]), (n, count)
        # A server opening the database now serves exactly the file (its side file is this file's or ignored).
        assert served_ids(db) == file_ids(db), n
        current = count
    print(f"{KILLS} kills: {killed_while_running} while running, {mid_write} before the new file was renamed")
    assert killed_while_running >= KILLS // 2
    assert mid_write >= 1

    # A run after all that finishes, leaves no temporary files behind, and stock TinyDB reads the result.
    process = start_seed(tmp_path, *grow)
    assert process.wait(120) == 0
    process.stderr.close()
    assert sorted(p.name for p in db.parent.iterdir()) == [
        ".newsgraph.json.lock",
        ".newsgraph.json.marks",
        ".newsgraph.json.snapshot",
        "newsgraph.json",
    ]
    with TinyDB(db) as tiny:
        assert len(tiny.table("articles")) == BASE_FILES + EXTRA_FILES


def wait_for_a_temporary_file(process: subprocess.Popen[bytes], folder: Path) -> None:
    """Return as soon as the seed starts writing its temporary file (or ends)."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if folder.is_dir() and any(name.endswith(".tmp") for name in os.listdir(folder)):
            return


def seeded(tmp_path: Path) -> bytes:
    """A database holding the shipped seed; its bytes."""
    assert newsgraph("seed", str(SEEDS), "--db", "db/newsgraph.json", cwd=tmp_path).returncode == 0
    generate(tmp_path / "more", 50, seed=3)
    return (tmp_path / "db" / "newsgraph.json").read_bytes()


def test_a_folder_without_write_permission_is_one_clear_line_and_the_old_database_stays(tmp_path):
    before = seeded(tmp_path)
    folder = tmp_path / "db"
    folder.chmod(0o555)
    lock = folder / ".newsgraph.json.lock"
    try:
        lock.chmod(0o444)
        result = newsgraph("seed", "more", "--db", "db/newsgraph.json", cwd=tmp_path, preexec_fn=without_root_powers)
        lock.chmod(0o644)
        second = newsgraph("seed", "more", "--db", "db/newsgraph.json", cwd=tmp_path, preexec_fn=without_root_powers)
    finally:
        folder.chmod(0o755)
    # the lock file beside the database cannot be opened for writing: nothing is tried
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "newsgraph: error: db/newsgraph.json: cannot write the database: Permission denied; nothing was changed\n"
    )
    # with a usable lock file, the temporary file cannot be created
    assert (second.returncode, second.stdout) == (1, "")
    assert second.stderr == (
        "newsgraph: error: db/newsgraph.json: cannot write the database: Permission denied; "
        "the old database is unchanged\n"
    )
    assert (folder / "newsgraph.json").read_bytes() == before


def with_a_small_file_size_limit() -> None:
    """preexec_fn: files may not grow past 64 KiB, and going past fails the write (EFBIG) instead of killing."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_a_write_that_runs_out_of_room_is_one_clear_line_and_the_old_database_stays(tmp_path):
    # No full disk can be made here without mounting one; a file size limit fails write(2) the
    # same way part-way through the temporary file (EFBIG instead of ENOSPC).
    before = seeded(tmp_path)
    result = newsgraph("seed", "more", "--db", "db/newsgraph.json", cwd=tmp_path, preexec_fn=with_a_small_file_size_limit)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "newsgraph: error: db/newsgraph.json: cannot write the database: File too large; the old database is unchanged\n"
    )
    assert (tmp_path / "db" / "newsgraph.json").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "db").iterdir()) == [
        ".newsgraph.json.lock", ".newsgraph.json.marks", ".newsgraph.json.snapshot", "newsgraph.json"
    ]
    # and without the limit the same run succeeds
    result = newsgraph("seed", "more", "--db", "db/newsgraph.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert article_count(tmp_path / "db" / "newsgraph.json") == 51


def test_a_killed_seed_leaves_no_worker_processes_behind(tmp_path):
    generate(tmp_path / "base", BASE_FILES, seed=13)
    process = start_seed(tmp_path, "base", "--prune")
    deadline = time.monotonic() + 30
    children: list[int] = []
    while time.monotonic() < deadline and not children:  # the parse workers start early in a run
        children = _children(process.pid)
        time.sleep(0.01)
    assert children, "the seed started no worker processes"
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    process.stderr.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.05)
    assert not [pid for pid in children if _alive(pid)]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
