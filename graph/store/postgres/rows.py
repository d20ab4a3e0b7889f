"""What the PostgreSQL store keeps beside each document: the row's derived columns.

Everything SQL must compare the way Python does is computed here, in Python,
when an article is written, so both stores agree exactly instead of nearly:

- casefolded text (``str.casefold``; SQL ``lower()`` differs for ß, ﬁ, Σ ...)
  for contains/startsWith/endsWith and for the text sort keys;
- the search words and their BM25F term frequencies (graph.search's folding);
- the "served values" filters see (published false, empty lists, isCached
  false when missing), so SQL never has to know the defaults;
- provider mentions and topics, from which the catalog tables are maintained;
- the article's search groups (``word tf length-bucket``), which let a one-word
  search rank without reading every match (graph.store.postgres.sql.group_ranking).

``DERIVATION`` names this module's output format: when it changes, opening the
store recomputes every row from the stored documents (graph.store.postgres.migrations).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Any

import math

import orjson

from graph.dates import parse_datetime
from graph.documents import URL_FIELDS
from graph.search import WEIGHTS, phrase_fields, phrase_lines, searchable_fields
from graph.store.base import Document, StoreError

# Bump when anything below changes what is stored for a document.
# 2: search groups (word_groups).
DERIVATION = 3

# Article text fields filters read casefolded (contains/startsWith/endsWith) from the filter view; the body
# has its own column.
FOLDED_ARTICLE_FIELDS = ("id", "title", "excerpt", "category", "type", "originalUrl", "webUrl")
RELATED_TEXT_FIELDS = ("title", "excerpt", "webUrl", "type")

# The articles table's columns, in COPY order.
COLUMNS = (
    "id",
    "doc",
    "fdoc",
    "body_cf",
    "title",
    "title_key",
    "category",
    "type",
    "quality",
    "heat",
    "published",
    "published_at",
    "published_text",
    "provider_domain",
    "topics",
    "words",
    "tf_cum",
    "search_length",
    "word_groups",
    "phrase_lines",
    "mentions",
    "seed_path",
    "seed_hash",
)


@dataclass(slots=True)
class Row:
    """One article as the articles table stores it, plus what the catalog tables count."""

    id: str
    doc_json: bytes
    fdoc: dict[str, Any]
    body_cf: str
    title: str | None
    title_key: str | None
    category: str | None
    type: str | None
    quality: int | None
    heat: int | None
    published: bool
    published_at: datetime | None
    published_text: str | None
    provider_domain: str | None
    topics: list[str]
    words: list[str]
    tf_cum: list[float]
    search_length: float
    word_groups: list[str]
    phrase_lines: str
    mentions: list[list[str]]
    seed_path: str | None
    seed_hash: str | None
    urls: list[str]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _folded(source: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {name: value.casefold() for name in names if isinstance(value := source.get(name), str)}


def _image_view(image: Any) -> dict[str, Any]:
    """An image as filters see it: served values, plus its casefolded url."""
    if not isinstance(image, Mapping):
        return {"isCached": False, "cf": {}}
    view: dict[str, Any] = {}
    if isinstance(image.get("url"), str):
        view["url"] = image["url"]
    for name in ("width", "height"):
        if _int(image.get(name)) is not None:
            view[name] = image[name]
    view["isCached"] = image.get("isCached") if isinstance(image.get("isCached"), bool) else False
    view["cf"] = _folded(image, ("url",))
    return view


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _related_view(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        return {"images": [], "cf": {}}
    view: dict[str, Any] = {name: item[name] for name in RELATED_TEXT_FIELDS if isinstance(item.get(name), str)}
    if isinstance(item.get("publishedDateTime"), str):
        view["publishedDateTime"] = item["publishedDateTime"]
    if _int(item.get("quality")) is not None:
        view["quality"] = item["quality"]
    provider = item.get("provider")
    if isinstance(provider, Mapping) and isinstance(provider.get("domain"), str):
        view["domain"] = provider["domain"]
    view["images"] = [_image_view(image) for image in _list(item.get("images"))]
    view["cf"] = _folded(item, RELATED_TEXT_FIELDS)
    return view


def filter_view(doc: Document) -> dict[str, Any]:
    """The JSON filters read for what no column holds: folded short text, images and related items.

    The folded body has a column of its own (body_cf), so that filters on images
    or related items do not decompress it.
    """
    folded = _folded(doc, FOLDED_ARTICLE_FIELDS)
    return {
        "cf": folded,
        "images": [_image_view(image) for image in _list(doc.get("images"))],
        "related": [_related_view(item) for item in _list(doc.get("related"))],
    }


def provider_mentions(doc: Document) -> list[list[str]]:
    """[kind, domain, name] for the article's provider (kind "a") and each related item's (kind "r").

    A missing name is "" (it makes the domain known without voting for a name).
    """
    mentions: list[list[str]] = []
    provider = doc.get("provider")
    if isinstance(provider, Mapping) and provider and isinstance(provider.get("domain"), str):
        mentions.append(["a", provider["domain"], _text(provider.get("name")) or ""])
    for item in _list(doc.get("related")):
        related_provider = item.get("provider") if isinstance(item, Mapping) else None
        if isinstance(related_provider, Mapping) and related_provider and isinstance(related_provider.get("domain"), str):
            mentions.append(["r", related_provider["domain"], _text(related_provider.get("name")) or ""])
    return mentions


def search_terms(doc: Document) -> tuple[list[str], list[float], float, list[str]]:
    """Distinct folded words (sorted by code point), cumulative weighted term frequencies, the BM25F length,
    and the article's search groups (see search_group).

    ``tf_cum[i]`` is the sum of the frequencies of ``words[0..i]``, so SQL gets the
    frequency of a word, or the summed frequencies of a run of words sharing a
    prefix (contiguous, since the words are sorted), as a difference of two
    entries found by binary search. Every value is a multiple of 0.5 far below
    2**52, so these sums and differences are exact: the same floats
    graph.search.SearchIndex computes.
    """
    frequencies: dict[str, float] = {}
    length = 0.0
    for field, field_words in searchable_fields(doc).items():
        weight = WEIGHTS[field]
        length += weight * len(field_words)
        # weight * count equals adding weight count times: weights and sums are multiples of 0.5, exact in a float.
        for word, count in Counter(field_words).items():
            frequencies[word] = frequencies.get(word, 0.0) + weight * count
    words = sorted(frequencies)
    cumulative = list(accumulate(frequencies[w] for w in words))
    low, high = length_bucket(length)
    groups = [search_group(w, frequencies[w], low, high) for w in words]
    return words, cumulative, length, groups


def length_bucket(length: float) -> tuple[int, int]:
    """The BM25F-length bucket [low, high) of an article, in half units (length * 2).

    Buckets are exact below 4 and then a quarter of an octave wide (the three leading
    bits of the length in half units), so within one bucket the longest length is
    at most 5/4 of the shortest: tight enough bounds for ranking by groups.
    """
    units = math.floor(length * 2)
    if units < 8:
        return units, units + 1
    shift = units.bit_length() - 3
    low = (units >> shift) << shift
    return low, low + (1 << shift)


def search_group(word: str, tf: float, low: int, high: int) -> str:
    """The key of a search group: a word, its weighted frequency and a length bucket, space-separated.

    Words never hold a space (they are runs of letters and digits); ``repr`` of the
    float reads back exactly as float8, and ng_search_groups parses the key into its columns.
    """
    return f"{word} {tf!r} {low} {high}"


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def article_id(doc: Document) -> str:
    """The document's id; a StoreError when it has none."""
    value = doc.get("id")
    if not isinstance(value, str) or not value:
        raise StoreError(f"cannot store a document without a text id: {str(doc)[:80]}")
    return value


def derive(doc: Document) -> Row:
    """The row for one stored document; raises StoreError for what PostgreSQL cannot hold."""
    identifier = article_id(doc)
    try:
        payload = orjson.dumps(doc)
    except TypeError as exc:
        raise StoreError(f"article {identifier!r}: not storable as JSON: {exc}") from None
    # PostgreSQL text and jsonb cannot hold U+0000; say so instead of failing the whole write obscurely.
    if b"\\u0000" in payload and _has_nul(doc):
        raise StoreError(f"article {identifier!r}: text containing the NUL character (U+0000) cannot be stored in PostgreSQL")
    provider = doc.get("provider")
    domain = provider.get("domain") if isinstance(provider, Mapping) and provider else None
    title = _text(doc.get("title"))
    published_text = _text(doc.get("publishedDateTime"))
    topics = sorted({t for t in _list(doc.get("topics")) if isinstance(t, str)})
    urls: list[str] = []
    for name in URL_FIELDS:
        url = doc.get(name)
        if isinstance(url, str) and url and url not in urls:
            urls.append(url)
    words, tf_cum, length, groups = search_terms(doc)
    seed = doc.get("_seed") if isinstance(doc.get("_seed"), Mapping) else {}
    return Row(
        id=identifier,
        doc_json=payload,
        fdoc=filter_view(doc),
        body_cf=body.casefold() if isinstance(body := doc.get("body"), str) else "",  # served as "" when missing
        title=title,
        title_key=title.casefold() if title is not None else None,
        category=_text(doc.get("category")),
        type=_text(doc.get("type")),
        quality=_int(doc.get("quality")),
        heat=_int(doc.get("heat")),
        published=doc.get("published") is True,
        published_at=_instant(published_text),
        published_text=published_text,
        provider_domain=domain if isinstance(domain, str) else None,
        topics=topics,
        words=words,
        tf_cum=tf_cum,
        search_length=length,
        word_groups=groups,
        # Phrases (graph.search.phrase_pattern) are verified on these; the provider's canonical
        # name is ng_providers.name_words.
        phrase_lines=phrase_lines(phrase_fields(doc, None)),
        mentions=provider_mentions(doc),
        seed_path=_text(seed.get("path")),
        seed_hash=_text(seed.get("hash")),
        urls=urls,
    )


def best_name(domain: str, counts: Mapping[str, int]) -> str:
    """A provider's canonical name: most frequent non-empty name, ties alphabetically first, else the domain."""
    named = [(count, name) for name, count in counts.items() if name and count > 0]
    if not named:
        return domain
    return min(named, key=lambda cn: (-cn[0], cn[1].casefold(), cn[1]))[1]
