"""The article document: parse a frontmatter file, validate it, normalize it.

A stored document is the frontmatter mapping, normalized (text repaired,
date-times in UTC as ``YYYY-MM-DDTHH:MM:SSZ``), plus ``id``, ``body`` and
``_seed`` (where it came from and a hash of the file, so a re-seed can skip
files that did not change). Keys the contract does not know are kept as they
are, made JSON-safe.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import ftfy
import yaml
from frontmatter.default_handlers import YAMLHandler

try:
    from yaml import CSafeLoader as SafeLoader

    YAML_LOADER = "libyaml (C)"
except ImportError:  # pragma: no cover - PyYAML wheels ship libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

    YAML_LOADER = "pure Python (install libyaml for ~10x faster seeding)"

# Bump when normalization changes, so that a re-seed rewrites every document.
LOADER_VERSION = "1"

SUFFIXES = frozenset({".md", ".markdown", ".txt"})
RESERVED_KEYS = frozenset({"body", "_seed"})
STRING_FIELDS = ("category", "excerpt", "type", "originalUrl", "webUrl", "ampWebUrl", "cdnAmpWebUrl")
INT_FIELDS = ("quality", "heat")
URL_FIELDS = ("originalUrl", "webUrl", "ampWebUrl", "cdnAmpWebUrl")
RELATED_STRING_FIELDS = ("excerpt", "webUrl", "ampWebUrl", "cdnAmpWebUrl", "type")
RELATED_URL_FIELDS = ("webUrl", "ampWebUrl", "cdnAmpWebUrl")
ORDINAL = re.compile(r"^\d+_")

_HANDLER = YAMLHandler()
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


class DocumentError(ValueError):
    """A seed file that cannot become an article; ``line`` is 1-based in the file."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Field:
    """Where a validation problem is: a key path into the frontmatter."""

    path: tuple[str | int, ...]
    reason: str


class _Invalid(Exception):
    def __init__(self, path: tuple[str | int, ...], reason: str) -> None:
        self.field = Field(path, reason)


def file_hash(data: bytes, raw_text: bool = False) -> str:
    """What decides whether a stored article is still up to date with its file."""
    digest = hashlib.blake2b(data, digest_size=16)
    digest.update(f"|{LOADER_VERSION}|{int(raw_text)}".encode())
    return digest.hexdigest()


def id_from_path(path: Path) -> str:
    """000_9a7be0820e1ffd4a.txt -> 9a7be0820e1ffd4a"""
    return ORDINAL.sub("", path.stem, count=1) or path.stem


def find_files(paths: list[Path]) -> Iterator[Path]:
    """Every seed file under paths, in a stable order (given order, then sorted)."""
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                if candidate.suffix.lower() in SUFFIXES and candidate.is_file():
                    yield candidate
        else:
            yield path


def split(text: str) -> tuple[str, str, int]:
    """Frontmatter text, body, and the file line where the frontmatter's text starts (0-based)."""
    stripped = text.lstrip()
    skipped_lines = text[: len(text) - len(stripped)].count("\n")
    if not _HANDLER.detect(stripped):
        raise _Invalid((), "no frontmatter: the file must start with a '---' line")
    try:
        fm, body = _HANDLER.split(stripped)
    except ValueError:
        raise _Invalid((), "the frontmatter has no closing '---' line") from None
    return fm, body.strip(), skipped_lines


def parse_file(path: Path, data: bytes, raw_text: bool = False, display: str | None = None) -> dict[str, Any]:
    """Parse one seed file's bytes into a stored document, or raise DocumentError."""
    shown = display if display is not None else str(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(shown, line, f"not UTF-8 text (byte {exc.start})") from None
    try:
        fm, body, offset = split(text)
    except _Invalid as exc:
        raise DocumentError(shown, 1, exc.field.reason) from None
    try:
        meta = yaml.load(fm, Loader=SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = offset + (mark.line + 1 if mark else 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise DocumentError(shown, line, f"invalid YAML frontmatter: {problem}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(shown, offset + 1, f"invalid YAML frontmatter: {exc}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise DocumentError(shown, offset + 2, "the frontmatter must be a mapping of keys to values")
    try:
        return normalize(meta, body, id_from_path(path), raw_text)
    except _Invalid as exc:
        line = offset + _line_of(fm, exc.field.path)
        raise DocumentError(shown, line, exc.field.reason) from None


def normalize(meta: dict[Any, Any], body: str, default_id: str, raw_text: bool = False) -> dict[str, Any]:
    """Validate a frontmatter mapping and build the stored document."""
    fix = _keep if raw_text else repair_text
    doc: dict[str, Any] = {}
    for key, value in meta.items():
        if not isinstance(key, str):
            raise _Invalid((key,), f"keys must be text, got {key!r}")
        if key in RESERVED_KEYS:
            raise _Invalid((key,), f"{key} is reserved and cannot be set in the frontmatter")
        doc[key] = value

    if "id" in doc and doc["id"] is not None:
        raw_id = doc["id"]
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
            doc[name] = _string(doc[name], (name,), fix if name not in URL_FIELDS else _keep)
    for name in INT_FIELDS:
        if doc.get(name) is not None:
            doc[name] = _int(doc[name], (name,))
    if doc.get("published") is not None and not isinstance(doc["published"], bool):
        raise _Invalid(("published",), f"published must be true or false, got {_show(doc['published'])}")
    if doc.get("publishedDateTime") is not None:
        doc["publishedDateTime"] = _datetime(doc["publishedDateTime"], ("publishedDateTime",))
    if doc.get("provider") is not None:
        doc["provider"] = _provider(doc["provider"], ("provider",), fix)
    if doc.get("topics") is not None:
        topics = doc["topics"]
        if not isinstance(topics, list):
            raise _Invalid(("topics",), f"topics must be a list of strings, got {_show(topics)}")
        doc["topics"] = [_string(t, ("topics", i), fix) for i, t in enumerate(topics)]
    if doc.get("images") is not None:
        doc["images"] = _images(doc["images"], ("images",))
    if doc.get("related") is not None:
        related = doc["related"]
        if not isinstance(related, list):
            raise _Invalid(("related",), f"related must be a list of mappings, got {_show(related)}")
        doc["related"] = [_related(item, ("related", i), fix) for i, item in enumerate(related)]

    known = {"id", "title", "published", "publishedDateTime", "provider", "topics", "images", "related"}
    known.update(STRING_FIELDS, INT_FIELDS)
    for key in doc:
        if key not in known:
            doc[key] = jsonable(doc[key])
    doc["body"] = fix(body)
    return doc


def repair_text(text: str) -> str:
    """Undo mojibake (UTF-8 read as cp1252/latin-1): 'NOPDâ€™s' -> 'NOPD’s'."""
    if text.isascii():
        return text
    return ftfy.fix_text(text, _REPAIR)


def format_datetime(value: datetime) -> str:
    """The served form: UTC, whole seconds, 'Z'."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: Any) -> datetime:
    """An instant from an ISO-8601 string (offset or Z), a plain date (midnight UTC) or a datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(), tzinfo=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                parsed = datetime.combine(date.fromisoformat(text), time(), tzinfo=timezone.utc)
            else:
                parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise ValueError(f"not an ISO-8601 date-time: {value!r}") from None
    else:
        raise ValueError(f"not an ISO-8601 date-time: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def jsonable(value: Any) -> Any:
    """Make a YAML value storable as JSON without losing what it says."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v) for v in value), key=repr)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and value != value:  # NaN has no JSON form
        return None
    return value


def _keep(text: str) -> str:
    return text


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _string(value: Any, path: tuple[str | int, ...], fix: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(path, f"{_dotted(path)} must be a string, got {_show(value)}")
    return fix(value)


def _int(value: Any, path: tuple[str | int, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(path, f"{_dotted(path)} must be an integer, got {_show(value)}")
    return value


def _bool(value: Any, path: tuple[str | int, ...]) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(path, f"{_dotted(path)} must be true or false, got {_show(value)}")
    return value


def _datetime(value: Any, path: tuple[str | int, ...]) -> str:
    try:
        return format_datetime(parse_datetime(value))
    except ValueError:
        raise _Invalid(path, f"{_dotted(path)} must be an ISO-8601 date-time, got {_show(value)}") from None


def _mapping(value: Any, path: tuple[str | int, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(path, f"{_dotted(path)} must be a mapping, got {_show(value)}")
    return {str(k): v for k, v in value.items()}


def _provider(value: Any, path: tuple[str | int, ...], fix: Any) -> dict[str, Any]:
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
            provider[key] = jsonable(provider[key])
    return provider


def _images(value: Any, path: tuple[str | int, ...]) -> list[dict[str, Any]]:
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
            if key not in ("url", "width", "height", "isCached"):
                image[key] = jsonable(image[key])
        images.append(image)
    return images


def _related(value: Any, path: tuple[str | int, ...], fix: Any) -> dict[str, Any]:
    item = _mapping(value, path)
    title = item.get("title")
    if title is None:
        raise _Invalid(path, f"{_dotted(path)}.title is required")
    if not isinstance(title, str) or not title.strip():
        raise _Invalid((*path, "title"), f"{_dotted(path)}.title must be a non-empty string, got {_show(title)}")
    item["title"] = fix(title)
    for name in RELATED_STRING_FIELDS:
        if item.get(name) is not None:
            item[name] = _string(item[name], (*path, name), fix if name in ("excerpt", "type") else _keep)
    if item.get("quality") is not None:
        item["quality"] = _int(item["quality"], (*path, "quality"))
    if item.get("publishedDateTime") is not None:
        item["publishedDateTime"] = _datetime(item["publishedDateTime"], (*path, "publishedDateTime"))
    if item.get("provider") is not None:
        item["provider"] = _provider(item["provider"], (*path, "provider"), fix)
    if item.get("images") is not None:
        item["images"] = _images(item["images"], (*path, "images"))
    known = {"title", "quality", "publishedDateTime", "provider", "images", *RELATED_STRING_FIELDS}
    for key in item:
        if key not in known:
            item[key] = jsonable(item[key])
    return item


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _line_of(fm: str, path: tuple[str | int, ...]) -> int:
    """1-based line, within the frontmatter block counting the '---' line, of a key path.

    Only called on the error path, so composing the YAML a second time costs nothing
    in a normal seed.
    """
    try:
        node = yaml.compose(fm, Loader=SafeLoader)
    except yaml.YAMLError:
        return 1
    line = node.start_mark.line if node is not None else 0
    for part in path:
        found = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part or (isinstance(part, str) and str(key_node.value) == part):
                    found = value_node
                    line = key_node.start_mark.line
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            found = node.value[part]
            line = found.start_mark.line
        if found is None:
            break
        node = found
    return line + 1
