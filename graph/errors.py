"""GraphQL error codes (extensions.code) and the errors resolvers raise."""

from __future__ import annotations

from graphql import GraphQLError

BAD_USER_INPUT = "BAD_USER_INPUT"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL = "INTERNAL_SERVER_ERROR"
# A read the server cannot answer yet (its search index is still being built): retry later (HTTP 503).
UNAVAILABLE = "SERVICE_UNAVAILABLE"


class UserInputError(GraphQLError):
    """Bad arguments: paging bounds, cursors, date-times, RELEVANCE without search."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": BAD_USER_INPUT})


class TooComplexError(GraphQLError):
    """A request over one of the configured limits; the message names the limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": QUERY_TOO_COMPLEX})
