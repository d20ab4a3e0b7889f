"""A compiled execution path for the query operations of this schema.

Stock execution (graphql-core calling a resolver per field per object) spends
microseconds per resolved field: an info object, a path, a resolver call and
value completion for every field of every object. Here a validated operation is compiled once
per (document, operation) into a plan: for every selected field its batch
function (graph.schema.fields, the same function graphql-core's resolvers
call) runs once for all objects of one level. Relations are batched by
construction (one store call per field per level, like a DataLoader without its
scheduling cost).

The plan only produces successful results. Whenever anything is off — a bad
argument (the batch function raises UserInputError), a null where the schema
says non-null, an introspection field — the executor runs the operation the
stock way, which then reports errors exactly as graphql-core does, from the
same functions. Differential tests (tests/test_plan.py) prove both paths give
identical results for every contract query and README example.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.language import Node, VariableNode, Visitor, visit
from graphql.execution.values import get_argument_values, get_directive_values, get_variable_values

from graph.errors import UserInputError
from graph.lru import LRU
from graph.schema.context import Context
from graph.schema.fields import HANDLERS
from graph.store.base import StoreError

MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
PLAN_CACHE_SIZE = 256
# A compiled plan holds about this many bytes per byte of its key (the query text; measured
# with tracemalloc: a 64 KB `where` compiles to ~1 MB of filter objects).
PLAN_BYTES_PER_KEY_BYTE = 20


class Fallback(Exception):
    """This operation (or this data) is not for the compiled path; run it the stock way."""


# ---- the plan -------------------------------------------------------------------


@dataclass
class FieldPlan:
    key: str
    handler: Callable[..., Any]
    is_async: bool
    args: dict[str, Any]  # the arguments when they use no variable, else bound per request from ``bind``
    leaf: str | None  # scalar name for leaves, None for objects
    is_list: bool
    non_null: bool
    item_non_null: bool
    sub: SelectionPlan | None = None
    bind: tuple[Any, FieldNode] | None = None  # (field definition, node) of arguments that use variables

    def arguments(self, variables: dict[str, Any]) -> dict[str, Any]:
        return self.args if self.bind is None else get_argument_values(self.bind[0], self.bind[1], variables)


@dataclass
class SelectionPlan:
    type_name: str
    fields: list[FieldPlan] = field(default_factory=list)
    # Whether the fields' handlers may run at once when the reader's reads overlap (its
    # ``overlapping_reads``): each facet is an independent store call (on PostgreSQL a statement per
    # match set, and disjunctive facets ask for several match sets). The TinyDB reader computes in
    # this process, where running them at once only added tasks and threads: 3.60 -> 4.25 ms for the
    # mix's broad + all facets at 10k, in-process.
    concurrent: bool = False


# Types whose handlers only read the store, independently of each other. An article connection's
# totalCount and its page (nodes, edges, pageInfo) asked at once let the PostgreSQL reader answer
# both from one statement (issue 18: 3 statements a request -> 2 for a page with its count).
CONCURRENT_TYPES = frozenset({"ArticleFacets", "ArticleConnection"})


def _unwrap(type_: Any) -> tuple[Any, bool, bool, bool]:
    """(named type, non_null, is_list, item_non_null)"""
    non_null = isinstance(type_, GraphQLNonNull)
    if non_null:
        type_ = type_.of_type
    is_list = isinstance(type_, GraphQLList)
    item_non_null = False
    if is_list:
        type_ = type_.of_type
        item_non_null = isinstance(type_, GraphQLNonNull)
        if item_non_null:
            type_ = type_.of_type
        if isinstance(type_, (GraphQLList, GraphQLNonNull)):
            raise Fallback("nested lists")
    return type_, non_null, is_list, item_non_null


class Compiler:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Any) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def _collect(
        self, type_: GraphQLObjectType, selection_set: SelectionSetNode, out: OrderedDict[str, list[FieldNode]], seen: set[str]
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                out.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or condition.name.value == type_.name:
                    self._collect(type_, selection.selection_set, out, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen:
                    continue
                seen.add(name)
                fragment = self.fragments[name]
                if fragment.type_condition.name.value == type_.name:
                    self._collect(type_, fragment.selection_set, out, seen)

    def compile(self, type_: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode]) -> SelectionPlan:
        grouped: OrderedDict[str, list[FieldNode]] = OrderedDict()
        seen: set[str] = set()
        for selection_set in selection_sets:
            self._collect(type_, selection_set, grouped, seen)
        plan = SelectionPlan(type_.name, concurrent=type_.name in CONCURRENT_TYPES)
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            if name == "__typename":
                plan.fields.append(FieldPlan(key, _typename(type_.name), False, {}, "String", False, True, False))
                continue
            if name.startswith("__"):
                raise Fallback("introspection")
            definition = type_.fields.get(name)
            handler_spec = HANDLERS.get((type_.name, name))
            if definition is None or handler_spec is None:
                raise Fallback("no batch function")
            handler, is_async = handler_spec
            # Arguments that use variables are bound as the plan runs, so one plan serves every request.
            bind = (definition, nodes[0]) if definition.args and _uses_variables(nodes[0].arguments) else None
            args = get_argument_values(definition, nodes[0], {}) if definition.args and bind is None else {}
            named, non_null, is_list, item_non_null = _unwrap(definition.type)
            if isinstance(named, GraphQLObjectType):
                sub_sets = [n.selection_set for n in nodes if n.selection_set is not None]
                sub = self.compile(named, sub_sets)
                plan.fields.append(FieldPlan(key, handler, is_async, args, None, is_list, non_null, item_non_null, sub, bind))
            else:
                plan.fields.append(
                    FieldPlan(key, handler, is_async, args, named.name, is_list, non_null, item_non_null, None, bind)
                )
        return plan


def _uses_variables(node: Any) -> bool:
    """Whether an AST node (or a list of them) refers to a variable anywhere inside."""
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, (list, tuple)):
        return any(_uses_variables(item) for item in node)
    if isinstance(node, Node):
        return any(_uses_variables(getattr(node, key, None)) for key in node.keys if key not in ("loc", "name"))
    return False


def directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables @skip/@include read: the only ones that change which fields a plan has."""
    found: set[str] = set()

    class Finder(Visitor):
        def enter_directive(self, node: Any, *_: Any) -> None:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    found.add(argument.value.name.value)

    visit(document, Finder())
    return tuple(sorted(found))


# Queries the compiled plan handed to graphql-core, by reason (/metrics): a Fallback's reason, "bad
# argument" (a batch function refused one: graphql-core reports it), "store error", or, for a
# defect, "unexpected " and the class of what was raised (the tests fail on those).
PLAN_FALLBACKS: Counter[str] = Counter()
EXPECTED_FALLBACKS = (Fallback, UserInputError, GraphQLError, StoreError)


def fallback_reason(exc: BaseException) -> str:
    if isinstance(exc, Fallback):
        return str(exc)
    if isinstance(exc, (UserInputError, GraphQLError)):
        return "bad argument"
    if isinstance(exc, StoreError):
        return "store error"
    return f"unexpected {type(exc).__name__}"


class PlanCache:
    """Compiled plans by (query, operation name, the values of the variables @skip/@include read).

    Arguments are bound per request (FieldPlan.arguments), so requests that
    differ only in their variables share one plan; an operation the plan cannot
    run (introspection, a field without a handler) is remembered as such too.
    """

    def __init__(self, schema: GraphQLSchema, size: int = PLAN_CACHE_SIZE, budget: int | None = None) -> None:
        self.schema = schema
        self.size = size
        # Bounded in bytes too (estimated from the key), so 256 plans of 64 KB filters cannot pin 250 MB.
        self._plans = LRU(size, budget, name="plan")

    def get(
        self, document: DocumentNode, operation: OperationDefinitionNode, raw_variables: Mapping[str, Any] | None, key: Any
    ) -> tuple[SelectionPlan, dict[str, Any]]:
        """The plan for this operation and the request's coerced variables; raises Fallback."""
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), dict(raw_variables or {}))
        if isinstance(coerced, list):
            raise Fallback("variables do not coerce")
        plan = self._plans.lookup(key) if key is not None else None
        if plan is None:
            root = self.schema.query_type
            try:
                if operation.operation.value != "query" or root is None:
                    raise Fallback("not a query")
                plan = Compiler(self.schema, document, coerced).compile(root, [operation.selection_set])
            except Fallback as exc:
                plan = exc
            if key is not None:
                weight = PLAN_BYTES_PER_KEY_BYTE * sum(len(part) for part in key if isinstance(part, (str, bytes)))
                self._plans.keep(key, plan, weight=weight)
        if isinstance(plan, Fallback):
            raise Fallback(str(plan))  # a new one each time: re-raising one would grow its traceback
        return plan, coerced


# ---- execution --------------------------------------------------------------------


def _leaf(kind: str, value: Any) -> Any:
    if kind == "Int":
        if type(value) is not int or not MIN_INT <= value <= MAX_INT:
            raise Fallback("Int out of range")
        return value
    if kind == "Float":
        if type(value) is bool:
            raise Fallback("bad Float")
        return float(value)
    if kind == "Boolean":
        if type(value) is not bool:
            raise Fallback("bad Boolean")
        return value
    if type(value) is not str:
        raise Fallback("bad " + kind)
    return value


async def run_plan(plan: SelectionPlan, context: Context) -> dict[str, Any]:
    (data,) = await _execute(plan, [None], context)
    return data


async def _execute(plan: SelectionPlan, sources: list[Any], context: Context) -> list[dict[str, Any]]:
    outs: list[dict[str, Any]] = [{} for _ in sources]
    if time.monotonic() > context.deadline:
        raise TimeoutError("the execution time limit was reached")
    if plan.concurrent and len(plan.fields) > 1 and getattr(context.reader, "overlapping_reads", False):
        found = iter(await asyncio.gather(*(_values(fp, sources, context) for fp in plan.fields)))
    else:
        found = None
    for fp in plan.fields:
        values = next(found) if found is not None else await _values(fp, sources, context)
        key = fp.key
        if fp.sub is None:
            kind = fp.leaf
            for out, value in zip(outs, values):
                if value is None:
                    if fp.non_null:
                        raise Fallback("null in a non-null field")
                    out[key] = None
                elif fp.is_list:
                    out[key] = [_leaf(kind, item) for item in value]
                else:
                    out[key] = _leaf(kind, value)
            continue
        if fp.is_list:
            flat: list[Any] = []
            for value in values:
                if value is not None:
                    flat.extend(value)
            if fp.item_non_null and any(item is None for item in flat):
                raise Fallback("null item in a non-null list")
            present = [item for item in flat if item is not None]
            done = iter(await _execute(fp.sub, present, context)) if present else iter(())
            for out, value in zip(outs, values):
                if value is None:
                    if fp.non_null:
                        raise Fallback("null in a non-null field")
                    out[key] = None
                else:
                    out[key] = [None if item is None else next(done) for item in value]
        else:
            present = [value for value in values if value is not None]
            if fp.non_null and len(present) != len(values):
                raise Fallback("null in a non-null field")
            done = iter(await _execute(fp.sub, present, context)) if present else iter(())
            for out, value in zip(outs, values):
                out[key] = None if value is None else next(done)
    return outs


async def _values(fp: FieldPlan, sources: list[Any], context: Context) -> Any:
    values = fp.handler(sources, fp.arguments(context.variables), context)
    return await values if fp.is_async else values




def _typename(name: str) -> Callable[..., list[str]]:
    def handler(sources: list[Any], args: dict[str, Any], context: Context) -> list[str]:
        return [name] * len(sources)

    return handler
