"""What one request may spend: a deadline, and how much filter work it may ask for.

The executor sets a request's Budget as it starts; store work that grows with
the data reads it from here (a context variable, so it follows the request into
the tasks and threads it awaits) instead of every store call taking it as an
argument. Work checks ``check()`` as it goes, so a request stops at its
deadline wherever it is (DESIGN "Limits": execution time is bounded), and
prices its filter before evaluating it, so a filter that could not finish in
time is refused before it runs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.config import Limits


class DeadlineExceeded(TimeoutError):
    """The request ran past its execution time limit."""


class FilterTooCostly(Exception):
    """A filter would ask for more work than the filter work limit allows."""

    def __init__(self, work: int, limit: int) -> None:
        super().__init__(
            f"filter work of {work:,} (conditions x articles they may be checked on) is over "
            f"the filter work limit of {limit:,}; use fewer conditions or narrower ones"
        )
        self.work = work
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Budget:
    deadline: float = math.inf  # time.monotonic() past which work stops
    max_filter_work: int | None = None

    def check(self) -> None:
        """Raise DeadlineExceeded once the deadline has passed."""
        if time.monotonic() > self.deadline:
            raise DeadlineExceeded("the execution time limit was reached")

    def price_filter(self, work: int) -> None:
        """Raise FilterTooCostly when ``work`` is over the limit."""
        if self.max_filter_work is not None and work > self.max_filter_work:
            raise FilterTooCostly(work, self.max_filter_work)


def starting_now(limits: Limits) -> Budget:
    """The budget of work that starts now under ``limits`` (a request, or one subscription event)."""
    return Budget(time.monotonic() + limits.timeout_seconds, limits.max_filter_work)


UNBOUNDED = Budget()
_current: ContextVar[Budget] = ContextVar("newsgraph_budget", default=UNBOUNDED)


def current() -> Budget:
    """The budget of the request being served (unbounded outside a request, e.g. in a seed)."""
    return _current.get()


@contextmanager
def spending(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the current one for the code in the block (and what it awaits)."""
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)
