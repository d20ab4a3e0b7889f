"""Static limits on a parsed query, checked before it is validated or run.

Depth, aliases and directives are counted on the document; the cost is the
most objects the response could hold: a connection counts its first/last
(default 20) for its edges and nodes, a nested list its first (default 10).
Introspection (``__schema``, ``__type``) is not priced: GraphiQL's own query is
deeper than any data query needs, and it can be turned off in production.
The walk never follows a fragment twice on one path, so fragment cycles
(refused later by validation) cannot make it loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.language import DirectiveNode, IntValueNode, NullValueNode

from graph.config import Limits
from graph.errors import TooComplexError

CONNECTION_PAGE = 20
NESTED_LIST = 10
UNBOUNDED_LIST = 100
CONNECTION_LISTS = ("edges", "nodes")


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


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: Limits,
) -> int:
    """Raise TooComplexError when a limit is exceeded; return the query's cost."""
    counter = _Counter()
    visit(document, counter)
    if counter.aliases > limits.max_aliases:
        raise TooComplexError(f"query has {counter.aliases} aliases; the limit is {limits.max_aliases}")
    if counter.directives > limits.max_directives:
        raise TooComplexError(f"query has {counter.directives} directives; the limit is {limits.max_directives}")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(schema, fragments, variables or {}, limits)
    total = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (definition.name is None or definition.name.value != operation_name):
            continue
        root = schema.get_root_type(definition.operation)
        if root is None:
            continue
        depth = walker.depth(definition.selection_set, frozenset())
        if depth > limits.max_depth:
            raise TooComplexError(f"query is {depth} levels deep; the limit is {limits.max_depth}")
        total += walker.cost(definition.selection_set, root, 1, frozenset())
    if total > limits.max_cost:
        raise TooComplexError(
            f"query could return up to {total:,} objects; the cost limit is {limits.max_cost:,} "
            "(lower first/last on connections and nested lists)"
        )
    return total


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits

    def _fields(self, selection_set: SelectionSetNode | None, seen: frozenset[str]):
        """Fields of a selection set with fragments inlined (each fragment once per path)."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, seen
            elif isinstance(selection, InlineFragmentNode):
                yield from self._fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    yield from self._fields(fragment.selection_set, seen | {name})

    def depth(self, selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
        deepest = 0
        for field, path_seen in self._fields(selection_set, seen):
            if field.name.value.startswith("__"):
                continue
            if field.selection_set is not None:
                deepest = max(deepest, 1 + self.depth(field.selection_set, path_seen))
            else:
                deepest = max(deepest, 1)
        return deepest

    def _int_argument(self, field: FieldNode, name: str) -> int | None:
        for argument in field.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                found = self.variables.get(value.name.value)
                return found if isinstance(found, int) and not isinstance(found, bool) else None
            if isinstance(value, NullValueNode):
                return None
        return None

    def cost(self, selection_set: SelectionSetNode | None, parent: Any, multiplier: int, seen: frozenset[str]) -> int:
        total = 0
        for field, path_seen in self._fields(selection_set, seen):
            name = field.name.value
            if name.startswith("__") or not isinstance(parent, GraphQLObjectType):
                continue
            definition = parent.fields.get(name)
            if definition is None or field.selection_set is None:
                continue  # scalars cost nothing; unknown fields are left to validation
            field_type = definition.type
            if isinstance(field_type, GraphQLNonNull):
                field_type = field_type.of_type
            is_list = isinstance(field_type, GraphQLList)
            named = field_type
            while isinstance(named, (GraphQLList, GraphQLNonNull)):
                named = named.of_type
            if named.name.endswith("Connection"):
                page = self._int_argument(field, "first")
                if page is None:
                    page = self._int_argument(field, "last")
                page = CONNECTION_PAGE if page is None else max(page, 0)
                count = multiplier
                total += count + self._connection_cost(field.selection_set, named, count, page, path_seen)
                continue
            if is_list:
                size = self._int_argument(field, "first")
                if size is None:
                    size = NESTED_LIST if "first" in definition.args else UNBOUNDED_LIST
                count = multiplier * max(size, 0)
            else:
                count = multiplier
            total += count + self.cost(field.selection_set, named, count, path_seen)
            if total > self.limits.max_cost * 4:
                break  # already far over: no need to price the rest
        return total

    def _connection_cost(
        self, selection_set: SelectionSetNode, connection: Any, multiplier: int, page: int, seen: frozenset[str]
    ) -> int:
        total = 0
        for field, path_seen in self._fields(selection_set, seen):
            name = field.name.value
            definition = connection.fields.get(name) if isinstance(connection, GraphQLObjectType) else None
            if definition is None or field.selection_set is None:
                continue
            named = definition.type
            while isinstance(named, (GraphQLList, GraphQLNonNull)):
                named = named.of_type
            count = multiplier * page if name in CONNECTION_LISTS else multiplier
            total += count + self.cost(field.selection_set, named, count, path_seen)
        return total
