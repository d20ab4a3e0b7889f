"""Text as newsgraph stores and quotes it: mojibake repair, and quoting a client's value in a message."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import ftfy
from ftfy.badness import BADNESS_RE

_REPAIR = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)


def _characters_ftfy_looks_at() -> re.Pattern[str]:
    """The non-ASCII characters BADNESS_RE can need, plus C1 controls and surrogates.

    ftfy changes a line only when BADNESS_RE finds something in it (every one of
    its alternatives needs one of these characters; tests/test_documents.py
    checks that) or when it holds C1 controls or surrogates. A line without any
    of these characters is returned as it is, so we skip ftfy for it.
    """
    spans: list[tuple[int, int]] = [(0x80, 0x9F), (0xD800, 0xDFFF)]
    try:
        import re._parser as sre_parse

        def walk(items: Any) -> None:
            for op, arg in items:
                name = str(op)
                if name == "LITERAL" and arg >= 0x80:
                    spans.append((arg, arg))
                elif name == "RANGE" and arg[1] >= 0x80:
                    spans.append((max(arg[0], 0x80), arg[1]))
                elif name == "IN":
                    walk(arg)
                elif name == "BRANCH":
                    for branch in arg[1]:
                        walk(branch)
                elif name == "SUBPATTERN":
                    walk(arg[-1])
                elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                    walk(arg[2])

        walk(sre_parse.parse(BADNESS_RE.pattern, BADNESS_RE.flags))
    except Exception:  # pragma: no cover - a future ftfy or Python: look at every line
        return re.compile(r"[^\x00-\x7f]")
    return re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in spans) + "]")


_FTFY_TRIGGERS = _characters_ftfy_looks_at()
_C1_OR_SURROGATE = re.compile("[\x80-\x9f\ud800-\udfff]")
# The longest text BADNESS_RE can match (7 in ftfy 6.3): a match that holds a
# trigger character lies within this distance of it.
_BADNESS_WIDTH = 7
_WINDOWS_AT_MOST = 8


def repair_text(text: str) -> str:
    """Undo mojibake (UTF-8 read as cp1252/latin-1): 'NOPDâ€™s' -> 'NOPD’s'.

    The same result as ``ftfy.fix_text`` with our configuration, which fixes
    each line on its own; lines ftfy would leave alone are not handed to it
    (ftfy costs ~100 us for a clean line with an accent, ~300 us to fix one).
    """
    if text.isascii() or not _FTFY_TRIGGERS.search(text):
        return text
    if "\n" not in text:
        return _repair_line(text)
    out = []
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        out.append(_repair_line(text[start:end]))
        start = end
    return "".join(out)


def _repair_line(line: str) -> str:
    if not _ftfy_would_change(line):
        return line
    return _fix_short(line) if len(line) <= 200 else ftfy.fix_text(line, _REPAIR)


def _ftfy_would_change(line: str) -> bool:
    """Whether ftfy.fix_text can change this line: BADNESS_RE matches, or C1 controls/surrogates.

    BADNESS_RE is searched only around the characters it needs, which is
    exact because every match holds one and is at most _BADNESS_WIDTH long.
    """
    if _C1_OR_SURROGATE.search(line):
        return True
    positions = [m.start() for m in _FTFY_TRIGGERS.finditer(line)]
    if not positions:
        return False
    if len(positions) > _WINDOWS_AT_MOST or len(line) <= 4 * _BADNESS_WIDTH:
        return BADNESS_RE.search(line) is not None
    reach = _BADNESS_WIDTH - 1
    for at in positions:
        if BADNESS_RE.search(line, max(0, at - reach), at + reach + 1) is not None:
            return True
    return False


@lru_cache(maxsize=8192)
def _fix_short(text: str) -> str:
    # Names, topics and titles repeat across files.
    return ftfy.fix_text(text, _REPAIR)


# How much of a client's value an error message quotes: a 60 KB input must not come back whole.
ECHO_CHARACTERS = 80


def echo(value: Any) -> str:
    """A value as an error message quotes it: the repr of its first ECHO_CHARACTERS characters.

    Shared by every message that repeats what a client sent (cursors, date-times).
    """
    if isinstance(value, str):
        return repr(value[:ECHO_CHARACTERS])
    text = repr(value)
    return text if len(text) <= ECHO_CHARACTERS else text[:ECHO_CHARACTERS] + "..."
