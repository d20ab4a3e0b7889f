"""A compiled execution path for the query operations of this schema.

Stock execution (graphql-core driving Strawberry resolvers) spends ~4 us per
resolved field: an info object, a path, a resolver call and value completion
for every field of every object. Here a validated operation is compiled once
per (document, operation, variables) into a plan: for every selected field a
*batch* handler that resolves it for all objects of one level at once, straight
from the stored documents. Relations are batched by construction (one store
call per field per level, like a DataLoader without its scheduling cost).

The plan only produces successful results. Whenever anything is off — an
argument the resolvers would refuse, a null where the schema says non-null, an
introspection field, any exception — it raises Fallback and the executor runs
the operation the stock way, which then reports errors exactly as graphql-core
does. Differential tests (tests/test_plan.py) prove both paths give identical
results for every contract query and README example.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from graphql import (
    DocumentNode,
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

from graph import filters, search, snippets
from graph.documents import RELATED_URL_FIELDS
from graph.errors import UserInputError
from graph.facets import FacetQueries, Selection, scoped
from graph.filters import Compare, FilterError, ProviderIs
from graph.lru import LRU
from graph import paging
from graph.schema.inputs import as_mapping, to_filter
from graph.store.base import ArticleQuery, Page, ProviderQuery, Reader, Window

MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
PLAN_CACHE_SIZE = 256
# A compiled plan holds about this many bytes per byte of its key (the query text; measured
# with tracemalloc: a 64 KB `where` compiles to ~1 MB of filter objects).
PLAN_BYTES_PER_KEY_BYTE = 20
DEFAULT_FACET_SIZE = 20


class Fallback(Exception):
    """This operation (or this data) is not for the compiled path; run it the stock way."""


@dataclass
class Runtime:
    reader: Reader
    max_page_size: int
    max_list_size: int
    # time.monotonic() past which execution stops: the plan rarely awaits, so
    # the executor's timeout alone could not interrupt it.
    deadline: float = math.inf
    # The request's coerced variables: arguments that use them are bound as the plan runs.
    variables: dict[str, Any] = field(default_factory=dict)


# ---- runtime values of the non-document types --------------------------------


@dataclass
class ConnectionState:
    query: Any
    window: Window
    kind: str  # "article", "provider" or "story"
    page: Page | None = None
    cursors: list[str] | None = None
    selection: Selection | None = None  # an articles connection's query in parts (graph.facets)

    def page_cursors(self) -> list[str]:
        if self.cursors is None:
            assert self.page is not None
            self.cursors = paging.encode_cursors(self.query.order, self.page.keys)
        return self.cursors


@dataclass
class PageInfoValue:
    page: Page
    cursors: list[str]


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


# Types whose handlers only read the store, independently of each other.
CONCURRENT_TYPES = frozenset({"ArticleFacets"})


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
                raise Fallback(f"no compiled handler for {type_.name}.{name}")
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


# Queries the compiled plan handed to graphql-core, by the class name of what it raised (/metrics).
PLAN_FALLBACKS: Counter[str] = Counter()


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
        raise Fallback(f"bad {kind}")
    return value


async def run_plan(plan: SelectionPlan, runtime: Runtime) -> dict[str, Any]:
    (data,) = await _execute(plan, [None], runtime)
    return data


async def _execute(plan: SelectionPlan, sources: list[Any], runtime: Runtime) -> list[dict[str, Any]]:
    outs: list[dict[str, Any]] = [{} for _ in sources]
    if time.monotonic() > runtime.deadline:
        raise TimeoutError("the execution time limit was reached")
    if plan.concurrent and len(plan.fields) > 1 and getattr(runtime.reader, "overlapping_reads", False):
        found = iter(await asyncio.gather(*(_values(fp, sources, runtime) for fp in plan.fields)))
    else:
        found = None
    for fp in plan.fields:
        values = next(found) if found is not None else await _values(fp, sources, runtime)
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
            done = iter(await _execute(fp.sub, present, runtime)) if present else iter(())
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
            done = iter(await _execute(fp.sub, present, runtime)) if present else iter(())
            for out, value in zip(outs, values):
                out[key] = None if value is None else next(done)
    return outs


async def _values(fp: FieldPlan, sources: list[Any], runtime: Runtime) -> Any:
    values = fp.handler(sources, fp.arguments(runtime.variables), runtime)
    return await values if fp.is_async else values


# ---- handlers: (sources, args, runtime) -> values, one per source -------------------


def _typename(name: str) -> Callable[..., list[str]]:
    def handler(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[str]:
        return [name] * len(sources)

    return handler


def _get(key: str) -> Callable[..., list[Any]]:
    def handler(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
        return [source.get(key) for source in sources]

    return handler


def _attr(name: str) -> Callable[..., list[Any]]:
    def handler(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
        return [getattr(source, name) for source in sources]

    return handler


def _index(i: int) -> Callable[..., list[Any]]:
    def handler(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
        return [source[i] for source in sources]

    return handler


def _article_body(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [doc.get("body") or "" for doc in sources]


def _article_published(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [doc.get("published") is True for doc in sources]


def _article_topics(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [list(doc.get("topics") or ()) for doc in sources]


def _image_cached(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [image.get("isCached") is True for image in sources]


def _aspect_ratio(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    out = []
    for image in sources:
        width, height = image.get("width"), image.get("height")
        out.append(None if width is None or not height or height <= 0 else width / height)
    return out


async def _providers_of(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return await _providers_by_domain([(s.get("provider") or {}).get("domain") for s in sources], runtime)


async def _facet_providers(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    # FacetCount values are (value, count) pairs; the providers facet adds the domain as a third item.
    return await _providers_by_domain([s[2] if len(s) > 2 else None for s in sources], runtime)


async def _providers_by_domain(domains: list[str | None], runtime: Runtime) -> list[Any]:
    unique = sorted({d for d in domains if d is not None})
    known = dict(zip(unique, await runtime.reader.get_providers(unique))) if unique else {}
    return [None if d is None else known.get(d) for d in domains]


def _nested_first(name: str, args: dict[str, Any], runtime: Runtime) -> int:
    first = args.get("first")
    try:
        paging.check_list_size(name, first, runtime.max_list_size)
    except Exception as exc:
        raise Fallback(str(exc)) from None
    return paging.DEFAULT_LIST_SIZE if first is None else first


def _filter(entity: str, value: Any) -> filters.Filter:
    try:
        return to_filter(entity, value)
    except FilterError as exc:
        raise Fallback(str(exc)) from None


def _images(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    limit = _nested_first("images", args, runtime)
    f = _filter("image", args.get("where"))
    out = []
    for source in sources:
        chosen = []
        for image in source.get("images") or ():
            if len(chosen) >= limit:
                break
            if f is filters.TRUE or filters.matches(f, image, "image", _no_providers):
                chosen.append(image)
        out.append(chosen)
    return out


def _no_providers(domain: str) -> None:
    return None


def _snippets(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    try:
        return snippets.batch(sources, args["search"], args.get("first"), args.get("length"))
    except UserInputError as exc:
        raise Fallback(str(exc)) from None


async def _related(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    limit = _nested_first("related", args, runtime)
    f = _filter("related", args.get("where"))
    if f is filters.TRUE:
        return [list((doc.get("related") or ())[:limit]) for doc in sources]
    domains = sorted({i["provider"]["domain"] for d in sources for i in d.get("related") or () if i.get("provider")})
    known = dict(zip(domains, await runtime.reader.get_providers(domains))) if domains else {}
    out = []
    for doc in sources:
        items = [i for i in doc.get("related") or () if filters.matches(f, i, "related", known.get)]
        out.append(items[:limit])
    return out


async def _related_article(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    wanted = [[item[k] for k in RELATED_URL_FIELDS if item.get(k)] for item in sources]
    unique = sorted({url for urls in wanted for url in urls})
    found = dict(zip(unique, await runtime.reader.get_articles_by_url(unique))) if unique else {}
    out = []
    for urls in wanted:
        out.append(next((found[u] for u in urls if found.get(u) is not None), None))
    return out


def _ordering(value: Any) -> list[SimpleNamespace] | None:
    if value is None:
        return None
    return [SimpleNamespace(field=item["field"], direction=item["direction"]) for item in value]


def _article_state(args: dict[str, Any], runtime: Runtime, scope: filters.Filter | None) -> ConnectionState:
    try:
        where = as_mapping(args.get("where"))
        f = scoped(scope, to_filter("article", where))
        text = args.get("search")
        terms = search.parse_query(text) if text is not None else None
        order = paging.article_order(_ordering(args.get("orderBy")), terms is not None)
        window = paging.window(
            args.get("first"), args.get("after"), args.get("last"), args.get("before"), order, runtime.max_page_size
        )
    except Exception as exc:
        raise Fallback(str(exc)) from None
    query = ArticleQuery(filter=f, search=terms, order=order)
    return ConnectionState(query, window, "article", selection=Selection(query, scope, where))


def _query_articles(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [_article_state(args, runtime, None) for _ in sources]


def _provider_articles(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [_article_state(args, runtime, ProviderIs(Compare("domain", "eq", p["domain"]))) for p in sources]


def _topic_articles(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [_article_state(args, runtime, Compare("topics", "has", t["name"])) for t in sources]


def _query_providers(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    try:
        f = to_filter("provider", args.get("where"))
        order = paging.provider_order(_ordering(args.get("orderBy")))
        window = paging.window(
            args.get("first"), args.get("after"), args.get("last"), args.get("before"), order, runtime.max_page_size
        )
    except Exception as exc:
        raise Fallback(str(exc)) from None
    return [ConnectionState(ProviderQuery(filter=f, order=order), window, "provider") for _ in sources]


async def _page(state: ConnectionState, runtime: Runtime) -> Page:
    if state.page is None:
        if state.kind == "article":
            state.page = await runtime.reader.find_articles(state.query, state.window)
        elif state.kind == "story":
            state.page = await runtime.reader.find_stories(state.query, state.window)
        else:
            state.page = await runtime.reader.find_providers(state.query, state.window)
    return state.page


async def _pages(states: list[ConnectionState], runtime: Runtime) -> list[Page]:
    if len(states) == 1:
        return [await _page(states[0], runtime)]
    return list(await asyncio.gather(*(_page(s, runtime) for s in states)))


async def _edges(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    out = []
    for state, page in zip(sources, await _pages(sources, runtime)):
        out.append(list(zip(state.page_cursors(), page.items)))
    return out


async def _nodes(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [list(page.items) for page in await _pages(sources, runtime)]


async def _page_info(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    out = []
    for state, page in zip(sources, await _pages(sources, runtime)):
        out.append(PageInfoValue(page, state.page_cursors()))
    return out


async def _total_count(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    out = []
    for state in sources:
        if state.kind == "article":
            out.append(await runtime.reader.count_articles(state.query))
        elif state.kind == "story":
            out.append(await runtime.reader.count_stories(state.query))
        else:
            out.append(await runtime.reader.count_providers(state.query))
    return out


def _facets(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [FacetQueries(state.selection, disjunctive=False) for state in sources]


def _disjunctive_facets(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [FacetQueries(state.selection, disjunctive=True) for state in sources]


def _facet_counts(field_name: str, name: str) -> Callable[..., Any]:
    async def handler(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
        first = args.get("first")
        try:
            paging.check_list_size(name, first, runtime.max_list_size)
        except Exception as exc:
            raise Fallback(str(exc)) from None
        size = DEFAULT_FACET_SIZE if first is None else first
        found = [await runtime.reader.facet_counts(s.of(field_name), field_name, size) for s in sources]
        if field_name == "provider":
            return [[(value, count, value) for value, count in pairs] for pairs in found]
        return found

    return handler


async def _facet_published(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [await runtime.reader.facet_counts(s.of("published"), "published", None) for s in sources]


def _int_stats(field_name: str) -> Callable[..., Any]:
    async def handler(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
        return [await runtime.reader.int_stats(s.of(field_name), field_name) for s in sources]

    return handler


async def _date_range(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [await runtime.reader.date_range(s.of("publishedDateTime")) for s in sources]


async def _histogram(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    interval = args["interval"].value
    return [await runtime.reader.histogram(s.of("publishedDateTime"), interval) for s in sources]


async def _query_article(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return await runtime.reader.get_articles([str(args["id"])])


async def _query_article_by_url(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return await runtime.reader.get_articles_by_url([args["url"]])


async def _query_provider(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return await runtime.reader.get_providers([args["domain"]])


async def _query_topic(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return await runtime.reader.get_topics([args["name"]])


async def _query_topics(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    first = args.get("first")
    if first is not None and first < 0:
        raise Fallback("negative first")
    return [await runtime.reader.list_topics(first)]


def _page_info_field(name: str) -> Callable[..., list[Any]]:
    def handler(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
        out = []
        for value in sources:
            if name == "hasNextPage":
                out.append(value.page.has_next)
            elif name == "hasPreviousPage":
                out.append(value.page.has_previous)
            elif name == "startCursor":
                out.append(value.cursors[0] if value.cursors else None)
            else:
                out.append(value.cursors[-1] if value.cursors else None)
        return out

    return handler


SYNC, ASYNC = False, True
HANDLERS: dict[tuple[str, str], tuple[Callable[..., Any], bool]] = {
    ("Query", "article"): (_query_article, ASYNC),
    ("Query", "articleByUrl"): (_query_article_by_url, ASYNC),
    ("Query", "articles"): (_query_articles, SYNC),
    ("Query", "provider"): (_query_provider, ASYNC),
    ("Query", "providers"): (_query_providers, SYNC),
    ("Query", "topic"): (_query_topic, ASYNC),
    ("Query", "topics"): (_query_topics, ASYNC),
    ("Article", "body"): (_article_body, SYNC),
    ("Article", "published"): (_article_published, SYNC),
    ("Article", "topics"): (_article_topics, SYNC),
    ("Article", "provider"): (_providers_of, ASYNC),
    ("Article", "images"): (_images, SYNC),
    ("Article", "related"): (_related, ASYNC),
    ("Article", "snippets"): (_snippets, SYNC),
    ("Snippet", "field"): (_attr("field"), SYNC),
    ("Snippet", "text"): (_attr("text"), SYNC),
    ("Snippet", "highlights"): (_attr("highlights"), SYNC),
    ("TextRange", "start"): (_index(0), SYNC),
    ("TextRange", "end"): (_index(1), SYNC),
    ("Related", "provider"): (_providers_of, ASYNC),
    ("Related", "images"): (_images, SYNC),
    ("Related", "article"): (_related_article, ASYNC),
    ("Image", "isCached"): (_image_cached, SYNC),
    ("Image", "aspectRatio"): (_aspect_ratio, SYNC),
    ("Provider", "articles"): (_provider_articles, SYNC),
    ("Topic", "articles"): (_topic_articles, SYNC),
    ("ArticleConnection", "edges"): (_edges, ASYNC),
    ("ArticleConnection", "nodes"): (_nodes, ASYNC),
    ("ArticleConnection", "pageInfo"): (_page_info, ASYNC),
    ("ArticleConnection", "totalCount"): (_total_count, ASYNC),
    ("ArticleConnection", "facets"): (_facets, SYNC),
    ("ArticleConnection", "disjunctiveFacets"): (_disjunctive_facets, SYNC),
    ("ProviderConnection", "edges"): (_edges, ASYNC),
    ("ProviderConnection", "nodes"): (_nodes, ASYNC),
    ("ProviderConnection", "pageInfo"): (_page_info, ASYNC),
    ("ProviderConnection", "totalCount"): (_total_count, ASYNC),
    ("ArticleEdge", "cursor"): (_index(0), SYNC),
    ("ArticleEdge", "node"): (_index(1), SYNC),
    ("ProviderEdge", "cursor"): (_index(0), SYNC),
    ("ProviderEdge", "node"): (_index(1), SYNC),
    ("FacetCount", "value"): (_index(0), SYNC),
    ("FacetCount", "count"): (_index(1), SYNC),
    ("FacetCount", "provider"): (_facet_providers, ASYNC),
    ("DateTimeRange", "min"): (_index(0), SYNC),
    ("DateTimeRange", "max"): (_index(1), SYNC),
    ("ArticleFacets", "topics"): (_facet_counts("topics", "topics"), ASYNC),
    ("ArticleFacets", "providers"): (_facet_counts("provider", "providers"), ASYNC),
    ("ArticleFacets", "categories"): (_facet_counts("category", "categories"), ASYNC),
    ("ArticleFacets", "types"): (_facet_counts("type", "types"), ASYNC),
    ("ArticleFacets", "published"): (_facet_published, ASYNC),
    ("ArticleFacets", "quality"): (_int_stats("quality"), ASYNC),
    ("ArticleFacets", "heat"): (_int_stats("heat"), ASYNC),
    ("ArticleFacets", "publishedDateTime"): (_date_range, ASYNC),
    ("ArticleFacets", "histogram"): (_histogram, ASYNC),
}
for _name in ("count", "min", "max", "avg"):
    HANDLERS[("IntStats", _name)] = (_attr(_name), SYNC)
for _name in ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"):
    HANDLERS[("PageInfo", _name)] = (_page_info_field(_name), SYNC)
for _name in ("id", "title", "excerpt", "category", "type", "quality", "heat", "publishedDateTime",
              "originalUrl", "webUrl", "ampWebUrl", "cdnAmpWebUrl"):
    HANDLERS.setdefault(("Article", _name), (_get(_name), SYNC))
for _name in ("title", "excerpt", "publishedDateTime", "webUrl", "ampWebUrl", "cdnAmpWebUrl", "type", "quality"):
    HANDLERS.setdefault(("Related", _name), (_get(_name), SYNC))
for _name in ("url", "width", "height"):
    HANDLERS.setdefault(("Image", _name), (_get(_name), SYNC))
for _name in ("name", "domain", "articleCount"):
    HANDLERS.setdefault(("Provider", _name), (_get(_name), SYNC))
for _name in ("name", "articleCount"):
    HANDLERS.setdefault(("Topic", _name), (_get(_name), SYNC))

# Stories' handlers build on the ones above (graph.execution.story_fields).
from graph.execution.story_fields import STORY_HANDLERS  # noqa: E402

HANDLERS.update(STORY_HANDLERS)
