"""Every place newsgraph reaches into graphql-core's internals, and why (graphql-core 3.3).

pyproject.toml pins graphql-core to 3.3.x because of these; a new minor version
means reading each again.
"""

from __future__ import annotations

from graphql.pyutils.suggestion_list import LexicalDistance
from graphql.validation.rules import overlapping_fields_can_be_merged as overlapping_fields


def _size_suggestion_rows_by_the_folded_input() -> None:
    """Make graphql-core's "Did you mean …?" distance safe for names whose lowercase is longer.

    graphql-core 3.3 sizes LexicalDistance's rows by the input's length but fills
    them from its lowercase form, which can be longer ("İ".lower() is two
    characters), so an unknown input field or enum value such as {"İİ": 1} in
    variables raised IndexError: a 500 for a client's typo (found by
    tests/test_api_fuzz.py). Sizing the rows by the lowercase form fixes it.
    """
    original = LexicalDistance.__init__

    def __init__(self: LexicalDistance, input_: str) -> None:
        original(self, input_)
        size = len(self._input_list) + 1
        if len(self._rows[0]) < size:
            self._rows = [[0] * size, [0] * size, [0] * size]

    LexicalDistance.__init__ = __init__  # type: ignore[method-assign]


_size_suggestion_rows_by_the_folded_input()


def set_validation_budget(work: int) -> None:
    """Bound the work of the field-merging check (the validation work limit).

    The budget is a module setting that graphql-core reads as each validation
    starts; it has no per-call parameter.
    """
    overlapping_fields.MAX_COMPLEXITY_BUDGET = work
