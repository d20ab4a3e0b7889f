"""schema = the strawberry Schema of the public contract."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from graph.schema import resolvers
from graph.schema.query import Query
from graph.schema.subscription import Subscription
from graph.schema.scalars import DATETIME_SCALAR, DateTime

schema = strawberry.Schema(query=Query, subscription=Subscription, config=StrawberryConfig(auto_camel_case=True, scalar_map={DateTime: DATETIME_SCALAR}))
# Every field answers through its batch function (graph.schema.fields); a field without one stops the import.
resolvers.install(schema._schema)


def sdl() -> str:
    """The served schema as SDL (what `newsgraph export-schema` prints)."""
    return schema.as_str() + "\n"
