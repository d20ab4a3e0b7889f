"""graphql-core's resolvers, made from the fields' batch functions (graph.schema.fields).

The Strawberry types declare the contract (names, types, arguments,
descriptions); the value of every field comes from its batch function, here
called on a list of one. Async functions are batched per level like a
DataLoader: the objects graphql-core resolves in one pass (the 20 articles of a
page asking for their provider) are gathered and the function runs once for
all of them, so the stock path makes the same store calls as the compiled one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from graph.schema.context import Context
from graph.schema.fields import HANDLERS, STREAMS, Handler


class MissingHandler(LookupError):
    """A field of the schema has no batch function: its value would be undefined."""


def install(schema: GraphQLSchema) -> None:
    """Make every field of every object type resolve through its batch function."""
    missing = []
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, definition in type_.fields.items():
            found = HANDLERS.get((type_.name, name))
            if found is None:
                missing.append(f"{type_.name}.{name}")
                continue
            handler, is_async = found
            definition.resolve = _batched(handler) if is_async else _single(handler)
            stream = STREAMS.get((type_.name, name))
            if stream is not None:
                definition.subscribe = _subscribe(stream)
    if missing:
        raise MissingHandler(f"no batch function for {', '.join(sorted(missing))} (graph.schema.fields.HANDLERS)")


def _subscribe(stream: Any) -> Any:
    def subscribe(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        return stream(source, args, info.context)

    return subscribe


def _single(handler: Handler) -> Any:
    def resolve(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        return handler([source], args, info.context)[0]

    return resolve


class _Level:
    """The objects of one level waiting for one async field, and their futures."""

    __slots__ = ("handler", "args", "context", "sources", "futures")

    def __init__(self, handler: Handler, args: dict[str, Any], context: Context) -> None:
        self.handler = handler
        self.args = args
        self.context = context
        self.sources: list[Any] = []
        self.futures: list[asyncio.Future[Any]] = []

    async def run(self) -> None:
        try:
            values = await self.handler(self.sources, self.args, self.context)
        except Exception as exc:  # noqa: BLE001 - each object's field reports it, as graphql-core would
            for future in self.futures:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, value in zip(self.futures, values):
            if not future.done():
                future.set_result(value)


def _batched(handler: Handler) -> Any:
    def resolve(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        context: Context = info.context
        # One field node of one request has the same arguments wherever it occurs.
        key = id(info.field_nodes[0])
        level = context.batches.get(key)
        if level is None:
            level = context.batches[key] = _Level(handler, args, context)
            loop = asyncio.get_running_loop()
            loop.call_soon(_dispatch, context, key, level)
        future = asyncio.get_running_loop().create_future()
        level.sources.append(source)
        level.futures.append(future)
        return future

    return resolve


def _dispatch(context: Context, key: int, level: _Level) -> None:
    # Objects resolved after this point (a deeper level, or the next page) start a batch of their own.
    if context.batches.get(key) is level:
        del context.batches[key]
    task = asyncio.ensure_future(level.run())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


# Tasks are only weakly referenced by the loop: keep each until it is done.
_RUNNING: set[asyncio.Task[None]] = set()
