"""The server's log: where it goes, and how a flood of one failure stays a few lines.

Everything goes to stderr. A failure that repeats (a client flood, a database
that is down, file descriptors running out) used to write the same line and
traceback for every request or every accept: 460,799 "Too many open files"
lines (211 MB) in 40 s (issue 12). Repeats keeps such a log readable:

- a line identical to one written less than WINDOW_SECONDS ago is dropped, and
  the next one written after the window says how many were dropped;
- a masked error (``error id …: …``, see graph.execution.executor.internal_error) is never
  dropped, since its id must lead from a user's report to the log, but when the
  same failure was logged with its traceback in the window, it is one line that
  names the error id whose traceback it shares.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

WINDOW_SECONDS = 60.0
# Distinct lines remembered; past this the oldest are forgotten (and may be written again).
MAX_REMEMBERED = 1024
# The message graph.execution.executor.internal_error logs; its first argument is the error id.
ERROR_ID_MESSAGE = "error id %s: %s"
# Loggers whose lines go through Repeats: ours, uvicorn's, and asyncio's (accept() failures).
FILTERED_LOGGERS = ("newsgraph", "uvicorn", "uvicorn.error", "asyncio")


class Repeats(logging.Filter):
    """Drops identical lines within a window; shortens repeated masked errors to one line."""

    def __init__(self, window: float = WINDOW_SECONDS, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self.clock = clock
        # key -> [first time in this window, lines dropped since, error id of the traceback]
        self._seen: dict[Any, list[Any]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        error_id = None
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg == ERROR_ID_MESSAGE and len(args) == 2:
            error_id, detail = args
            key: Any = (record.name, record.levelno, "error id", detail, _exception(record))
        else:
            key = (record.name, record.levelno, record.getMessage(), _exception(record))
        now = self.clock()
        seen = self._seen.get(key)
        if seen is None or now - seen[0] >= self.window:
            dropped = seen[1] if seen is not None else 0
            self._remember(key, [now, 0, error_id])
            if dropped:
                record.msg = f"{record.msg} (and {dropped} more like it in the {self.window:g} s before)"
            return True
        if error_id is not None:
            # Never dropped: the id must be findable. The traceback is the one logged under seen[2].
            record.msg = f"{record.msg} (same failure as error id {seen[2]}: traceback there)"
            record.exc_info = None
            record.exc_text = None
            return True
        seen[1] += 1
        return False

    def _remember(self, key: Any, value: list[Any]) -> None:
        self._seen.pop(key, None)
        self._seen[key] = value
        while len(self._seen) > MAX_REMEMBERED:
            del self._seen[next(iter(self._seen))]


def _exception(record: logging.LogRecord) -> tuple[str, str] | None:
    if not record.exc_info or record.exc_info[1] is None:
        return None
    exc = record.exc_info[1]
    return (type(exc).__name__, str(exc))


class JSONFormatter(logging.Formatter):
    """One JSON object a line (NEWSGRAPH_LOG_FORMAT=json): time, level, logger, message, and the
    traceback as one string; a masked error's line also has its ``error_id``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args if isinstance(record.args, tuple) else ()
        if str(record.msg).startswith(ERROR_ID_MESSAGE) and len(args) == 2:
            line["error_id"] = args[0]
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


JSONFormatter.converter = time.gmtime  # type: ignore[assignment]


def configure_logging(log_format: str = "text") -> None:
    """Send newsgraph's log (masked errors with their ids, warnings) to stderr, once per process,
    and put Repeats on every handler that writes ours, uvicorn's or asyncio's lines."""
    logger = logging.getLogger("newsgraph")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    asyncio_logger = logging.getLogger("asyncio")
    if not asyncio_logger.handlers:
        # asyncio's lines (e.g. "socket.accept() out of system resource") otherwise reach
        # logging's last-resort handler, which no filter can be put on.
        asyncio_logger.addHandler(handler)
        asyncio_logger.propagate = False
    for name in FILTERED_LOGGERS:
        for each in logging.getLogger(name).handlers:
            if not any(isinstance(f, Repeats) for f in each.filters):
                each.addFilter(Repeats())
