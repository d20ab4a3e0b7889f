"""The article document: parse a frontmatter file, validate it, normalize it.

A stored document is the frontmatter mapping, normalized (text repaired,
date-times in UTC as ``YYYY-MM-DDTHH:MM:SSZ``), plus ``id``, ``body`` and
``_seed`` (where it came from and a hash of the file, so a re-seed can skip
files that did not change). Keys the contract does not know are kept as they
are, made JSON-safe (dates become ISO strings, binary becomes base64, sets
become sorted lists).

Every problem with a file is a DocumentError whose text is
``path:line: reason``; the reason names the field (``related[1].title is
required``). Nothing else escapes parse_file, whatever the bytes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from graph.dates import format_datetime, parse_datetime
from graph.text import repair_text

try:
    from yaml import CSafeLoader as _BaseLoader

    YAML_LOADER = "libyaml (C)"
except ImportError:  # pragma: no cover - PyYAML wheels ship libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    YAML_LOADER = "pure Python (install PyYAML with libyaml for ~10x faster seeding)"

# Bump when parsing or normalization changes, so that a re-seed rewrites every document.
# 3: bodies with CRLF (or CR) line ends are stored with LF.
LOADER_VERSION = "3"

SUFFIXES = frozenset({".md", ".markdown", ".txt"})
RESERVED_KEYS = frozenset({"body", "_seed"})
STRING_FIELDS = ("category", "excerpt", "type", "originalUrl", "webUrl", "ampWebUrl", "cdnAmpWebUrl")
INT_FIELDS = ("quality", "heat")
URL_FIELDS = ("originalUrl", "webUrl", "ampWebUrl", "cdnAmpWebUrl")
KNOWN_FIELDS = frozenset(
    {"id", "title", "published", "publishedDateTime", "provider", "topics", "images", "related", *STRING_FIELDS, *INT_FIELDS}
)
RELATED_STRING_FIELDS = ("excerpt", "webUrl", "ampWebUrl", "cdnAmpWebUrl", "type")
RELATED_URL_FIELDS = ("webUrl", "ampWebUrl", "cdnAmpWebUrl")
RELATED_FIELDS = frozenset({"title", "quality", "publishedDateTime", "provider", "images", *RELATED_STRING_FIELDS})
IMAGE_FIELDS = frozenset({"url", "width", "height", "isCached"})
# Frontmatter keys an article is known to have: anything else is kept, served by nothing,
# and the seed warns about it once per run (it is often a typo: `tpye`).
DOCUMENT_KEYS = KNOWN_FIELDS | {"secured"}
# Kept in the store, never served: the source's opaque token and where the file came from.
UNSERVED = ("secured", "_seed")
ORDINAL = re.compile(r"^\d+_")
# GraphQL Int is 32-bit: a larger quality or width could be stored but never served.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# What JSON (orjson) can hold for keys the contract does not know.
STORABLE_INT_MIN, STORABLE_INT_MAX = -(2**63), 2**64 - 1
# Bounds on keys the contract does not know: YAML aliases can make a small file
# expand to an enormous (or self-referencing) structure.
MAX_DEPTH = 64
MAX_VALUES = 100_000

# The frontmatter delimiter, as python-frontmatter's YAMLHandler defines it: a line of 3+ dashes.
_BOUNDARY = re.compile(r"^-{3,}[ \t]*\r?$", re.MULTILINE)

def display_path(path: str) -> str:
    """A path as reports print it: one line, whatever the name holds.

    Characters that are not printable (a newline or carriage return in a file
    name) get their Python escapes (``\\n``), and bytes that are not UTF-8
    (which Python keeps as surrogate escapes) show as ``\\xe9``.
    """
    if path.isprintable():
        return path
    out = []
    for char in path:
        if "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    return "".join(out)


class DocumentError(ValueError):
    """A seed file that cannot become an article; ``line`` is 1-based in the file."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        reason = re.sub(r"\s*[\r\n]\s*", " ", reason).strip() or "invalid document"  # one line on stderr, always
        super().__init__(f"{display_path(path)}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process boundaries (parallel seeding)
        return (DocumentError, (self.path, self.line, self.reason))


@dataclass(frozen=True, slots=True)
class Field:
    """Where a validation problem is: a key path into the frontmatter."""

    path: tuple[Any, ...]
    reason: str


class _Invalid(Exception):
    def __init__(self, path: tuple[Any, ...], reason: str) -> None:
        self.field = Field(path, reason)


class _NoFrontmatter(Exception):
    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason


# -- YAML ---------------------------------------------------------------------------------


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """CSafeLoader whose scalar constructors report bad values as YAML errors with a position.

    Stock SafeConstructor lets ValueError, KeyError or AttributeError escape for
    values such as ``2020-13-45``, ``!!int x`` or ``!!bool maybe``.
    """


def _guarded(tag: str) -> None:
    construct = _Loader.yaml_constructors[tag]
    name = tag.rsplit(":", 1)[-1]

    def guarded(loader: Any, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except yaml.YAMLError:
            raise
        except Exception as exc:
            if name == "timestamp" and isinstance(node.value, str):
                return node.value  # '2020-13-45': left as text, for the field's own check to report
            detail = "" if isinstance(exc, KeyError) else f": {exc}"
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid {name} {_show(node.value)}{detail}", node.start_mark
            ) from None

    _Loader.add_constructor(tag, guarded)


for _tag in ("bool", "int", "float", "timestamp", "binary", "omap", "pairs", "set"):
    _guarded(f"tag:yaml.org,2002:{_tag}")

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
# Without aliases, explicit tags or merge keys, a document's nodes carry only the
# tags the resolver gives plain mappings, sequences and scalars.
_NEEDS_FULL_CONSTRUCTOR = ("*", "!", "<<")


def load_yaml(text: str) -> Any:
    """``yaml.load(text, Loader=_Loader)``, built faster for the plain YAML seed files are.

    PyYAML's constructor spends a third of a seed's time in its general
    machinery (generators for recursive structures, per-node bookkeeping);
    plain documents are built here straight from the composed nodes (libyaml
    still parses and resolves them). Anything else, or any problem, goes
    through the full constructor, which gives the same value or the same error.
    tests/test_loader_fuzz.py checks that both agree.
    """
    if not any(mark in text for mark in _NEEDS_FULL_CONSTRUCTOR):
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            return _build(loader, loader.yaml_constructors, node)
        except Exception:
            pass  # the full constructor reports it (or reads what this could not)
        finally:
            loader.dispose()
    return yaml.load(text, Loader=_Loader)


def _build(loader: Any, constructors: dict[Any, Any], node: yaml.Node) -> Any:
    tag = node.tag
    if type(node) is yaml.ScalarNode:
        return node.value if tag == _STR else constructors[tag](loader, node)
    if tag == _MAP and type(node) is yaml.MappingNode:
        return {_build(loader, constructors, k): _build(loader, constructors, v) for k, v in node.value}
    if tag == _SEQ and type(node) is yaml.SequenceNode:
        return [_build(loader, constructors, item) for item in node.value]
    raise ValueError(f"no fast construction for {tag}")


# -- files --------------------------------------------------------------------------------


def file_hash(data: bytes, raw_text: bool = False) -> str:
    """What decides whether a stored article is still up to date with its file."""
    digest = hashlib.blake2b(data, digest_size=16)
    digest.update(f"|{LOADER_VERSION}|{int(raw_text)}".encode())
    return digest.hexdigest()


def id_from_path(path: str | Path) -> str:
    """000_9a7be0820e1ffd4a.txt -> 9a7be0820e1ffd4a"""
    stem = Path(path).stem
    return ORDINAL.sub("", stem, count=1) or stem


@dataclass(frozen=True, slots=True)
class Split:
    """A file cut at its frontmatter delimiters; line numbers are 1-based in the file."""

    frontmatter: str
    body: str
    open_line: int  # the opening '---'
    first_line: int  # the frontmatter's first line (line 0 of its YAML)


def split(text: str) -> Split:
    """Cut text into frontmatter and body; leading blank lines are allowed."""
    start = 0
    line = 1
    while True:  # skip blank lines
        end = text.find("\n", start)
        current = text[start:] if end < 0 else text[start:end]
        if current.strip() or end < 0:
            break
        start, line = end + 1, line + 1
    opening = _BOUNDARY.match(text, start)
    if opening is None:
        raise _NoFrontmatter(line, "no frontmatter: the file must start with a '---' line")
    fm_start = text.find("\n", opening.end())
    closing = _BOUNDARY.search(text, fm_start + 1) if fm_start >= 0 else None
    if closing is None:
        raise _NoFrontmatter(line, "the frontmatter opened here has no closing '---' line")
    body_start = text.find("\n", closing.end())
    body = text[body_start + 1 :] if body_start >= 0 else ""
    return Split(text[fm_start + 1 : closing.start()], body.strip(), line, line + 1)


def parse_file(path: str | Path, data: bytes, raw_text: bool = False, display: str | None = None) -> dict[str, Any]:
    """Parse one seed file's bytes into a stored document (without ``_seed``), or raise DocumentError.

    ``display`` is how the file is named in errors (default: ``str(path)``); the
    default id comes from ``path``'s name.
    """
    shown = display if display is not None else str(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(shown, line, f"not UTF-8 text (byte {exc.start})") from None
    try:
        parts = split(text)
    except _NoFrontmatter as exc:
        raise DocumentError(shown, exc.line, exc.reason) from None
    fm = parts.frontmatter
    try:
        meta = load_yaml(fm)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = parts.first_line + mark.line if mark else parts.open_line
        problem = exc.problem or exc.context or "invalid YAML"
        raise DocumentError(shown, line, f"invalid YAML frontmatter: {problem}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(shown, parts.open_line, f"invalid YAML frontmatter: {exc}") from None
    except (RecursionError, MemoryError):
        raise DocumentError(shown, parts.open_line, "invalid YAML frontmatter: nested too deeply") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        line = _line_of(fm, (), parts.first_line, parts.open_line)
        raise DocumentError(shown, line, f"the frontmatter must be a mapping of keys to values, got {_show(meta)}")
    if "\x00" in parts.body:  # a raw NUL cannot be in the frontmatter: YAML refuses it
        raise DocumentError(shown, text.count("\n", 0, text.index("\x00")) + 1, f"body {NOT_TEXT_NUL}")
    try:
        if "*" in fm:  # an alias: the expanded structure may be huge or refer to itself
            _check_size(meta)
        if "\\" in fm:  # an escape ("\0", "\ud800") can make text no store keeps
            _check_text(meta, ())
        return normalize(meta, parts.body, id_from_path(path), raw_text)
    except _Invalid as exc:
        line = _line_of(fm, exc.field.path, parts.first_line, parts.open_line)
        raise DocumentError(shown, line, exc.field.reason) from None


NOT_TEXT_NUL = "contains the NUL character (U+0000), which text may not hold (PostgreSQL cannot store it)"
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def _check_text(value: Any, path: tuple[Any, ...]) -> None:
    """Refuse text neither store can keep the same: NUL (PostgreSQL refuses it) and lone surrogates (not UTF-8)."""
    if isinstance(value, str):
        bad = _NOT_TEXT.search(value)
        if bad is not None:
            where = _dotted(path) if path else "the frontmatter"
            if bad.group() == "\x00":
                raise _Invalid(path, f"{where} {NOT_TEXT_NUL}")
            raise _Invalid(path, f"{where} contains a lone surrogate ({bad.group()!r}), which is not text")
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _NOT_TEXT.search(key):
                where = f"the key {key!r}" + (f" in {_dotted(path)}" if path else "")
                reason = NOT_TEXT_NUL if "\x00" in key else "contains a lone surrogate, which is not text"
                raise _Invalid(path, f"{where} {reason}")
            _check_text(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _check_text(item, (*path, n))


def line_of_key(data: bytes, key: str) -> int:
    """The file line of a top-level frontmatter key (1 when the file has no such key); for reports."""
    try:
        parts = split(data.decode("utf-8-sig"))
        node = yaml.compose(parts.frontmatter, Loader=_Loader)
    except (UnicodeDecodeError, _NoFrontmatter, yaml.YAMLError, RecursionError):
        return 1
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return parts.first_line + key_node.start_mark.line
    return 1


# -- validation and normalization ---------------------------------------------------------


def normalize(meta: dict[Any, Any], body: str, default_id: str, raw_text: bool = False) -> dict[str, Any]:
    """Validate a frontmatter mapping and build the stored document (raises _Invalid)."""
    fix = _keep if raw_text else repair_text
    doc: dict[str, Any] = {}
    for key, value in meta.items():
        if not isinstance(key, str):
            raise _Invalid((key,), f"keys must be text, got {_show(key)}")
        if key in RESERVED_KEYS:
            raise _Invalid((key,), f"{key} is reserved and cannot be set in the frontmatter")
        doc[key] = value

    raw_id = doc.get("id")
    if raw_id is not None:
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
            raise _Invalid(("id",), f"id must be a non-empty string, got {_show(raw_id)}")
        doc["id"] = str(raw_id).strip()
    else:
        doc["id"] = default_id

    title = doc.get("title")
    if title is None:
        raise _Invalid(("title",), "title is required")
    if not isinstance(title, str) or not title.strip():
        raise _Invalid(("title",), f"title must be a non-empty string, got {_show(title)}")
    doc["title"] = fix(title)

    for name in STRING_FIELDS:
        if doc.get(name) is not None:
            doc[name] = _string(doc[name], (name,), _keep if name in URL_FIELDS else fix)
    for name in INT_FIELDS:
        if doc.get(name) is not None:
            doc[name] = _int(doc[name], (name,))
    if doc.get("published") is not None:
        doc["published"] = _bool(doc["published"], ("published",))
    if doc.get("publishedDateTime") is not None:
        doc["publishedDateTime"] = _datetime(doc["publishedDateTime"], ("publishedDateTime",))
    if doc.get("provider") is not None:
        doc["provider"] = _provider(doc["provider"], ("provider",), fix)
    topics = doc.get("topics")
    if topics is not None:
        if not isinstance(topics, list):
            raise _Invalid(("topics",), f"topics must be a list of strings, got {_show(topics)}")
        doc["topics"] = [_string(t, ("topics", i), fix) for i, t in enumerate(topics)]
    if doc.get("images") is not None:
        doc["images"] = _images(doc["images"], ("images",))
    related = doc.get("related")
    if related is not None:
        if not isinstance(related, list):
            raise _Invalid(("related",), f"related must be a list of mappings, got {_show(related)}")
        doc["related"] = [_related(item, ("related", i), fix) for i, item in enumerate(related)]

    for key in doc:
        if key not in KNOWN_FIELDS:
            doc[key] = _extra(doc[key], (key,))
    if "\r" in body:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
    doc["body"] = fix(body)
    return doc


def _extra(value: Any, path: tuple[Any, ...], depth: int = 0) -> Any:
    """A value under a key the contract does not know, made JSON-safe."""
    if isinstance(value, str) or value is None or isinstance(value, (bool, float)):
        if isinstance(value, float) and value != value:  # NaN has no JSON form
            return None
        return value
    if isinstance(value, int):
        if not STORABLE_INT_MIN <= value <= STORABLE_INT_MAX:
            raise _Invalid(path, f"{_dotted(path)} is an integer too large to store, got {_show(value)}")
        return value
    if depth >= MAX_DEPTH:
        raise _Invalid(path, f"{_dotted(path[:1])} nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else str(k)): _extra(v, (*path, k), depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_extra(v, (*path, i), depth + 1) for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return sorted((_extra(v, path, depth + 1) for v in value), key=repr)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)  # pragma: no cover - SafeLoader builds nothing else


def _check_size(meta: dict[Any, Any]) -> None:
    """Refuse a frontmatter whose aliases expand past MAX_VALUES values or MAX_DEPTH levels."""
    budget = MAX_VALUES
    stack: list[tuple[Any, tuple[Any, ...], int]] = [(v, (k,), 1) for k, v in meta.items()]
    while stack:
        value, path, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise _Invalid(path[:1], f"the frontmatter expands to more than {MAX_VALUES} values (YAML aliases)")
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise _Invalid(path, f"{_dotted(path[:1])} nests deeper than {MAX_DEPTH} levels (YAML aliases)")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((v, (*path, k), depth + 1) for k, v in items)


def _keep(text: str) -> str:
    return text


def _show(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _string(value: Any, path: tuple[Any, ...], fix: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(path, f"{_dotted(path)} must be a string, got {_show(value)}")
    return fix(value)


def _int(value: Any, path: tuple[Any, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(path, f"{_dotted(path)} must be an integer, got {_show(value)}")
    if not INT_MIN <= value <= INT_MAX:
        raise _Invalid(path, f"{_dotted(path)} must be an integer from {INT_MIN} to {INT_MAX}, got {_show(value)}")
    return value


def _bool(value: Any, path: tuple[Any, ...]) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(path, f"{_dotted(path)} must be true or false, got {_show(value)}")
    return value


def _datetime(value: Any, path: tuple[Any, ...]) -> str:
    try:
        return format_datetime(parse_datetime(value))
    except ValueError as exc:
        if str(exc).startswith("out of range"):
            raise _Invalid(path, f"{_dotted(path)} is out of range in UTC, got {_show(value)}") from None
        raise _Invalid(path, f"{_dotted(path)} must be an ISO-8601 date-time, got {_show(value)}") from None


def _mapping(value: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(path, f"{_dotted(path)} must be a mapping, got {_show(value)}")
    return {(k if isinstance(k, str) else str(k)): v for k, v in value.items()}


def _provider(value: Any, path: tuple[Any, ...], fix: Any) -> dict[str, Any]:
    provider = _mapping(value, path)
    domain = provider.get("domain")
    if domain is None:
        raise _Invalid(path, f"{_dotted(path)}.domain is required")
    if not isinstance(domain, str) or not domain.strip():
        raise _Invalid((*path, "domain"), f"{_dotted(path)}.domain must be a non-empty string, got {_show(domain)}")
    provider["domain"] = domain.strip()
    if provider.get("name") is not None:
        provider["name"] = _string(provider["name"], (*path, "name"), fix)
    for key in provider:
        if key not in ("domain", "name"):
            provider[key] = _extra(provider[key], (*path, key))
    return provider


def _images(value: Any, path: tuple[Any, ...]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _Invalid(path, f"{_dotted(path)} must be a list of mappings, got {_show(value)}")
    images = []
    for i, item in enumerate(value):
        here = (*path, i)
        image = _mapping(item, here)
        url = image.get("url")
        if url is None:
            raise _Invalid(here, f"{_dotted(here)}.url is required")
        image["url"] = _string(url, (*here, "url"), _keep)
        for name in ("width", "height"):
            if image.get(name) is not None:
                image[name] = _int(image[name], (*here, name))
        if image.get("isCached") is not None:
            image["isCached"] = _bool(image["isCached"], (*here, "isCached"))
        for key in image:
            if key not in IMAGE_FIELDS:
                image[key] = _extra(image[key], (*here, key))
        images.append(image)
    return images


def _related(value: Any, path: tuple[Any, ...], fix: Any) -> dict[str, Any]:
    item = _mapping(value, path)
    title = item.get("title")
    if title is None:
        raise _Invalid(path, f"{_dotted(path)}.title is required")
    if not isinstance(title, str) or not title.strip():
        raise _Invalid((*path, "title"), f"{_dotted(path)}.title must be a non-empty string, got {_show(title)}")
    item["title"] = fix(title)
    for name in RELATED_STRING_FIELDS:
        if item.get(name) is not None:
            item[name] = _string(item[name], (*path, name), _keep if name in RELATED_URL_FIELDS else fix)
    if item.get("quality") is not None:
        item["quality"] = _int(item["quality"], (*path, "quality"))
    if item.get("publishedDateTime") is not None:
        item["publishedDateTime"] = _datetime(item["publishedDateTime"], (*path, "publishedDateTime"))
    if item.get("provider") is not None:
        item["provider"] = _provider(item["provider"], (*path, "provider"), fix)
    if item.get("images") is not None:
        item["images"] = _images(item["images"], (*path, "images"))
    for key in item:
        if key not in RELATED_FIELDS:
            item[key] = _extra(item[key], (*path, key))
    return item


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool) and out:
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _line_of(fm: str, path: tuple[Any, ...], first_line: int, open_line: int) -> int:
    """The file line of a key path in the frontmatter: its key, else its nearest enclosing item.

    Only called on the error path, so composing the YAML a second time costs
    nothing in a normal seed.
    """
    try:
        node = yaml.compose(fm, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):
        return open_line
    if node is None:
        return open_line
    line = node.start_mark.line
    for part in path:
        found = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    found, line = value_node, key_node.start_mark.line
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            found = node.value[part]
            line = found.start_mark.line
        if found is None:
            break
        node = found
    return first_line + line
