"""The server log under a flood (issue 12, item 8): identical lines are written once per window
with a count of the dropped ones; masked errors keep one line per error id, with the traceback
once per window."""

from __future__ import annotations

import io
import logging

from graph.logs import Repeats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def logger_with_repeats(clock: Clock) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(Repeats(window=60, clock=clock))
    logger = logging.getLogger(f"newsgraph.test-logs.{id(out)}")
    logger.addHandler(handler)
    logger.propagate = False
    return logger, out


def test_identical_lines_are_written_once_a_window_with_the_count_of_the_others():
    clock = Clock()
    log, out = logger_with_repeats(clock)
    for _ in range(1000):
        log.error("socket.accept() out of system resource")
    log.error("something else")
    clock.now = 61
    log.error("socket.accept() out of system resource")
    assert out.getvalue().splitlines() == [
        "ERROR socket.accept() out of system resource",
        "ERROR something else",
        "ERROR socket.accept() out of system resource (and 999 more like it in the 60 s before)",
    ]


def test_a_repeated_masked_error_keeps_its_id_and_shares_the_first_traceback():
    clock = Clock()
    log, out = logger_with_repeats(clock)
    for error_id in ("aaa", "bbb", "ccc"):
        try:
            raise ConnectionError("PostgreSQL is down")
        except ConnectionError as exc:
            log.error("error id %s: %s", error_id, "the store could not be read", exc_info=exc)
    lines = out.getvalue().splitlines()
    assert lines[0] == "ERROR error id aaa: the store could not be read"
    assert lines.count("Traceback (most recent call last):") == 1
    assert lines[-2:] == [
        "ERROR error id bbb: the store could not be read (same failure as error id aaa: traceback there)",
        "ERROR error id ccc: the store could not be read (same failure as error id aaa: traceback there)",
    ]
