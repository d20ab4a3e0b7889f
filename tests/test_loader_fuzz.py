"""Fuzzing the seed-file loader: whatever the bytes, parse_file returns a storable
document or raises DocumentError reading ``path:line: reason`` on one line.

Five properties, 300 examples each: random bytes, random YAML structures,
wrong types in every field of a valid document, and a valid file with bytes
mutated; and the fast YAML construction against the full one.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, timezone
from typing import Any

import orjson
import yaml
from conftest import SEEDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.documents import DocumentError, load_yaml, parse_file

PATH = "seeds/sub dir/000_fuzz.md"
ERROR = re.compile(rf"^{re.escape(PATH)}:(\d+): (.+)$")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SHIPPED = (SEEDS / "000_9a7be0820e1ffd4a.txt").read_bytes()
SHIPPED_META = yaml.safe_load(SHIPPED.decode().split("\n---\n")[0][4:])


def check(data: bytes) -> dict[str, Any] | None:
    """The property: a storable document, or a one-line DocumentError naming the file and a line."""
    try:
        doc = parse_file(PATH, data)
    except DocumentError as exc:
        text = str(exc)
        match = ERROR.match(text)
        assert match is not None, text
        assert "\n" not in text and "\r" not in text, text
        assert 1 <= int(match.group(1)) <= data.count(b"\n") + 2, text
        assert (exc.path, str(exc.line), exc.reason) == (PATH, match.group(1), match.group(2))
        return None
    assert isinstance(doc["id"], str) and doc["id"].strip()
    assert isinstance(doc["title"], str) and doc["title"].strip()
    assert isinstance(doc["body"], str)
    orjson.dumps(doc)  # the store can hold it
    return doc


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.binary(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4)
    ),
    max_leaves=20,
)


def dump(meta: Any, style: str | None = None, flow: bool | None = None) -> bytes:
    text = yaml.safe_dump(meta, default_style=style, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    return f"---\n{text}---\nbody\n".encode()


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data):
    check(data)


@FUZZ
@given(
    st.one_of(values, st.dictionaries(st.sampled_from([*SHIPPED_META, "id", "body", "_seed"]), values, max_size=8)),
    st.sampled_from([None, '"', "'"]),
    st.sampled_from([None, True, False]),
)
def test_random_yaml_structures(meta, style, flow):
    check(dump(meta, style, flow))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a structure (to replace any one field of the shipped seed)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


FIELD_PATHS = _paths(SHIPPED_META)


@FUZZ
@given(st.sampled_from(FIELD_PATHS), values)
def test_wrong_types_in_every_field(path, replacement):
    meta = copy.deepcopy(SHIPPED_META)
    target = meta
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = replacement
    doc = check(dump(meta))
    if doc is None:
        return
    # Accepted: then the field holds something of the type the contract wants (or was dropped as null).
    field = path[0]
    if field in ("quality", "heat") and doc.get(field) is not None:
        assert type(doc[field]) is int
    if field == "published" and doc.get(field) is not None:
        assert type(doc[field]) is bool
    if field == "publishedDateTime" and doc.get(field) is not None:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc[field])
        datetime.strptime(doc[field], "%Y-%m-%dT%H:%M:%SZ")


@FUZZ
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=len(SHIPPED)), st.binary(max_size=4), st.integers(0, 4)), max_size=6))
def test_mutated_shipped_seed(edits):
    data = bytearray(SHIPPED)
    for at, insert, delete in edits:
        data[at : at + delete] = insert
    check(bytes(data))


def full_constructor(text: str) -> tuple[str, Any]:
    from graph.documents import _Loader

    try:
        return "value", yaml.load(text, Loader=_Loader)
    except Exception as exc:  # the outcome to compare: which error, with what text
        return type(exc).__name__, str(exc)


def fast_constructor(text: str) -> tuple[str, Any]:
    try:
        return "value", load_yaml(text)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (so 1 == True or 1 == 1.0 do not pass), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


YAML_SNIPPETS = ["a: 1", "b: [1, 2.5, x]", "c: {d: null, e: true}", "? [k]\n: v", "= : 3", "x: =", "<<: {m: 1}",
                 "t: 2020-01-02", "t: 2020-13-45", "y: &a [1]", "z: *a", "s: !!str 5", "n: ~", "f: .inf", "o: 0o17",
                 "- item", "'q': \"w\"", "k: |\n  block\n", "u: 1_000", "h: 0x1F", "bad: [", "d: a: b", "dup: 1\ndup: 2"]


@FUZZ
@given(
    st.one_of(
        st.lists(st.sampled_from(YAML_SNIPPETS), max_size=6).map("\n".join),
        values.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
        st.text(alphabet=st.sampled_from(list("ab:-[]{},&*!<=?'\"\n 0123.~")), max_size=40),
    )
)
def test_the_fast_yaml_path_builds_what_the_full_constructor_builds(text):
    fast, full = fast_constructor(text), full_constructor(text)
    assert fast[0] == full[0], (text, fast, full)
    assert same(fast[1], full[1]), (text, fast, full)
