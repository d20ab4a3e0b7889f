"""Run one GraphQL operation: parse (cached), price (limits), validate (cached), execute.

Errors come back with ``extensions.code``. Anything unexpected is masked: the
client gets a generic message with an error id, the server log gets the
details under the same id. The HTTP layer (graph.app) decides status codes
from ``Outcome.kind``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
)
from graphql.error import GraphQLSyntaxError
from graphql.validation import specified_rules

from graph import limits as query_limits
from graph.config import Limits
from graph.errors import BAD_USER_INPUT, INTERNAL, PARSE_FAILED, QUERY_TOO_COMPLEX, VALIDATION_FAILED

log = logging.getLogger("newsgraph.errors")
CACHE_SIZE = 512


@dataclass
class Outcome:
    """What happened: ``kind`` is "ok" (executed) or "request-error" (nothing was executed)."""

    kind: str
    payload: dict[str, Any]
    operation: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


class NotAllowed(Exception):
    """The operation type may not run over this transport (a mutation over GET)."""


class _LRU(OrderedDict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_item(self, key: Any) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


def error_payload(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extensions}}


def format_error(error: GraphQLError, default_code: str) -> dict[str, Any]:
    formatted = error.formatted
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        error_id = uuid.uuid4().hex[:12]
        log.error("error id %s at %s: %r", error_id, error.path, original, exc_info=original)
        masked: dict[str, Any] = {
            "message": f"Internal server error (error id {error_id})",
            "extensions": {"code": INTERNAL, "errorId": error_id},
        }
        if error.locations:
            masked["locations"] = formatted.get("locations")
        if error.path:
            masked["path"] = error.path
        return masked
    extensions = dict(formatted.get("extensions") or {})
    extensions.setdefault("code", default_code)
    formatted["extensions"] = extensions
    return formatted


class Executor:
    """Parses, checks, validates and executes operations against one schema."""

    def __init__(self, schema: GraphQLSchema, limits: Limits, introspection: bool = True) -> None:
        self.schema = schema
        self.limits = limits
        self.introspection = introspection
        self._documents: _LRU = _LRU(CACHE_SIZE)
        self._validated: _LRU = _LRU(CACHE_SIZE)
        rules = list(specified_rules)
        if not introspection:
            from graphql.validation import NoSchemaIntrospectionCustomRule

            rules.append(NoSchemaIntrospectionCustomRule)
        self._rules = rules

    def parse(self, query: str) -> DocumentNode:
        document = self._documents.get_item(query)
        if document is None:
            document = parse(query, max_tokens=self.limits.max_tokens)
            self._documents.put(query, document)
        return document

    def operation(self, document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            return operations[0] if len(operations) == 1 else None
        for op in operations:
            if op.name is not None and op.name.value == operation_name:
                return op
        return None

    async def run(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        context: Any,
        allowed: frozenset[OperationType] = frozenset({OperationType.QUERY}),
    ) -> Outcome:
        """Execute; raises NotAllowed before running an operation type not in ``allowed``."""
        try:
            document = self.parse(query)
        except GraphQLSyntaxError as exc:
            code = QUERY_TOO_COMPLEX if "tokens" in exc.message and "limit" in exc.message.lower() else PARSE_FAILED
            message = exc.message
            if code == QUERY_TOO_COMPLEX:
                message = f"query has more than {self.limits.max_tokens} tokens; the limit is {self.limits.max_tokens}"
            return self._request_error([format_error(exc, code) | {"message": message}])

        operation = self.operation(document, operation_name)
        if operation is not None and operation.operation not in allowed:
            raise NotAllowed(operation.operation.value)

        try:
            query_limits.check(self.schema, document, operation_name, variables, self.limits)
        except GraphQLError as exc:
            return self._request_error([format_error(exc, QUERY_TOO_COMPLEX)])

        errors = self._validated.get_item(document)
        if errors is None:
            errors = validate(self.schema, document, self._rules, hide_suggestions=not self.introspection)
            self._validated.put(document, errors)
        if errors:
            return self._request_error([format_error(e, VALIDATION_FAILED) for e in errors])

        try:
            result = execute(
                self.schema,
                document,
                context_value=context,
                variable_values=dict(variables) if variables is not None else None,
                operation_name=operation_name,
                hide_suggestions=not self.introspection,
            )
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                result = await asyncio.wait_for(result, self.limits.timeout_seconds)
        except asyncio.TimeoutError:
            return Outcome(
                "ok",
                {
                    "data": None,
                    "errors": [
                        error_payload(
                            f"the request ran longer than the execution time limit of {self.limits.timeout_seconds:g} s",
                            QUERY_TOO_COMPLEX,
                        )
                    ],
                },
            )
        assert isinstance(result, ExecutionResult)
        if result.data is None and result.errors and _before_execution(result.errors):
            # Variable coercion or operation selection failed: nothing ran.
            return self._request_error([format_error(e, BAD_USER_INPUT) for e in result.errors])
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [format_error(e, INTERNAL) for e in result.errors]
        return Outcome("ok", payload)

    def _request_error(self, errors: list[dict[str, Any]]) -> Outcome:
        return Outcome("request-error", {"errors": errors}, errors=errors)


def _before_execution(errors: list[GraphQLError]) -> bool:
    return all(e.path is None for e in errors)
