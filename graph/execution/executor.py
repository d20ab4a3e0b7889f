"""Run one GraphQL operation: parse (cached), price (limits), validate (cached), execute.

Every limit is checked before anything runs (graph.execution.limits for depth, aliases,
directives, page sizes and cost; the parser for tokens and length; validation
for the work of merging fields) and execution is bounded in time.

Errors come back with ``extensions.code``. Anything unexpected is masked: the
client gets a generic message with an error id, the server log gets the
details under the same id. The HTTP layer (graph.app) decides status codes
from ``Outcome.kind``.
"""

from __future__ import annotations

import asyncio
import time
import logging
import uuid
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
from graphql.validation import MaxIntrospectionDepthRule, NoSchemaIntrospectionCustomRule, specified_rules
from graphql.validation.validate import ValidationAbortedError

from graph import tracing
from graph.access import note_error_id
from graph.budget import Budget, FilterTooCostly, spending, starting_now
from graph.config import Limits
from graph.errors import BAD_USER_INPUT, INTERNAL, PARSE_FAILED, QUERY_TOO_COMPLEX, VALIDATION_FAILED
from graph.execution import graphql_patches
from graph.execution import limits as query_limits
from graph.execution.plan import EXPECTED_FALLBACKS, PLAN_FALLBACKS, PlanCache, directive_variables, fallback_reason, run_plan
from graph.lru import LRU

log = logging.getLogger("newsgraph.errors")
plan_log = logging.getLogger("newsgraph.plan")
CACHE_SIZE = 512
# Bytes of parsed documents (and of compiled plans) each cache may hold, by default.
CACHE_BYTES = 16 << 20
# A parsed document's memory besides its text, per token (the token, its AST node and location;
# measured with tracemalloc on graphql-core 3.3): 2,000 one-letter fields, 4 KB of text, take 1.1 MB.
TOKEN_BYTES = 560
ALL_OPERATIONS = frozenset(OperationType)
VALIDATION_ABORTED = "Validation aborted."  # graphql-core's message when a check runs out of budget


def _loop_time(deadline: float) -> float:
    """A time.monotonic() instant on the running loop's clock (asyncio.timeout_at takes those)."""
    return asyncio.get_running_loop().time() + (deadline - time.monotonic())


@dataclass
class Outcome:
    """What happened: ``kind`` is "ok" (executed) or "request-error" (nothing was executed)."""

    kind: str
    payload: dict[str, Any]
    operation: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


class NotAllowed(Exception):
    """The operation type may not run over this transport (a mutation over GET)."""


@dataclass
class Prepared:
    """A parsed document and what is known of it regardless of variables (cached per query text)."""

    document: DocumentNode
    counted: bool = False  # passed the alias and directive limits
    errors: list[GraphQLError] | None = None  # validation errors, once validated
    _directive_variables: tuple[str, ...] | None = None

    @property
    def directive_variables(self) -> tuple[str, ...]:
        """The variables @skip/@include read (they change a compiled plan's fields; others do not)."""
        if self._directive_variables is None:
            self._directive_variables = directive_variables(self.document)
        return self._directive_variables


def document_bytes(query: str, document: DocumentNode) -> int:
    """What a parsed document holds in memory, estimated: its text plus TOKEN_BYTES per token."""
    tokens = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        tokens += 1
        token = token.next
    return len(query) + TOKEN_BYTES * tokens


def error_payload(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """One error as the response's errors list holds it."""
    return {"message": message, "extensions": {"code": code, **extensions}}


def internal_error(detail: str, exc: BaseException | None = None) -> dict[str, Any]:
    """A masked error: the client gets an error id, the server log the details under that id."""
    error_id = uuid.uuid4().hex[:12]
    log.error("error id %s: %s", error_id, detail, exc_info=exc)
    note_error_id(error_id)
    return error_payload(f"Internal server error (error id {error_id})", INTERNAL, errorId=error_id)


def format_error(error: GraphQLError, default_code: str) -> dict[str, Any]:
    """A request error (parse, limits, validation, variables) with its code."""
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    extensions.setdefault("code", default_code)
    formatted["extensions"] = extensions
    return formatted


def format_execution_error(error: GraphQLError) -> dict[str, Any]:
    """An error raised while executing: ours (with a code) pass, anything else is masked."""
    if error.original_error is None and error.extensions and "code" in error.extensions:
        return format_error(error, INTERNAL)
    if isinstance(error.original_error, GraphQLError) and (error.original_error.extensions or {}).get("code"):
        return format_error(error, INTERNAL)
    cause = error.original_error if error.original_error is not None else error
    masked = internal_error(f"at {'.'.join(map(str, error.path or ()))}: {cause!r}", cause)
    if error.locations:
        masked["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        masked["path"] = error.path
    return masked


class Executor:
    """Parses, checks, validates and executes operations against one schema."""

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: Limits,
        introspection: bool = True,
        compiled: bool = True,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.introspection = introspection
        self.compiled = compiled
        # Bounded in bytes as well as entries: 512 documents of 64 KB, or of 2,000 tokens, are
        # hundreds of MB (issue 12). A document weighs its text plus TOKEN_BYTES a token.
        self._prepared: LRU = LRU(CACHE_SIZE, cache_bytes, name="parsed_documents")
        self._plans = PlanCache(schema, budget=cache_bytes)
        # MaxIntrospectionDepthRule is graphql-core's recommended (not specified)
        # rule that stops `__schema { types { fields { type { fields ...` bombs.
        rules = [*specified_rules, MaxIntrospectionDepthRule]
        if not introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self._rules = tuple(rules)

    def prepare(self, query: str) -> Prepared:
        """The parsed document for a query text (cached); raises GraphQLSyntaxError."""
        prepared = self._prepared.lookup(query)
        if prepared is None:
            document = parse(
                query,
                max_tokens=self.limits.max_tokens,
                max_source_length=self.limits.max_body_bytes,
                allow_empty_selection_sets=False,
            )
            prepared = Prepared(document)
            self._prepared.keep(query, prepared, weight=document_bytes(query, document))
        return prepared

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
        allowed: frozenset[OperationType] = ALL_OPERATIONS,
    ) -> Outcome:
        """Execute; raises NotAllowed before running an operation type not in ``allowed``."""
        checked = await self.check(query, variables, operation_name, context, allowed)
        if isinstance(checked, Outcome):
            return checked
        prepared, operation = checked
        # Store work reads the deadline and the filter work limit from here (graph.budget).
        budget = starting_now(self.limits)
        attributes = {"graphql.operation.name": operation_name or "", "graphql.operation.type": (
            operation.operation.value if operation is not None else "")}
        with spending(budget), tracing.span("graphql.execute", **attributes):
            return await self._execute(query, prepared, operation, operation_name, variables, context, budget)

    async def check(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        context: Any,
        allowed: frozenset[OperationType] = ALL_OPERATIONS,
    ) -> Outcome | tuple[Prepared, OperationDefinitionNode | None]:
        """Parse, price and validate (a request error as an Outcome); raises NotAllowed as ``run``."""
        try:
            with tracing.span("graphql.parse"):
                prepared = self.prepare(query)
        except GraphQLSyntaxError as exc:
            return self._request_error([self._syntax_error(exc)])
        document = prepared.document

        operation = self.operation(document, operation_name)
        if operation is not None and operation.operation not in allowed:
            raise NotAllowed(operation.operation.value)

        try:
            await self._check_limits(prepared, operation_name, variables, context)
        except GraphQLError as exc:
            return self._request_error([format_error(exc, QUERY_TOO_COMPLEX)])

        if prepared.errors is None:
            with tracing.span("graphql.validate"):
                prepared.errors = self._validate(document)
        if prepared.errors:
            return self._request_error([self._validation_error(e) for e in prepared.errors])
        return prepared, operation

    async def run_event(
        self, prepared: Prepared, variables: Mapping[str, Any] | None, operation_name: str | None, context: Any, event: Any
    ) -> dict[str, Any]:
        """The response to one subscription event (a checked subscription's selection over ``event``)."""
        budget = starting_now(self.limits)
        with spending(budget):
            outcome = await self._execute("", prepared, None, operation_name, variables, context, budget, event)
        return outcome.payload

    async def _execute(
        self,
        query: str,
        prepared: Prepared,
        operation: OperationDefinitionNode | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        context: Any,
        budget: Budget,
        root_value: Any = None,
    ) -> Outcome:
        document = prepared.document
        if self.compiled and operation is not None and operation.operation is OperationType.QUERY:
            if getattr(context, "reader", None) is not None:
                compiled = await self._run_compiled(query, prepared, operation, operation_name, variables, context, budget)
                if compiled is not None:
                    return compiled

        try:
            result = execute(
                self.schema,
                document,
                root_value=root_value,
                context_value=context,
                variable_values=dict(variables) if variables is not None else None,
                operation_name=operation_name,
                hide_suggestions=not self.introspection,
            )
            if not isinstance(result, ExecutionResult):
                # Awaited in this task, not wrapped in one by wait_for: a task cancelled before its first
                # step would leave the resolvers' awaitables that execute() already made never awaited.
                async with asyncio.timeout_at(_loop_time(budget.deadline)):
                    result = await result
        except TimeoutError:
            return self._timed_out()
        assert isinstance(result, ExecutionResult)
        for error in result.errors or ():
            if isinstance(error.original_error, (TimeoutError, FilterTooCostly)):
                return self._over_budget(error.original_error)
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # Variable coercion or operation selection failed: nothing ran.
            return self._request_error([format_error(e, BAD_USER_INPUT) for e in result.errors])
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [format_execution_error(e) for e in result.errors]
        return Outcome("ok", payload)

    async def _run_compiled(
        self,
        query: str,
        prepared: Prepared,
        operation: OperationDefinitionNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        context: Any,
        budget: Budget,
    ) -> Outcome | None:
        """The answer through the compiled plan, or None when the stock path must run (graph.execution.plan)."""
        # One plan per operation, whatever the variables, except those @skip/@include read.
        directives = tuple((name, (variables or {}).get(name)) for name in prepared.directive_variables)
        key = (query, operation_name, repr(directives))
        try:
            async with asyncio.timeout_at(_loop_time(budget.deadline)):
                plan, coerced = self._plans.get(prepared.document, operation, variables, key)
                context.deadline = budget.deadline
                context.variables = coerced
                data = await run_plan(plan, context)
        except (TimeoutError, FilterTooCostly) as exc:
            return self._over_budget(exc)
        except EXPECTED_FALLBACKS as exc:
            # Errors are graphql-core's to report (with paths and locations), from the same batch functions.
            PLAN_FALLBACKS[fallback_reason(exc)] += 1
            return None
        except Exception as exc:  # noqa: BLE001 - a defect: logged, counted, and still answered the stock way
            PLAN_FALLBACKS[fallback_reason(exc)] += 1
            plan_log.warning("the compiled plan failed on %s: %r", operation_name or "an anonymous operation", exc, exc_info=exc)
            return None
        return Outcome("ok", {"data": data})

    def _timed_out(self) -> Outcome:
        message = f"the request ran longer than the execution time limit of {self.limits.timeout_seconds:g} s"
        return Outcome("ok", {"data": None, "errors": [error_payload(message, QUERY_TOO_COMPLEX)]})

    def _over_budget(self, exc: BaseException) -> Outcome:
        """Past the deadline, or a filter priced over the filter work limit: nothing of it is served."""
        if isinstance(exc, FilterTooCostly):
            return Outcome("ok", {"data": None, "errors": [error_payload(str(exc), QUERY_TOO_COMPLEX)]})
        return self._timed_out()

    async def _check_limits(
        self, prepared: Prepared, operation_name: str | None, variables: Mapping[str, Any] | None, context: Any
    ) -> None:
        """Raise TooComplexError over a limit; store-sized lists are priced with the store's figures."""
        if not prepared.counted:
            query_limits.check_counts(prepared.document, self.limits)
            prepared.counted = True
        price = query_limits.price(self.schema, prepared.document, operation_name, variables, self.limits)
        reader = getattr(context, "reader", None)
        if price.guessed and reader is not None:
            sizes = await query_limits.list_sizes(reader, price.guessed)
            price = query_limits.price(self.schema, prepared.document, operation_name, variables, self.limits, sizes)
        query_limits.check_cost(price, self.limits)

    def _validate(self, document: DocumentNode) -> list[GraphQLError]:
        graphql_patches.set_validation_budget(self.limits.max_validation_work)
        return validate(
            self.schema,
            document,
            self._rules,
            hide_suggestions=not self.introspection,
            allow_empty_selection_sets=False,
        )

    def _validation_error(self, error: GraphQLError) -> dict[str, Any]:
        if isinstance(error, ValidationAbortedError) and error.message == VALIDATION_ABORTED:
            # The field-merging check ran out of its budget (or fragments nest past the interpreter's stack).
            message = (
                "query is too complex to validate (too many fields or fragments share a name); "
                f"the validation work limit is {self.limits.max_validation_work:,}"
            )
            return error_payload(message, QUERY_TOO_COMPLEX)
        return format_error(error, VALIDATION_FAILED)

    def _syntax_error(self, exc: GraphQLSyntaxError) -> dict[str, Any]:
        # graphql-core reports its parser's limits as syntax errors; here they are limits.
        limits = self.limits
        if exc.message.startswith("Syntax Error: Document contains more than"):
            message = f"query has more than {limits.max_tokens} tokens; the token limit is {limits.max_tokens}"
        elif exc.message.startswith("Syntax Error: Document is nested too deeply"):
            message = f"query is nested more than {limits.max_depth} levels deep; the depth limit is {limits.max_depth}"
        elif exc.message.startswith("Syntax Error: Source contains more than"):
            message = (
                f"query is longer than {limits.max_body_bytes} characters; "
                f"the request body limit is {limits.max_body_bytes} bytes"
            )
        else:
            return format_error(exc, PARSE_FAILED)
        return error_payload(message, QUERY_TOO_COMPLEX)

    def _request_error(self, errors: list[dict[str, Any]]) -> Outcome:
        return Outcome("request-error", {"errors": errors}, errors=errors)
