"""The DateTime scalar.

Output values are stored already normalized (UTC, ``YYYY-MM-DDTHH:MM:SSZ``).
Input values are passed on as text and parsed where they are used, so that a
bad date-time is reported as BAD_USER_INPUT with the value in the message
rather than as a generic validation failure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType

import strawberry

from graph.dates import format_datetime
from graph.text import echo


def _serialize(value: Any) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    return str(value)


def _parse_value(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"DateTime must be an ISO-8601 string, got {echo(value)}")
    return value


DateTime = NewType("DateTime", str)

DATETIME_SCALAR = strawberry.scalar(
    name="DateTime",
    description=(
        "An ISO-8601 instant with an offset, e.g. 2020-12-14T19:04:00Z. "
        "Inputs also accept a plain date (2020-12-14 = midnight UTC)."
    ),
    serialize=_serialize,
    parse_value=_parse_value,
)
