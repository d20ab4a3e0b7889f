"""Per-request context: one pinned store reader, the limits, the deadline, the coerced variables."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from graph.config import Limits
from graph.store.base import Reader


@dataclass
class Context:
    reader: Reader
    limits: Limits = field(default_factory=Limits)
    # time.monotonic() past which the compiled plan stops: it rarely awaits, so the
    # executor's timeout alone could not interrupt it.
    deadline: float = math.inf
    # The request's coerced variables: the compiled plan binds arguments that use them as it runs.
    variables: dict[str, Any] = field(default_factory=dict)
    # graphql-core's resolvers gather the objects of one level here (graph.schema.resolvers).
    batches: dict[Any, Any] = field(default_factory=dict)
