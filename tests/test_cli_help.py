"""The CLI as a person meets it: --help of every command (options, defaults,
environment variables), one-line errors unless --debug, `stats` as a table,
and `export-schema` for client code generators."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import fields
from pathlib import Path

import pytest
from graphql import build_client_schema, build_schema, lexicographic_sort_schema, print_schema

from conftest import SEEDS, newsgraph
from graph.cli import build_parser
from graph.config import Limits, Settings
from graph.schema import sdl

COMMANDS = ["seed", "serve", "export-schema", "stats", "trusted-documents"]
SETTING_NAMES = {f.name for f in fields(Settings) if f.name != "limits"} | {f.name for f in fields(Limits)}
# Flags that turn a setting off name the setting they turn off.
FLAG_SETTINGS = {
    "no_introspection": "introspection",
    "no_graphiql": "graphiql",
    "no_access_log": "access_log",
    "no_frontend": "frontend",
}


def flat(text: str) -> str:
    """Help text with argparse's line wrapping undone."""
    return " ".join(text.split())


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def test_top_level_help_lists_commands_and_every_variable_with_its_default() -> None:
    result = newsgraph("--help")
    assert (result.returncode, result.stderr) == (0, "")
    for command in COMMANDS:
        assert f"    {command}" in result.stdout
    assert "--debug show tracebacks instead of one-line errors (default: off)" in flat(result.stdout)
    assert re.search(r"\n  NEWSGRAPH_DB +default: db/newsgraph\.json\n", result.stdout)
    assert re.search(r"\n  NEWSGRAPH_PORT +default: 8000\n", result.stdout)
    assert re.search(r"\n  NEWSGRAPH_MAX_COST +default: 50000\n", result.stdout)
    for name in SETTING_NAMES:
        assert re.search(rf"\n  NEWSGRAPH_{name.upper()} +default: ", result.stdout), name
    assert "exit status: 0 ok, 1 bad data or a failure, 2 usage or configuration error." in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_of_every_command_says_its_default_and_variable(command: str) -> None:
    parser = subparsers()[command]
    shown = flat(newsgraph(command, "--help").stdout)
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert options, command
    for action in options:
        help_text = flat(action.help or "")
        assert "default" in help_text, (command, action.dest)
        assert help_text in shown, (command, action.dest)
        setting = FLAG_SETTINGS.get(action.dest, action.dest)
        if setting in SETTING_NAMES:
            assert f"env NEWSGRAPH_{setting.upper()}" in help_text, (command, action.dest)
    assert "--debug show tracebacks instead of one-line errors (default: off)" in shown


def test_serve_help_in_words() -> None:
    shown = flat(newsgraph("serve", "--help").stdout)
    assert "--port PORT port to bind (env NEWSGRAPH_PORT; default: 8000)" in shown
    assert "--host HOST interface to bind (env NEWSGRAPH_HOST; default: 127.0.0.1)" in shown
    assert "--no-graphiql turn GraphiQL off (env NEWSGRAPH_GRAPHIQL=false; default: on)" in shown
    assert "--max-depth N limit: max depth (env NEWSGRAPH_MAX_DEPTH; default: 12)" in shown


def test_workers_is_a_setting_like_every_other(monkeypatch: pytest.MonkeyPatch) -> None:
    from graph.cli import _settings

    shown = flat(newsgraph("serve", "--help").stdout)
    assert "--workers N worker processes (env NEWSGRAPH_WORKERS; default: 1)" in shown
    monkeypatch.setenv("NEWSGRAPH_WORKERS", "3")
    assert _settings(build_parser().parse_args(["serve"])).workers == 3
    assert _settings(build_parser().parse_args(["serve", "--workers", "2"])).workers == 2  # a flag wins
    result = newsgraph("serve", env={"NEWSGRAPH_WORKERS": "0"})
    assert (result.returncode, result.stderr) == (2, "newsgraph: workers must be 1 or more, got 0\n")


def test_no_command_prints_the_help_and_exits_2() -> None:
    result = newsgraph()
    assert result.returncode == 2
    assert result.stdout.startswith("usage: newsgraph [-h] [--version] [--debug] COMMAND ...\n")


# ---- errors: one line, unless --debug ----------------------------------------------------


def test_a_bad_variable_is_one_line_and_exit_2() -> None:
    result = newsgraph("stats", env={"NEWSGRAPH_PORT": "abc"})
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "newsgraph: NEWSGRAPH_PORT must be an integer, got 'abc'\n"
    )
    result = newsgraph("serve", "--port", "70000")
    assert (result.returncode, result.stderr) == (2, "newsgraph: port must be 1..65535, got 70000\n")


def test_a_broken_database_is_one_line_and_exit_1_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    db.write_text("{not json", encoding="utf-8")
    result = newsgraph("stats", "--db", str(db))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"newsgraph: error: {db}: not a newsgraph database (invalid JSON: ")
    assert result.stderr.count("\n") == 1
    for args in (["--debug", "stats", "--db", str(db)], ["stats", "--db", str(db), "--debug"]):
        debug = newsgraph(*args)
        assert debug.returncode == 1
        assert debug.stderr.startswith("Traceback (most recent call last):\n")
        assert f"{db}: not a newsgraph database" in debug.stderr.splitlines()[-1]


def test_export_schema_to_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "schema.graphql"
    result = newsgraph("export-schema", "--output", str(target))
    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", f"newsgraph export-schema: cannot write {target}: No such file or directory\n"
    )


# ---- stats -----------------------------------------------------------------------------------


def test_stats_prints_a_table(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    assert newsgraph("seed", str(SEEDS), "--db", str(db), "--quiet").returncode == 0
    result = newsgraph("stats", "--db", str(db))
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    width = max(len(str(db)), len("2020-12-14T19:04:00Z"))
    assert lines[:3] == [
        "what       value",
        "---------  " + "-" * width,
        f"store      {db}",
    ]
    rows = dict(line.split(None, 1) for line in lines[2:])
    assert rows["articles"] == "1"
    assert rows["providers"] == "3"
    assert rows["topics"] == "2"
    assert rows["oldest"] == rows["newest"] == "2020-12-14T19:04:00Z"
    # Every row lines up under the header.
    assert all(line[9:11] == "  " and line[11] != " " for line in lines[2:])


# ---- export-schema -----------------------------------------------------------------------------


def test_export_schema_prints_the_served_sdl() -> None:
    result = newsgraph("export-schema")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == sdl()
    schema = build_schema(result.stdout)
    assert {"Article", "Provider", "Topic", "ArticleConnection"} <= set(schema.type_map)


def test_export_schema_json_is_the_same_schema_as_introspection(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    result = newsgraph("export-schema", "--json", "-o", str(target))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    introspection = json.loads(target.read_text(encoding="utf-8"))
    assert set(introspection) == {"data"}
    from_json = build_client_schema(introspection["data"])
    same = [print_schema(lexicographic_sort_schema(s)) for s in (from_json, build_schema(sdl()))]
    assert same[0] == same[1]
    article = introspection["data"]["__schema"]["types"]
    (article_type,) = [t for t in article if t["name"] == "Article"]
    (id_field,) = [f for f in article_type["fields"] if f["name"] == "id"]
    assert id_field["description"].startswith("The document's key")


def test_types_with_identity_expose_it_for_normalized_caches() -> None:
    """Article by id, Provider by domain, Topic by name: non-null, on every such type
    (what Apollo's keyFields and urql's keys rely on; see test_clients.py)."""
    schema = build_schema(sdl())
    identity = {"Article": "id", "Provider": "domain", "Topic": "name"}
    for type_name, key in identity.items():
        field = schema.type_map[type_name].fields[key]  # type: ignore[attr-defined]
        assert str(field.type) in {"ID!", "String!"}, type_name


def test_stats_of_a_database_that_is_not_there_says_so(tmp_path: Path) -> None:
    result = newsgraph("stats", "--db", "db/missing.json", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "newsgraph: error: db/missing.json: no database here (`newsgraph seed` creates it)\n"
    assert not (tmp_path / "db").exists()  # and nothing was created on the way
