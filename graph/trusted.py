"""Trusted documents: with NEWSGRAPH_TRUSTED_DOCUMENTS the server runs only the operations of a manifest.

The manifest is a JSON file in either shape client tooling writes:

- a map of sha256 hex -> document text, as graphql-codegen's client preset writes
  ``persisted-documents.json`` (keys ``sha256:<hex>``; older versions need
  ``persistedDocuments: {hashAlgorithm: 'sha256'}``) and ``newsgraph
  trusted-documents build`` writes it (bare hex keys);
- Apollo's persisted query manifest (``@apollo/generate-persisted-query-manifest``):
  ``{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
  [{"id", "body", "name", "type"}]}``.

Every key must be the sha256 of its document's exact text; a manifest hashed
otherwise (codegen's default is sha1) is refused at startup with the entry named.

A request runs when it names a document of the manifest by hash
(``extensions.persistedQuery.sha256Hash`` or ``documentId``, graph.persisted)
or sends a query whose exact text hashes to one; anything else is refused with
PERSISTED_QUERY_NOT_ALLOWED before it is parsed, and counted in /metrics.

``build`` makes a manifest from .graphql files for ``newsgraph trusted-documents build``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    validate,
    visit,
)
from graphql.language import Visitor

from graph.config import ConfigError
from graph.errors import BAD_USER_INPUT
from graph.persisted import SHA256_PREFIX, PersistedQueryError, requested_hash, sha256_hex

NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
APOLLO_FORMAT = "apollo-persisted-query-manifest"
SUFFIXES = (".graphql", ".gql")


class NotTrusted(PersistedQueryError):
    """An operation that is not one of the trusted documents; ``form`` is how it was sent (id or text)."""

    def __init__(self, message: str, form: str) -> None:
        super().__init__(message, NOT_ALLOWED)
        self.form = form


class TrustedDocuments:
    """The manifest's documents by sha256; resolves requests as PersistedQueries does, refusing the rest."""

    def __init__(self, documents: dict[str, str]) -> None:
        self.documents = documents

    @classmethod
    def load(cls, path: str | Path) -> TrustedDocuments:
        return cls(load_manifest(path))

    def resolve(self, query: str | None, extensions: dict[str, Any] | None, document_id: str | None = None) -> str:
        """The text to run; raises NotTrusted for an operation outside the manifest."""
        digest = requested_hash(extensions, document_id)
        if digest is None:
            if query is None or sha256_hex(query) not in self.documents:
                raise NotTrusted(
                    "operation not allowed: this server runs only its trusted documents, and this query text is "
                    "not one of them (send a trusted document's exact text, or its sha256 as documentId)",
                    "text",
                )
            return query
        known = self.documents.get(digest)
        if known is None:
            raise NotTrusted(
                f"operation not allowed: this server runs only its trusted documents, and sha256 {digest} "
                "is not one of them",
                "id",
            )
        if query is not None and sha256_hex(query) != digest:
            raise PersistedQueryError("provided sha does not match query", BAD_USER_INPUT, 400)
        return known

    def __len__(self) -> int:
        return len(self.documents)


def load_manifest(path: str | Path) -> dict[str, str]:
    """sha256 -> text from a manifest of either shape; ConfigError names the file and the entry at fault."""
    where = f"NEWSGRAPH_TRUSTED_DOCUMENTS: {path}"
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a JSON object of sha256 -> document, or an Apollo manifest")
    if data.get("format") == APOLLO_FORMAT:
        operations = data.get("operations")
        if data.get("version") != 1 or not isinstance(operations, list):
            raise ConfigError(f"{where}: an {APOLLO_FORMAT} needs version 1 and a list of operations")
        entries: Iterable[tuple[Any, Any]] = (
            (op.get("id"), op.get("body")) if isinstance(op, dict) else (None, None) for op in operations
        )
    else:
        entries = data.items()
    documents: dict[str, str] = {}
    for number, (key, text) in enumerate(entries, 1):
        if not isinstance(key, str) or not isinstance(text, str):
            raise ConfigError(f"{where}: entry {number} is not an id with a document text")
        digest = key[len(SHA256_PREFIX):] if key.startswith(SHA256_PREFIX) else key
        if digest.lower() != sha256_hex(text):
            raise ConfigError(
                f"{where}: entry {number} ({key[:16]}…): its id is not the sha256 of its document "
                "(graphql-codegen's client preset: set persistedDocuments.hashAlgorithm to 'sha256'; older versions default to sha1)"
            )
        documents[digest.lower()] = text
    return documents


# ---- newsgraph trusted-documents build ------------------------------------------------------------


class BuildError(Exception):
    """Documents that cannot be trusted: every problem, each as ``file:line:column: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Entry:
    source: str  # file:line of the operation
    name: str | None
    text: str


def build(paths: Iterable[str | Path], schema: GraphQLSchema) -> dict[str, str]:
    """The manifest (sha256 -> text) of the operations in these .graphql files (folders: searched
    recursively), each checked against ``schema``; raises BuildError naming every bad file and line."""
    problems: list[str] = []
    entries: list[Entry] = []
    for path in _files(paths, problems):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read it: {getattr(exc, 'strerror', None) or exc}")
            continue
        try:
            document = parse(text)
        except GraphQLError as exc:
            problems.append(_located(path, exc))
            continue
        errors = validate(schema, document)
        if errors:
            problems.extend(_located(path, error) for error in errors)
            continue
        entries.extend(_operations(path, text, document))
    names: dict[str, str] = {}
    for entry in entries:
        if entry.name is not None and names.setdefault(entry.name, entry.source) != entry.source:
            problems.append(f"{entry.source}: operation {entry.name} is defined again (first at {names[entry.name]})")
    if problems:
        raise BuildError(problems)
    return {sha256_hex(entry.text): entry.text for entry in entries}


def _files(paths: Iterable[str | Path], problems: list[str]) -> Iterator[Path]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            if not found:
                problems.append(f"{path}: no {' or '.join(SUFFIXES)} files in this folder")
            yield from found
        elif path.is_file():
            yield path
        else:
            problems.append(f"{path}: no such file")


def _located(path: Path, error: GraphQLError) -> str:
    location = error.locations[0] if error.locations else None
    where = f"{path}:{location.line}:{location.column}" if location else str(path)
    return f"{where}: {error.message}"


def _operations(path: Path, text: str, document: DocumentNode) -> Iterator[Entry]:
    """One entry per operation: the file's exact text when it holds one operation (and only fragments
    it uses), else each operation with the fragments it uses, cut from the file in file order."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    for operation in operations:
        used = _fragments_used(operation, fragments)
        line = operation.loc.source.get_location(operation.loc.start).line if operation.loc else 1
        name = operation.name.value if operation.name else None
        if len(operations) == 1 and used == set(fragments):
            yield Entry(f"{path}:{line}", name, text)
            continue
        parts = [d for d in document.definitions if d is operation or (
            isinstance(d, FragmentDefinitionNode) and d.name.value in used)]
        yield Entry(f"{path}:{line}", name, "\n\n".join(text[d.loc.start:d.loc.end] for d in parts if d.loc) + "\n")


def _fragments_used(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> set[str]:
    used: set[str] = set()
    pending: list[Any] = [operation]
    while pending:
        node = pending.pop()
        for name in _spreads(node):
            if name not in used and name in fragments:
                used.add(name)
                pending.append(fragments[name])
    return used


def _spreads(node: Any) -> list[str]:
    names: list[str] = []

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: Any) -> None:
            names.append(spread.name.value)

    visit(node, Spreads())
    return names
