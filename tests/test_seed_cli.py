"""`newsgraph seed` through the real CLI: exit codes, stderr, the summary, and what the store holds.

The database is checked with stock TinyDB (``TinyDB(path).table("articles")``),
as any user of the file would open it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest
from conftest import Api, SEEDS, newsgraph, without_root_powers
from tinydb import TinyDB

SHIPPED = SEEDS / "000_9a7be0820e1ffd4a.txt"
SUMMARY = re.compile(
    r"^loaded (\d+): (\d+) new, (\d+) updated, (\d+) unchanged; (\d+) failed; (\d+) pruned in \d+\.\d\d s(.*)$"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def article(title: str, *extra: str, body: str = "") -> str:
    return "---\n" + f"title: {title}\n" + "".join(line + "\n" for line in extra) + "---\n" + body


def seed(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """newsgraph seed with the working folder tmp_path and the database tmp_path/db/newsgraph.json."""
    return newsgraph("seed", *args, "--db", "db/newsgraph.json", cwd=tmp_path)


def counts(result: subprocess.CompletedProcess[str]) -> tuple[tuple[int, ...], str]:
    """(loaded, new, updated, unchanged, failed, pruned) and the summary's suffix."""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    match = SUMMARY.match(lines[0])
    assert match is not None, lines[0]
    return tuple(int(g) for g in match.groups()[:6]), match.group(7)


def stored(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """The articles by id, read with stock TinyDB."""
    with TinyDB(tmp_path / "db" / "newsgraph.json") as db:
        return {doc["id"]: dict(doc) for doc in db.table("articles").all()}


# -- loading ----------------------------------------------------------------------------------------


def test_default_path_is_seeds_and_the_shipped_seed_loads(tmp_path):
    shutil.copy(SHIPPED, write(tmp_path / "seeds" / "x", "").parent / SHIPPED.name)
    result = seed(tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert counts(result) == ((1, 1, 0, 0, 0, 0), "")
    doc = stored(tmp_path)["9a7be0820e1ffd4a"]
    assert doc["related"][1]["title"].startswith("ACLU of Louisiana Obtains E-mails that Confirm NOPD’s Use")
    assert doc["secured"].startswith("50BdjUTtTwd8eW3fEoPxyrWaX5U4Y0dESFhMciZrXVg2")
    assert doc["_seed"]["path"] == str((tmp_path / "seeds" / SHIPPED.name).resolve())


def test_folders_are_searched_recursively_for_seed_suffixes_only(tmp_path):
    write(tmp_path / "in" / "001_a.md", article("A"))
    write(tmp_path / "in" / "deep" / "er" / "b.markdown", article("B"))
    write(tmp_path / "in" / "deep" / "C.TXT", article("C"))
    write(tmp_path / "in" / "notes.yaml", article("not a seed"))
    write(tmp_path / "in" / "readme", article("not a seed"))
    write(tmp_path / "other.json", article("named explicitly, loaded whatever its suffix"))
    result = seed(tmp_path, "in", "other.json")
    assert (result.returncode, result.stderr) == (0, "")
    assert counts(result)[0] == (4, 4, 0, 0, 0, 0)
    assert sorted(stored(tmp_path)) == ["C", "a", "b", "other"]


def test_frontmatter_id_and_unknown_keys_are_stored_and_kept_on_reseed(tmp_path):
    path = write(tmp_path / "s" / "007_file.md", article("T", "id: chosen", "x-custom: {a: [1, 2]}", "flag: true"))
    assert seed(tmp_path, "s").returncode == 0
    assert stored(tmp_path)["chosen"]["x-custom"] == {"a": [1, 2]}
    write(path, article("T2", "id: chosen", "x-custom: {a: [1, 2]}", "flag: true"))
    result = seed(tmp_path, "s")
    assert counts(result)[0] == (1, 0, 1, 0, 0, 0)
    doc = stored(tmp_path)["chosen"]
    assert (doc["title"], doc["x-custom"], doc["flag"]) == ("T2", {"a": [1, 2]}, True)


def test_secured_is_stored_but_not_served(tmp_path, run):
    write(tmp_path / "s" / "a.md", article("T", "secured: 'opaque-token'"))
    assert seed(tmp_path, "s").returncode == 0
    assert stored(tmp_path)["a"]["secured"] == "opaque-token"
    from graph.store.tinydb.store import TinyDBStore

    store = TinyDBStore(tmp_path / "db" / "newsgraph.json")
    run(store.open())
    try:
        fields = Api(store, run).data('{ __type(name: "Article") { fields { name } } }')["__type"]["fields"]
        assert "secured" not in {f["name"] for f in fields}
        assert "title" in {f["name"] for f in fields}
    finally:
        run(store.close())


def test_raw_text_keeps_mojibake_and_switching_rewrites(tmp_path):
    write(tmp_path / "s" / "a.md", article("NOPDâ€™s"))
    assert seed(tmp_path, "s").returncode == 0
    assert stored(tmp_path)["a"]["title"] == "NOPD’s"
    result = seed(tmp_path, "s", "--raw-text")
    assert counts(result)[0] == (1, 0, 1, 0, 0, 0)
    assert stored(tmp_path)["a"]["title"] == "NOPDâ€™s"


# -- idempotence and changes -----------------------------------------------------------------------


def test_seeding_twice_leaves_the_same_store(tmp_path):
    for n in range(5):
        write(tmp_path / "s" / f"{n:03d}_a{n}.md", article(f"T{n}", f"quality: {n}"))
    assert counts(seed(tmp_path, "s"))[0] == (5, 5, 0, 0, 0, 0)
    db = tmp_path / "db" / "newsgraph.json"
    first, first_bytes = stored(tmp_path), db.read_bytes()
    result = seed(tmp_path, "s")
    assert (result.returncode, counts(result)[0]) == (0, (5, 0, 0, 5, 0, 0))
    assert stored(tmp_path) == first
    assert db.read_bytes() == first_bytes  # nothing changed: nothing written


def test_a_changed_file_replaces_its_article_and_nothing_is_duplicated(tmp_path):
    path = write(tmp_path / "s" / "a.md", article("Old", "quality: 1", "extra: gone later"))
    write(tmp_path / "s" / "b.md", article("B"))
    seed(tmp_path, "s")
    write(path, article("New", "quality: 2"))
    result = seed(tmp_path, "s")
    assert counts(result)[0] == (2, 0, 1, 1, 0, 0)
    docs = stored(tmp_path)
    assert sorted(docs) == ["a", "b"]
    assert (docs["a"]["title"], docs["a"]["quality"], "extra" in docs["a"]) == ("New", 2, False)


def test_a_file_whose_id_changes_replaces_its_old_article(tmp_path):
    path = write(tmp_path / "s" / "a.md", article("T", "id: first"))
    seed(tmp_path, "s")
    write(path, article("T", "id: second"))
    result = seed(tmp_path, "s")
    assert counts(result)[0] == (1, 0, 1, 0, 0, 0)
    assert sorted(stored(tmp_path)) == ["second"]


def test_a_moved_file_is_unchanged_and_remembers_its_new_path(tmp_path):
    write(tmp_path / "s" / "a.md", article("T"))
    seed(tmp_path, "s")
    (tmp_path / "s" / "sub").mkdir()
    (tmp_path / "s" / "a.md").rename(tmp_path / "s" / "sub" / "a.md")
    result = seed(tmp_path, "s")
    assert counts(result)[0] == (1, 0, 0, 1, 0, 0)
    assert stored(tmp_path)["a"]["_seed"]["path"] == str((tmp_path / "s" / "sub" / "a.md").resolve())
    assert counts(seed(tmp_path, "s"))[0] == (1, 0, 0, 1, 0, 0)


# -- bad files ---------------------------------------------------------------------------------------


def test_bad_files_are_reported_skipped_and_exit_1(tmp_path):
    write(tmp_path / "s" / "001_good.md", article("Good"))
    write(tmp_path / "s" / "002_bad.md", article("T", "quality: high"))
    write(tmp_path / "s" / "003_worse.md", article("T", "related:", "  - title: a", "  - excerpt: b"))
    (tmp_path / "s" / "004_binary.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    write(tmp_path / "s" / "005_nofm.md", "just text\n")
    result = seed(tmp_path, "s")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "s/002_bad.md:3: quality must be an integer, got 'high'",
        "s/003_worse.md:5: related[1].title is required",
        "s/004_binary.md:2: not UTF-8 text (byte 14)",
        "s/005_nofm.md:1: no frontmatter: the file must start with a '---' line",
    ]
    assert counts(result) == ((1, 1, 0, 0, 4, 0), "")
    assert sorted(stored(tmp_path)) == ["good"]


def test_two_files_with_one_id_first_wins_second_is_bad(tmp_path):
    write(tmp_path / "s" / "a.md", article("First", "id: same"))
    write(tmp_path / "s" / "b.md", article("Second", "quality: 3", "id: same"))
    write(tmp_path / "s" / "x" / "a.md", article("Same name, other folder"))
    result = seed(tmp_path, "s")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "s/b.md:4: duplicate id 'same': already loaded from s/a.md",
    ]
    assert counts(result)[0] == (2, 2, 0, 0, 1, 0)
    assert stored(tmp_path)["same"]["title"] == "First"
    # and again, when the first is unchanged and not parsed at all
    result = seed(tmp_path, "s")
    assert result.stderr.splitlines() == ["s/b.md:4: duplicate id 'same': already loaded from s/a.md"]
    assert counts(result)[0] == (2, 0, 0, 2, 1, 0)


def test_same_file_name_in_two_folders_is_a_duplicate_on_line_1(tmp_path):
    write(tmp_path / "s" / "a" / "x.md", article("One"))
    write(tmp_path / "s" / "b" / "x.md", article("Two"))
    result = seed(tmp_path, "s")
    assert result.stderr.splitlines() == ["s/b/x.md:1: duplicate id 'x': already loaded from s/a/x.md"]


def test_unreadable_files_are_reported(tmp_path):
    write(tmp_path / "s" / "a.md", article("A"))
    os.symlink(tmp_path / "nowhere.md", tmp_path / "s" / "broken.md")
    result = seed(tmp_path, "s")
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["s/broken.md:1: cannot read the file: No such file or directory"]
    assert counts(result)[0] == (1, 1, 0, 0, 1, 0)


def test_a_file_without_read_permission_is_reported(tmp_path):
    write(tmp_path / "s" / "a.md", article("A"))
    secret = write(tmp_path / "s" / "secret.md", article("S"))
    secret.chmod(0)
    result = newsgraph("seed", "s", "--db", "db/newsgraph.json", cwd=tmp_path, preexec_fn=without_root_powers)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["s/secret.md:1: cannot read the file: Permission denied"]
    assert sorted(stored(tmp_path)) == ["a"]


def test_a_folder_without_read_permission_is_reported_and_the_rest_loads(tmp_path):
    write(tmp_path / "s" / "a.md", article("A"))
    write(tmp_path / "s" / "private" / "p.md", article("P"))
    write(tmp_path / "s" / "z" / "z.md", article("Z"))
    assert seed(tmp_path, "s").returncode == 0
    (tmp_path / "s" / "private").chmod(0)
    try:
        result = newsgraph(
            "seed", "s", "--prune", "--db", "db/newsgraph.json", cwd=tmp_path, preexec_fn=without_root_powers
        )
    finally:
        (tmp_path / "s" / "private").chmod(0o755)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["s/private:1: cannot read the folder: Permission denied"]
    assert counts(result) == ((2, 0, 0, 2, 1, 0), "")
    assert sorted(stored(tmp_path)) == ["a", "p", "z"]  # even --prune keeps what the folder may hold


def test_a_file_name_that_is_not_utf8_is_one_line_and_the_others_load(tmp_path):
    write(tmp_path / "s" / "a.md", article("A"))
    folder = os.fsencode(tmp_path / "s")
    with open(os.path.join(folder, b"caf\xe9.md"), "wb") as handle:
        handle.write(article("Café").encode())
    with open(os.path.join(folder, b"id-set.md"), "wb") as handle:
        handle.write(article("Fine").encode())
    write(tmp_path / "outside.md", article("Outside", "id: outside"))
    os.symlink(b"../outside.md", os.path.join(folder, b"link-\xff.md"))  # a good file under a bad name
    result = seed(tmp_path, "s")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "s/caf\\xe9.md:1: the file name is not valid UTF-8: rename it",
        "s/link-\\xff.md:1: the file name is not valid UTF-8: rename it",
    ]
    assert counts(result) == ((2, 2, 0, 0, 2, 0), "")
    assert sorted(stored(tmp_path)) == ["a", "id-set"]


@pytest.mark.parametrize("store", ["tinydb", "postgres"])
def test_both_stores_refuse_the_same_files_one_line_each_and_load_the_rest(tmp_path, store, request):
    """Text no store can keep the same (NUL, lone surrogates) and names that are not UTF-8, on both stores."""
    folder = tmp_path / "s"
    write(folder / "001_good.md", article("Good", "topics: [AI]"))
    write(folder / "002_nul-body.md", article("Body", body="before\x00after\n"))
    write(folder / "003_nul-title.md", article('"Nul \\0 inside"'))
    write(folder / "004_nul-extra.md", article("Extra", "x-notes:", '  - "fine"', '  - "a \\x00 b"'))
    write(folder / "005_surrogate.md", article('"lone \\udc80"'))
    with open(os.path.join(os.fsencode(folder), b"006_caf\xe9.md"), "wb") as handle:
        handle.write(article("Name").encode())
    write(folder / "007_also-good.md", article("Also good"))
    if store == "postgres":
        env = {"NEWSGRAPH_DATABASE_URL": request.getfixturevalue("pg_schema_url")}
    else:
        env = {"NEWSGRAPH_DB": "db/newsgraph.json"}
    result = newsgraph("seed", "s", "--quiet", cwd=tmp_path, env=env)
    assert result.returncode == 1
    nul = "contains the NUL character (U+0000), which text may not hold (PostgreSQL cannot store it)"
    assert result.stderr.splitlines() == [
        f"s/002_nul-body.md:4: body {nul}",
        f"s/003_nul-title.md:2: title {nul}",
        f"s/004_nul-extra.md:5: x-notes[1] {nul}",
        "s/005_surrogate.md:2: invalid YAML frontmatter: found invalid Unicode character escape code",
        "s/006_caf\\xe9.md:1: the file name is not valid UTF-8: rename it",
    ]
    assert counts(result) == ((2, 2, 0, 0, 5, 0), "")
    stats = newsgraph("stats", cwd=tmp_path, env=env)
    assert "articles   2" in stats.stdout, stats.stdout + stats.stderr


def test_file_names_with_line_breaks_are_escaped_in_reports(tmp_path):
    write(tmp_path / "s" / "bad\nname.md", article("T", "quality: high"))
    write(tmp_path / "s" / "bad\rname2.md", "no frontmatter\n")
    write(tmp_path / "s" / "good\nname.md", article("Good"))
    result = seed(tmp_path, "s")
    assert result.stderr.splitlines() == [
        "s/bad\\nname.md:3: quality must be an integer, got 'high'",
        "s/bad\\rname2.md:1: no frontmatter: the file must start with a '---' line",
    ]
    assert counts(result) == ((1, 1, 0, 0, 2, 0), "")
    assert sorted(stored(tmp_path)) == ["good\nname"]


def test_a_folder_without_seed_files_says_so_and_exits_1(tmp_path):
    write(tmp_path / "only-yaml" / "a.yaml", article("A"))
    result = seed(tmp_path, "only-yaml")
    assert result.returncode == 1
    assert result.stderr == "no seed files found in only-yaml (seed files end in .md, .markdown or .txt)\n"
    assert counts(result) == ((0, 0, 0, 0, 0, 0), "")
    (tmp_path / "empty").mkdir()
    write(tmp_path / "s" / "b.md", article("B"))
    result = seed(tmp_path, "s", "empty")
    assert result.returncode == 1
    assert result.stderr == "no seed files found in empty (seed files end in .md, .markdown or .txt)\n"
    assert sorted(stored(tmp_path)) == ["b"]


def test_an_unknown_key_warns_once_per_run_with_the_closest_known_key_and_is_kept(tmp_path):
    write(tmp_path / "s" / "a.md", article("A", "tpye: news", "publishedDatetime: 2020-01-01", "x-custom: 1"))
    write(tmp_path / "s" / "b.md", article("B", "tpye: blog"))
    write(tmp_path / "s" / "c.md", article("C", "secured: token", "type: news"))
    result = seed(tmp_path, "s")
    assert result.returncode == 0  # warnings are not failures
    assert result.stderr.splitlines() == [
        "s/a.md:3: warning: unknown key 'tpye' (did you mean 'type'?); kept in the store, not served",
        "s/a.md:4: warning: unknown key 'publishedDatetime' (did you mean 'publishedDateTime'?); "
        "kept in the store, not served",
        "s/a.md:5: warning: unknown key 'x-custom'; kept in the store, not served",
    ]
    docs = stored(tmp_path)
    assert (docs["a"]["tpye"], docs["b"]["tpye"], docs["a"]["x-custom"]) == ("news", "blog", 1)
    assert seed(tmp_path, "s").stderr == ""  # unchanged files are not parsed again


def test_crlf_files_store_their_body_with_lf(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.md").write_bytes(b"---\r\ntitle: A\r\nexcerpt: one\r\n---\r\nFirst line\r\nsecond\r\n\r\nthird\r\n")
    (tmp_path / "s" / "b.md").write_bytes(b"---\ntitle: B\n---\na stray\rCR\n")
    result = seed(tmp_path, "s")
    assert (result.returncode, result.stderr) == (0, "")
    docs = stored(tmp_path)
    assert docs["a"]["body"] == "First line\nsecond\n\nthird"
    assert docs["a"]["excerpt"] == "one"
    assert docs["b"]["body"] == "a stray\nCR"


# -- file modes ------------------------------------------------------------------------------------------


def database_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "db"
    return [folder / "newsgraph.json", folder / ".newsgraph.json.marks", folder / ".newsgraph.json.snapshot"]


def modes(paths: list[Path]) -> list[str]:
    return [oct(path.stat().st_mode & 0o7777) for path in paths]


def test_a_seed_keeps_the_mode_and_owner_of_the_database_and_its_side_files(tmp_path):
    path = write(tmp_path / "s" / "a.md", article("A", "secured: token"))
    assert seed(tmp_path, "s").returncode == 0
    files = database_files(tmp_path)
    for file in files:
        file.chmod(0o600)  # as SECURITY.md advises
    if os.geteuid() == 0:
        for file in files:
            os.chown(file, 65534, 65534)  # the server's own user (nobody here)
    write(path, article("A, changed", "secured: token"))
    result = seed(tmp_path, "s")
    assert counts(result)[0] == (1, 0, 1, 0, 0, 0)
    assert modes(files) == ["0o600"] * 3
    if os.geteuid() == 0:
        assert [(f.stat().st_uid, f.stat().st_gid) for f in files] == [(65534, 65534)] * 3
    assert stored(tmp_path)["a"]["title"] == "A, changed"
    # A side file made anew follows its database, not the umask.
    files[1].unlink()
    write(path, article("A, again", "secured: token"))
    assert seed(tmp_path, "s").returncode == 0
    assert modes(files) == ["0o600"] * 3


def test_a_new_database_and_side_files_follow_the_umask(tmp_path):
    write(tmp_path / "s" / "a.md", article("A"))

    def umask_027() -> None:
        os.umask(0o027)

    result = newsgraph("seed", "s", "--db", "db/newsgraph.json", cwd=tmp_path, preexec_fn=umask_027)
    assert result.returncode == 0, result.stderr
    assert modes(database_files(tmp_path)) == ["0o640"] * 3


# -- options ---------------------------------------------------------------------------------------------


def test_strict_writes_nothing_when_a_file_is_bad(tmp_path):
    write(tmp_path / "s" / "a.md", article("A"))
    assert seed(tmp_path, "s").returncode == 0
    before = (tmp_path / "db" / "newsgraph.json").read_bytes()
    write(tmp_path / "s" / "b.md", article("B"))
    write(tmp_path / "s" / "c.md", article(""))
    result = seed(tmp_path, "s", "--strict")
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["s/c.md:2: title is required"]
    assert counts(result) == ((2, 1, 0, 1, 1, 0), " (--strict: nothing written)")
    assert (tmp_path / "db" / "newsgraph.json").read_bytes() == before
    # without the bad file, --strict writes
    (tmp_path / "s" / "c.md").unlink()
    result = seed(tmp_path, "s", "--strict")
    assert (result.returncode, counts(result)) == (0, ((2, 1, 0, 1, 0, 0), ""))
    assert sorted(stored(tmp_path)) == ["a", "b"]


def test_dry_run_validates_and_reports_without_writing(tmp_path):
    write(tmp_path / "s" / "a.md", article("A"))
    write(tmp_path / "s" / "b.md", article("B", "heat: hot"))
    result = seed(tmp_path, "s", "--dry-run")
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["s/b.md:3: heat must be an integer, got 'hot'"]
    assert counts(result) == ((1, 1, 0, 0, 1, 0), " (dry run: nothing written)")
    assert not (tmp_path / "db" / "newsgraph.json").exists()


def test_prune_removes_articles_whose_files_are_gone_but_not_those_of_bad_files(tmp_path):
    for name in ("a", "b", "c"):
        write(tmp_path / "s" / f"{name}.md", article(name.upper()))
    seed(tmp_path, "s")
    (tmp_path / "s" / "a.md").unlink()
    write(tmp_path / "s" / "b.md", "broken now\n")
    result = seed(tmp_path, "s")
    assert counts(result)[0] == (1, 0, 0, 1, 1, 0)
    assert sorted(stored(tmp_path)) == ["a", "b", "c"]  # without --prune nothing goes
    result = seed(tmp_path, "s", "--prune", "--dry-run")
    assert counts(result) == ((1, 0, 0, 1, 1, 1), " (dry run: nothing written)")
    result = seed(tmp_path, "s", "--prune")
    assert result.stderr.splitlines() == ["s/b.md:1: no frontmatter: the file must start with a '---' line"]
    assert counts(result)[0] == (1, 0, 0, 1, 1, 1)
    assert sorted(stored(tmp_path)) == ["b", "c"]  # b's file is bad: its article stays


# -- usage errors ------------------------------------------------------------------------------------------


def test_a_missing_path_is_a_usage_error(tmp_path):
    result = seed(tmp_path, "nope")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "newsgraph seed: no such file or folder: nope\n"
    assert not (tmp_path / "db").exists()


def test_a_bad_flag_is_a_usage_error(tmp_path):
    result = seed(tmp_path, "--bogus")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == "newsgraph: error: unrecognized arguments: --bogus"


# -- progress bar ------------------------------------------------------------------------------------------


def run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal; its exit status and what the terminal showed."""
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal has a size
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "graph", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=secondary
    )
    os.close(secondary)
    shown = b""
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    return process.wait(60), shown.decode(errors="replace")


def test_a_progress_bar_only_on_a_terminal(tmp_path):
    for n in range(3):
        write(tmp_path / "s" / f"{n}.md", article(f"T{n}"))
    status, shown = run_on_a_terminal(["seed", "s", "--db", "db/newsgraph.json"], tmp_path)
    assert status == 0
    assert "reading:   0%" in shown and "0/3" in shown
    # Two stages, both left on the screen when done: the final bar of each ends its own line.
    final = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in shown.split("\n") if line.strip()]
    assert [line.split("|")[0] for line in final] == ["reading: 100%", "writing: 100%"], shown
    assert "3/3" in final[0] and "3/3 [" in final[1] and "article" in final[1]
    # Nothing to write: no writing stage.
    status, shown = run_on_a_terminal(["seed", "s", "--db", "db/newsgraph.json"], tmp_path)
    assert status == 0 and "reading: 100%" in shown and "writing" not in shown
    status, shown = run_on_a_terminal(["seed", "s", "--db", "db/newsgraph.json", "--quiet"], tmp_path)
    assert (status, shown) == (0, "")
    write(tmp_path / "s" / "3.md", article("T3"))
    result = seed(tmp_path, "s")  # stderr is a pipe: no bar
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("workers", ["parallel", "one process"])
def test_many_files_load_the_same_in_parallel(tmp_path, workers):
    """Above graph.seed.PARALLEL_FROM files parsing runs in worker processes; order and errors stay the same."""
    from graph.seed import PARALLEL_FROM

    count = PARALLEL_FROM + 50 if workers == "parallel" else 40
    for n in range(count):
        write(tmp_path / "s" / f"{n:04d}_f{n}.md", article(f"T{n}", f"id: id{n % (count - 5)}", f"quality: {n}"))
    write(tmp_path / "s" / "0003_f3.md", article("T3", "quality: bad"))
    result = seed(tmp_path, "s")
    expected = ["s/0003_f3.md:3: quality must be an integer, got 'bad'"] + [
        f"s/{n:04d}_f{n}.md:3: duplicate id 'id{n - count + 5}': already loaded from s/{n - count + 5:04d}_f{n - count + 5}.md"
        for n in range(count - 5, count)
        if n - count + 5 != 3
    ]
    assert result.stderr.splitlines() == expected
    docs = stored(tmp_path)
    assert len(docs) == count - 5 - 1 + 1  # id3 is loaded from the later duplicate, the first one being bad
    assert docs["id0"]["quality"] == 0 and docs["id3"]["quality"] == count - 2
