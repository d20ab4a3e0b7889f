"""Date-times: parsed from what clients and seed files write, served in one form."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any

from graph.text import echo


def format_datetime(value: datetime) -> str:
    """The served form: UTC, whole seconds, 'Z' (years below 1000 zero-padded)."""
    moment = value.astimezone(timezone.utc)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def parse_datetime(value: Any) -> datetime:
    """An instant from an ISO-8601 string (offset or Z), a plain date (midnight UTC) or a datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(), tzinfo=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                parsed = datetime.combine(date.fromisoformat(text), time(), tzinfo=timezone.utc)
            else:
                parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise ValueError(f"not an ISO-8601 date-time: {echo(value)}") from None
    else:
        raise ValueError(f"not an ISO-8601 date-time: {echo(value)}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"out of range in UTC: {echo(value)}") from None
