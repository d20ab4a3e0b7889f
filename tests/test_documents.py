"""graph.documents: parsing, validation and normalization of one seed file.

Every bad input DESIGN.md names gets its exact message: the file, the line and
the field. The CLI side (stderr, exit codes) is in test_seed_cli.py.
"""

from __future__ import annotations

import pickle
import re
import re._parser as sre_parse
from datetime import datetime, timezone

import ftfy
import pytest
from conftest import SEEDS
from ftfy.badness import BADNESS_RE
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import text as text_module
from graph.dates import format_datetime
from graph.documents import DocumentError, id_from_path, parse_file
from graph.text import repair_text

SHIPPED = SEEDS / "000_9a7be0820e1ffd4a.txt"


def error_of(data: bytes, name: str = "seeds/a.md") -> str:
    with pytest.raises(DocumentError) as caught:
        parse_file(name, data)
    return str(caught.value)


def fm(*lines: str) -> bytes:
    """A file whose frontmatter is lines (line 1 is the opening '---', so lines start at line 2)."""
    return ("---\n" + "".join(line + "\n" for line in lines) + "---\n").encode()


# -- the shipped seed ------------------------------------------------------------------------------


def test_the_shipped_seed_parses_with_its_id_from_the_file_name():
    doc = parse_file(SHIPPED, SHIPPED.read_bytes())
    assert doc["id"] == "9a7be0820e1ffd4a"
    assert doc["title"] == "City releases dozens of pages of emails on police use of facial recognition"
    assert doc["publishedDateTime"] == "2020-12-14T19:04:00Z"
    assert doc["quality"] == 72 and doc["heat"] == -1 and doc["published"] is False
    assert doc["provider"] == {"name": "The Lens", "domain": "thelensnola.org"}
    assert doc["topics"] == ["Computer Vision", "AI"]
    assert doc["images"][0] == {
        "url": "https://i2.wp.com/thelensnola.org/wp-content/uploads/2020/12/DSC_5214-scaled.jpg?fit=2560%2C1709&ssl=1",
        "width": 2560,
        "height": 1709,
        "isCached": True,
    }
    assert [r["provider"]["domain"] for r in doc["related"]] == ["nola.com", "aclu.org"]
    assert doc["related"][0]["publishedDateTime"] == "2020-12-14T23:30:00Z"
    assert doc["secured"].startswith("50BdjUTtTwd8eW3fEoPxyrWaX5U4Y0dESFhMciZrXVg2JZKJNT9cbH+ISutwdPrJi6")
    assert doc["body"] == ""
    assert "_seed" not in doc


def test_mojibake_is_repaired_and_raw_text_keeps_it():
    repaired = parse_file(SHIPPED, SHIPPED.read_bytes())["related"][1]["title"]
    raw = parse_file(SHIPPED, SHIPPED.read_bytes(), raw_text=True)["related"][1]["title"]
    assert repaired == (
        "ACLU of Louisiana Obtains E-mails that Confirm NOPD’s Use of Racially Biased Facial Recognition Technology"
    )
    assert raw == (
        "ACLU of Louisiana Obtains E-mails that Confirm NOPDâ€™s Use of Racially Biased Facial Recognition Technology"
    )


def test_repair_covers_every_text_field_but_not_urls():
    doc = parse_file(
        "a.md",
        fm(
            "title: NOPDâ€™s title",
            "excerpt: cafÃ© excerpt",
            "category: Ã©",
            "webUrl: 'https://x.org/â€™'",
            "provider: {name: 'Le CafÃ©', domain: x.org}",
            "topics: [NOPDâ€™s]",
            "related: [{title: 'itâ€™s', excerpt: 'itâ€™s', type: 'Ã©'}]",
        )
        + "Body with cafÃ© in it.\n".encode(),
    )
    assert doc["title"] == "NOPD’s title"
    assert doc["excerpt"] == "café excerpt"
    assert doc["category"] == "é"
    assert doc["webUrl"] == "https://x.org/â€™"
    assert doc["provider"]["name"] == "Le Café"
    assert doc["topics"] == ["NOPD’s"]
    assert doc["related"][0] == {"title": "it’s", "excerpt": "it’s", "type": "é"}
    assert doc["body"] == "Body with café in it."


# -- ids, extras, normalization ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("000_9a7be0820e1ffd4a.txt", "9a7be0820e1ffd4a"), ("12_x.md", "x"), ("plain.markdown", "plain"), ("7_.md", "7_")],
)
def test_id_from_the_file_name_drops_a_leading_ordinal(name, expected):
    assert id_from_path(f"seeds/{name}") == expected


def test_frontmatter_id_wins_over_the_file_name():
    assert parse_file("seeds/001_file.md", fm("id: chosen", "title: t"))["id"] == "chosen"
    assert parse_file("seeds/001_file.md", fm("id: 42", "title: t"))["id"] == "42"


def test_unknown_keys_are_kept_json_safe():
    doc = parse_file(
        "a.md",
        fm(
            "title: t",
            "extra: {nested: [1, 2.5, true, null], when: 2020-01-02}",
            "blob: !!binary aGVsbG8=",
            "tags: !!set {b, a}",
            "provider: {domain: x.org, rank: 3}",
            "images: [{url: u, alt: picture}]",
            "related: [{title: r, note: n}]",
        ),
    )
    assert doc["extra"] == {"nested": [1, 2.5, True, None], "when": "2020-01-02"}
    assert doc["blob"] == "aGVsbG8="
    assert doc["tags"] == ["a", "b"]
    assert doc["provider"] == {"domain": "x.org", "rank": 3}
    assert doc["images"] == [{"url": "u", "alt": "picture"}]
    assert doc["related"] == [{"title": "r", "note": "n"}]


@pytest.mark.parametrize(
    ("value", "served"),
    [
        ("2020-12-14T19:04:00Z", "2020-12-14T19:04:00Z"),
        ("2020-12-14T21:04:00+02:00", "2020-12-14T19:04:00Z"),
        ("'2020-12-14T19:04:00.999Z'", "2020-12-14T19:04:00Z"),
        ("2020-12-14", "2020-12-14T00:00:00Z"),
        ("'2020-12-14 19:04'", "2020-12-14T19:04:00Z"),
        ("0099-01-01T00:00:00Z", "0099-01-01T00:00:00Z"),
    ],
)
def test_date_times_are_served_in_utc(value, served):
    assert parse_file("a.md", fm("title: t", f"publishedDateTime: {value}"))["publishedDateTime"] == served


def test_format_datetime_pads_the_year():
    assert format_datetime(datetime(5, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "0005-01-02T03:04:05Z"


def test_body_is_the_text_after_the_frontmatter_and_line_numbers_count_blank_lines():
    doc = parse_file("a.md", b"\n\n---\n\n\ntitle: t\n---\n\n  The body.\n\n")
    assert doc["body"] == "The body."
    assert error_of(b"\n\n---\n\n\ntitle: t\nquality: high\n---\n") == "seeds/a.md:7: quality must be an integer, got 'high'"


def test_crlf_files_parse():
    doc = parse_file("a.md", b"---\r\ntitle: t\r\nquality: 3\r\n---\r\nbody\r\n")
    assert (doc["title"], doc["quality"], doc["body"]) == ("t", 3, "body")


def test_errors_survive_pickling_for_worker_processes():
    error = DocumentError("seeds/a.md", 3, "title is required")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.path, copy.line, copy.reason) == ("seeds/a.md:3: title is required", "seeds/a.md", 3, "title is required")


# -- every bad input DESIGN.md names ---------------------------------------------------------------

BAD_FILES = [
    # (data, "line: reason")
    (b"---\ntitle: ok\nexcerpt: caf\xe9\n---\n", "3: not UTF-8 text (byte 26)"),
    (b"title: x\n", "1: no frontmatter: the file must start with a '---' line"),
    (b"", "1: no frontmatter: the file must start with a '---' line"),
    (b"\n\nhello\n", "3: no frontmatter: the file must start with a '---' line"),
    (b"\n---\ntitle: x\n", "2: the frontmatter opened here has no closing '---' line"),
    (fm("title: x", "excerpt: [a, b", "quality: 1"), "4: invalid YAML frontmatter: did not find expected ',' or ']'"),
    (fm("title: x", "  bad: indent"), "3: invalid YAML frontmatter: mapping values are not allowed in this context"),
    (fm("title: x", "x: !!python/object:os.system x"),
     "3: invalid YAML frontmatter: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'"),
    (fm("title: x", "x: !!int many"), "3: invalid YAML frontmatter: invalid int 'many': invalid literal for int() with base 10: 'many'"),
    (fm("- a", "- b"), "2: the frontmatter must be a mapping of keys to values, got a list"),
    (fm("just text"), "2: the frontmatter must be a mapping of keys to values, got 'just text'"),
    (fm("excerpt: x"), "2: title is required"),
    (b"---\n---\nbody\n", "1: title is required"),
    (fm("title:"), "2: title is required"),
    (fm("title: ''"), "2: title must be a non-empty string, got ''"),
    (fm("title: '   '"), "2: title must be a non-empty string, got '   '"),
    (fm("title: 5"), "2: title must be a non-empty string, got 5"),
    (fm("id: [a]", "title: t"), "2: id must be a non-empty string, got a list"),
    (fm("title: t", "body: x"), "3: body is reserved and cannot be set in the frontmatter"),
    (fm("title: t", "5: x"), "3: keys must be text, got 5"),
    (fm("title: t", "category: [a]"), "3: category must be a string, got a list"),
    (fm("title: t", "excerpt: 5"), "3: excerpt must be a string, got 5"),
    (fm("title: t", "type: true"), "3: type must be a string, got True"),
    (fm("title: t", "originalUrl: 5"), "3: originalUrl must be a string, got 5"),
    (fm("title: t", "webUrl: {a: b}"), "3: webUrl must be a string, got a mapping"),
    (fm("title: t", "ampWebUrl: 1.5"), "3: ampWebUrl must be a string, got 1.5"),
    (fm("title: t", "cdnAmpWebUrl: [x]"), "3: cdnAmpWebUrl must be a string, got a list"),
    (fm("title: t", "quality: high"), "3: quality must be an integer, got 'high'"),
    (fm("title: t", "quality: true"), "3: quality must be an integer, got True"),
    (fm("title: t", "heat: 1.5"), "3: heat must be an integer, got 1.5"),
    (fm("title: t", "quality: 99999999999"), "3: quality must be an integer from -2147483648 to 2147483647, got 99999999999"),
    (fm("title: t", "published: 'yes'"), "3: published must be true or false, got 'yes'"),
    (fm("title: t", "published: 1"), "3: published must be true or false, got 1"),
    (fm("title: t", "publishedDateTime: yesterday"), "3: publishedDateTime must be an ISO-8601 date-time, got 'yesterday'"),
    (fm("title: t", "publishedDateTime: 2020-13-45"), "3: publishedDateTime must be an ISO-8601 date-time, got '2020-13-45'"),
    (fm("title: t", "publishedDateTime: 5"), "3: publishedDateTime must be an ISO-8601 date-time, got 5"),
    (fm("title: t", "publishedDateTime: 0001-01-01T00:00:00+01:00"),
     "3: publishedDateTime is out of range in UTC, got 0001-01-01T00:00:00+01:00"),
    (fm("title: t", "provider: lens"), "3: provider must be a mapping, got 'lens'"),
    (fm("title: t", "provider:", "  name: The Lens"), "3: provider.domain is required"),
    (fm("title: t", "provider:", "  name: The Lens", "  domain: 5"), "5: provider.domain must be a non-empty string, got 5"),
    (fm("title: t", "provider:", "  name: [x]", "  domain: a.org"), "4: provider.name must be a string, got a list"),
    (fm("title: t", "topics: AI"), "3: topics must be a list of strings, got 'AI'"),
    (fm("title: t", "topics:", "  - AI", "  - 5"), "5: topics[1] must be a string, got 5"),
    (fm("title: t", "images:", "  url: x"), "3: images must be a list of mappings, got a mapping"),
    (fm("title: t", "images:", "  - 5"), "4: images[0] must be a mapping, got 5"),
    (fm("title: t", "images:", "  - width: 5"), "4: images[0].url is required"),
    (fm("title: t", "images:", "  - url: 5"), "4: images[0].url must be a string, got 5"),
    (fm("title: t", "images:", "  - url: x", "    width: big"), "5: images[0].width must be an integer, got 'big'"),
    (fm("title: t", "images:", "  - url: x", "    height: 2.5"), "5: images[0].height must be an integer, got 2.5"),
    (fm("title: t", "images:", "  - url: x", "    isCached: 'no'"), "5: images[0].isCached must be true or false, got 'no'"),
    (fm("title: t", "related: x"), "3: related must be a list of mappings, got 'x'"),
    (fm("title: t", "related:", "  - 5"), "4: related[0] must be a mapping, got 5"),
    (fm("title: t", "related:", "  - title: a", "  - excerpt: b"), "5: related[1].title is required"),
    (fm("title: t", "related:", "  - title: ''"), "4: related[0].title must be a non-empty string, got ''"),
    (fm("title: t", "related:", "  - title: a", "    excerpt: 5"), "5: related[0].excerpt must be a string, got 5"),
    (fm("title: t", "related:", "  - title: a", "    webUrl: [x]"), "5: related[0].webUrl must be a string, got a list"),
    (fm("title: t", "related:", "  - title: a", "    type: 5"), "5: related[0].type must be a string, got 5"),
    (fm("title: t", "related:", "  - title: a", "    quality: high"), "5: related[0].quality must be an integer, got 'high'"),
    (fm("title: t", "related:", "  - title: a", "    publishedDateTime: soon"),
     "5: related[0].publishedDateTime must be an ISO-8601 date-time, got 'soon'"),
    (fm("title: t", "related:", "  - title: a", "    provider: x"), "5: related[0].provider must be a mapping, got 'x'"),
    (fm("title: t", "related:", "  - title: a", "    provider:", "      name: x"), "5: related[0].provider.domain is required"),
    (fm("title: t", "related:", "  - title: a", "    provider: {domain: ''}"),
     "5: related[0].provider.domain must be a non-empty string, got ''"),
    (fm("title: t", "related:", "  - title: a", "    images: x"), "5: related[0].images must be a list of mappings, got 'x'"),
    (fm("title: t", "related:", "  - title: a", "    images:", "      - width: 3"), "6: related[0].images[0].url is required"),
    (fm("title: t", "x: 999999999999999999999999"), "3: x is an integer too large to store, got 999999999999999999999999"),
    (fm("title: t", "x: &x [*x]"), "3: x nests deeper than 64 levels (YAML aliases)"),
    (fm("title: t", "a: &a [1,1,1,1,1,1,1,1,1,1]", "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]",
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]", "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]", "f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]"),
     "8: the frontmatter expands to more than 100000 values (YAML aliases)"),
]


@pytest.mark.parametrize(("data", "expected"), BAD_FILES, ids=[e for _, e in BAD_FILES])
def test_bad_file_reports_path_line_and_field(data, expected):
    assert error_of(data) == f"seeds/a.md:{expected}"


def test_errors_name_the_display_path_when_given():
    with pytest.raises(DocumentError) as caught:
        parse_file("/abs/seeds/a.md", fm("excerpt: x"), display="seeds/a.md")
    assert (caught.value.path, caught.value.line, caught.value.reason) == ("seeds/a.md", 2, "title is required")


# -- the mojibake fast path gives ftfy's exact answer ----------------------------------------------


def _required_members(item):
    """The characters an item of a regex branch must match, when it is a plain literal or set."""
    op, arg = item
    if str(op) == "LITERAL":
        return [arg]
    if str(op) != "IN" or any(str(o) == "NEGATE" for o, _ in arg):
        return None
    members = []
    for o, a in arg:
        if str(o) == "LITERAL":
            members.append(a)
        elif str(o) == "RANGE":
            members.extend(range(a[0], a[1] + 1))
        else:
            return None
    return members


def test_every_badness_pattern_needs_a_character_the_fast_path_looks_for():
    parsed = sre_parse.parse(BADNESS_RE.pattern, BADNESS_RE.flags)
    assert parsed.getwidth()[1] <= text_module._BADNESS_WIDTH
    ((_, (_, branches)),) = parsed.data
    assert len(branches) > 30
    for branch in branches:
        needed = [_required_members(item) for item in branch]
        assert any(
            m and all(c >= 0x80 and text_module._FTFY_TRIGGERS.match(chr(c)) for c in m) for m in needed
        ), branch


MOJIBAKE_PARTS = ["â€™", "â€œ", "â€", "Ã©", "Ã¼", "Ã", "Â", "Â ", "Ã ", "Ð¿Ñ€", "Ø§Ù", "вЂ", "Ãƒ", "\x92", "\x85"]
TEXT_PARTS = ["Zürich", "café", "’", "“x”", "—", "東京", "Київ", "Αθήνα", "½", "°C", "No.", "ﬁ", " ", "\n", "a", "It", "."]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(MOJIBAKE_PARTS + TEXT_PARTS), st.text(min_size=1, max_size=3)),
        max_size=40,
    )
)
def test_repair_text_equals_ftfy(parts):
    text = "".join(parts)
    assert repair_text(text) == ftfy.fix_text(text, text_module._REPAIR)


def test_repair_text_fixes_long_multiline_text_line_by_line():
    clean = "A clean line about Zürich and café, long enough to be windowed. " * 3
    text = f"{clean}\nNOPDâ€™s line\n{clean}\n"
    assert repair_text(text) == f"{clean}\nNOPD’s line\n{clean}\n"
    assert re.fullmatch(r"[\x00-\x7f]*", repair_text("plain ascii")) is not None
