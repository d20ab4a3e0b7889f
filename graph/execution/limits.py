"""Static limits on a parsed query, checked before it is validated or run.

Aliases and directives are counted over the whole document; depth and cost
over the operation that will run, with fragments inlined. The cost is the most
objects the response could hold: a connection counts its first/last (default
20) for its edges and nodes, a nested list its first (default 10, facet lists
20), every object field one per parent. Scalars cost nothing.

Two checks make the walk itself cheap whatever the document: each selection set
is priced once per type it is used on (cost is linear in the number of parents,
so the price of one parent is memoized and multiplied), and the walk stops as
soon as it passes the depth limit. A fragment met again on its own path (a
cycle, which validation refuses afterwards) is skipped, never followed.

`topics` without `first` returns every topic, so only the store knows its
length: price() marks it as guessed and the caller prices again with
list_sizes() from a store reader.

Introspection (``__schema``, ``__type``) is neither priced nor depth-counted:
GraphiQL's own query is deeper than any data query needs; graphql-core's
MaxIntrospectionDepthRule (see graph.execution.executor) bounds it instead, and it can be
turned off in production.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    VariableDefinitionNode,
    VariableNode,
    coerce_input_value,
    is_input_type,
    type_from_ast,
    value_from_ast,
)
from graphql.language import DirectiveNode, Visitor, visit

from graph.config import Limits
from graph.errors import TooComplexError, UserInputError
from graph.paging import DEFAULT_LIST_SIZE, DEFAULT_PAGE_SIZE
from graph.schema.fields import DEFAULT_FACET_SIZE
from graph.snippets import DEFAULT_FIRST as DEFAULT_SNIPPETS

CONNECTION_LISTS = frozenset({"edges", "nodes"})
FACETS_TYPE = "ArticleFacets"
# Types whose lists default to the facet size (20) when `first` is omitted: Story.topics.
FACET_SIZED = frozenset({FACETS_TYPE, "Story"})
# Lists whose length only the store knows (every topic when `first` is omitted).
# They are priced with list_sizes() when given, else at the nested list limit.
SIZED_BY_STORE = frozenset({"Query.topics"})
# Lists with a default first of their own (others: DEFAULT_LIST_SIZE, facet lists DEFAULT_FACET_SIZE).
LIST_DEFAULTS = {"Article.snippets": DEFAULT_SNIPPETS}
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass(frozen=True)
class Price:
    """What price() found: the cost, and the store-sized lists it had to guess."""

    cost: int
    guessed: frozenset[str] = field(default_factory=frozenset)


class _Counter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0
        self.directives = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.aliases += 1

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.directives += 1


def check_counts(document: DocumentNode, limits: Limits) -> None:
    """Raise TooComplexError when the document has too many aliases or directives.

    These depend on the document alone, so callers may remember that it passed.
    """
    counter = _Counter()
    visit(document, counter)
    if counter.aliases > limits.max_aliases:
        raise TooComplexError(f"query has {counter.aliases} aliases; the alias limit is {limits.max_aliases}")
    if counter.directives > limits.max_directives:
        raise TooComplexError(
            f"query has {counter.directives} directives; the directive limit is {limits.max_directives}"
        )


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: Limits,
    list_sizes: Mapping[str, int] | None = None,
) -> Price:
    """Raise TooComplexError when any limit is exceeded; otherwise return the query's Price."""
    check_counts(document, limits)
    found = price(schema, document, operation_name, variables, limits, list_sizes)
    check_cost(found, limits)
    return found


def price(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: Limits,
    list_sizes: Mapping[str, int] | None = None,
) -> Price:
    """The query's Price; raises TooComplexError past the depth, page size or nested list size limit.

    ``list_sizes`` gives the real length of store-sized lists (SIZED_BY_STORE,
    by "Type.field"); those not given are priced at the nested list limit and
    named in ``Price.guessed``, so that the caller can ask the store and price again.
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    total = 0
    guessed: set[str] = set()
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (definition.name is None or definition.name.value != operation_name):
            continue
        root = schema.get_root_type(definition.operation)
        if root is None:
            continue  # validation reports the missing root type
        pricer = _Pricer(schema, fragments, _Variables(schema, definition, variables), limits, list_sizes or {})
        total += pricer.units(definition.selection_set, root, 1, None)
        guessed |= pricer.guessed
    return Price(total, frozenset(guessed))


def check_cost(found: Price, limits: Limits) -> None:
    """Raise TooComplexError when the price is over the cost limit."""
    if found.cost > limits.max_cost:
        raise TooComplexError(
            f"query could return up to {found.cost:,} objects; the cost limit is {limits.max_cost:,} "
            "(ask for fewer items with first/last on connections and nested lists)"
        )


class _Variables:
    """The operation's variables as execution will see them: coerced to their declared types.

    Sizes are read from coerced values, never from the JSON as sent: graphql-core
    coerces 100.0 to the Int 100, so reading only Python ints let `first: $n`
    with {"n": 100.0} go unpriced (issue 12). Only the variables a size is read
    from are coerced, once each; a value that does not coerce is None here
    (execution refuses it before anything runs).
    """

    def __init__(
        self, schema: GraphQLSchema, operation: OperationDefinitionNode, given: Mapping[str, Any] | None
    ) -> None:
        self.schema = schema
        self.definitions: dict[str, VariableDefinitionNode] = {
            d.variable.name.value: d for d in operation.variable_definitions or ()
        }
        self.given = given or {}
        self._coerced: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._coerced:
            self._coerced[name] = self._coerce(name)
        return self._coerced[name]

    def _coerce(self, name: str) -> Any:
        definition = self.definitions.get(name)
        if definition is None:
            return None  # an undefined variable: validation refuses the document
        try:
            type_ = type_from_ast(self.schema, definition.type)
        except Exception:  # noqa: BLE001 - a malformed type: validation refuses the document
            return None
        if type_ is None or not is_input_type(type_):
            return None
        if name in self.given:
            try:
                return coerce_input_value(self.given[name], type_)
            except (GraphQLError, RecursionError, TypeError, ValueError):
                return None
        if definition.default_value is not None:
            value = value_from_ast(definition.default_value, type_)
            return None if value is Undefined else value
        return None


def _named(type_: Any) -> tuple[Any, bool]:
    """The named type under a field type, and whether a list wraps it."""
    is_list = False
    while isinstance(type_, (GraphQLList, GraphQLNonNull)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class _Pricer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: _Variables,
        limits: Limits,
        list_sizes: Mapping[str, int],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits
        self.list_sizes = list_sizes
        self.guessed: set[str] = set()
        # (selection set, type, page) -> (height, units per parent); absent while in progress
        self._memo: dict[tuple[int, str, int | None], tuple[int, int]] = {}
        self._active: set[tuple[int, str, int | None]] = set()

    def units(self, selection_set: SelectionSetNode, parent: GraphQLObjectType, level: int, page: int | None) -> int:
        """Objects one parent of this selection set could hold; raises past the depth limit."""
        return self._walk(selection_set, parent, level, page)[1]

    def _walk(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType, level: int, page: int | None
    ) -> tuple[int, int]:
        key = (id(selection_set), parent.name, page)
        known = self._memo.get(key)
        if known is not None:
            self._check_depth(level - 1 + known[0])
            return known
        if key in self._active:
            return (0, 0)  # a fragment cycle: validation refuses the document
        self._active.add(key)
        height = 0
        units = 0
        for node in self._fields(selection_set):
            name = node.name.value
            if name in INTROSPECTION_ROOTS or name == "__typename":
                continue
            definition = parent.fields.get(name)
            if definition is None:
                continue  # unknown fields are left to validation
            self._check_depth(level)
            if node.selection_set is None:
                height = max(height, 1)
                continue
            named, is_list = _named(definition.type)
            if not isinstance(named, GraphQLObjectType):
                continue
            child_page = None
            if named.name.endswith("Connection"):
                child_page = self._page_size(node, definition)
                count = 1
            elif is_list and page is not None and name in CONNECTION_LISTS:
                count = page
            elif is_list:
                count = self._list_size(node, parent, definition)
            else:
                count = 1
            child_height, child_units = self._walk(node.selection_set, named, level + 1, child_page)
            height = max(height, 1 + child_height)
            units += count * (1 + child_units)
        self._active.discard(key)
        self._memo[key] = (height, units)
        return height, units

    def _check_depth(self, depth: int) -> None:
        if depth > self.limits.max_depth:
            raise TooComplexError(
                f"query is nested more than {self.limits.max_depth} levels deep; "
                f"the depth limit is {self.limits.max_depth}"
            )

    def _fields(self, selection_set: SelectionSetNode) -> Iterator[FieldNode]:
        """Fields of a selection set with fragments inlined, each named fragment once (as execution does)."""
        seen: set[str] = set()
        stack = [iter(selection_set.selections)]
        while stack:
            selection = next(stack[-1], None)
            if selection is None:
                stack.pop()
            elif isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                stack.append(iter(selection.selection_set.selections))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    seen.add(name)
                    stack.append(iter(fragment.selection_set.selections))

    def _int_argument(self, node: FieldNode, name: str, definition: Any) -> int | None:
        """An Int argument's value as execution will see it (literal or variable, coerced), or None."""
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                found = self.variables.get(value.name.value)
            else:
                arg = definition.args.get(name)
                if arg is None:
                    return None
                found = value_from_ast(value, arg.type, None)
            return found if isinstance(found, int) and not isinstance(found, bool) else None
        return None

    def _page_size(self, node: FieldNode, definition: Any) -> int:
        """A connection's page: first, else last, else the default; over the page size limit raises."""
        for argument in ("first", "last"):
            size = self._int_argument(node, argument, definition)
            if size is None:
                continue
            if size > self.limits.max_page_size:
                # A page bound is a bad paging argument (DESIGN "Errors"), found before anything runs.
                raise UserInputError(
                    f"{node.name.value}: {argument} is {size}; the page size limit is {self.limits.max_page_size}"
                )
            return max(size, 0)  # a negative size is refused by the resolver (BAD_USER_INPUT)
        return DEFAULT_PAGE_SIZE

    def _list_size(self, node: FieldNode, parent: GraphQLObjectType, definition: Any) -> int:
        """A list's length: its first, else its default; a nested list over the list size limit raises."""
        coordinate = f"{parent.name}.{node.name.value}"
        if "first" in definition.args:
            size = self._int_argument(node, "first", definition)
            if size is not None:
                nested = parent.name != "Query"
                if nested and size > self.limits.max_list_size:
                    raise UserInputError(
                        f"{node.name.value}: first is {size}; the nested list size limit is {self.limits.max_list_size}"
                    )
                return max(size, 0)
            if coordinate in LIST_DEFAULTS:
                return LIST_DEFAULTS[coordinate]
            if coordinate not in SIZED_BY_STORE:
                return DEFAULT_FACET_SIZE if parent.name in FACET_SIZED else DEFAULT_LIST_SIZE
        known = self.list_sizes.get(coordinate)
        if known is not None:
            return known
        if coordinate in SIZED_BY_STORE:
            self.guessed.add(coordinate)
        return self.limits.max_list_size


async def list_sizes(reader: Any, coordinates: frozenset[str]) -> dict[str, int]:
    """The real length of the store-sized lists named (see SIZED_BY_STORE), from a store reader."""
    sizes: dict[str, int] = {}
    if "Query.topics" in coordinates:
        sizes["Query.topics"] = len(await reader.list_topics(None))
    return sizes
