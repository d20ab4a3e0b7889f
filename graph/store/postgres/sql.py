"""Filters, search, orderings and keyset bounds compiled to parameterized SQL.

The input is the same data the TinyDB store evaluates (graph.filters' AST,
graph.search terms, OrderKey tuples, decoded cursors); the output is SQL text
with named placeholders and a dict of values. No value is ever formatted into
the SQL text. Every predicate is two-valued (never NULL), so NOT and the
document-store null rules compose exactly as in graph.filters.compare:

- ``eq/in/gt/...`` hold only for a present value (``(x = v) IS TRUE``);
- ``ne/notIn`` hold for a missing value too (``(x = v) IS NOT TRUE``);
- contains/startsWith/endsWith read the casefolded copies that pg_rows stores.

Tables are aliased ``a`` (ng_articles), ``p`` (ng_providers) and ``pn`` (the
provider of an article, joined for PROVIDER_NAME ordering).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from graph import filters
from graph.filters import ENTITIES, And, Compare, Each, Filter, FilterError, Not, Or, ProviderIs
from graph.search import B, K1, Match, SearchQuery, Term, phrase_pattern
from graph.paging import OrderKey
from graph.stories import STORY_FIELD

CASTS = {"str": "text", "int": "numeric", "bool": "boolean", "datetime": "timestamptz"}
NUL = "\x00"

# Article fields: the SQL of the value filters see (the served value, typed).
# An article's story (graph.stories.in_story): a value for any operator, and eq by the index of members.
STORY_VALUE = "(SELECT sa.story_id FROM ng_story_articles sa WHERE sa.article_id = a.id)"
IN_STORY = "{row} IN (SELECT sa.article_id FROM ng_story_articles sa WHERE sa.story_id = {story})"
ARTICLE_VALUES = {
    "id": "a.id",
    "title": "a.title",
    "excerpt": "(a.doc->>'excerpt')",
    "body": "coalesce(a.doc->>'body', '')",
    "category": "a.category",
    "type": "a.type",
    "quality": "a.quality",
    "heat": "a.heat",
    "published": "a.published",
    "publishedDateTime": "a.published_at",
    "originalUrl": "(a.doc->>'originalUrl')",
    "webUrl": "(a.doc->>'webUrl')",
    "topics": "a.topics",
    "story": STORY_VALUE,
}
# Article URL fields: `eq`/`in` first narrow by ng_article_urls (url -> ids, indexed), which
# holds every URL field of every article.
URL_FIELDS = frozenset({"originalUrl", "webUrl"})
PROVIDER_VALUES = {"name": "p.name", "domain": "p.domain", "articleCount": "p.article_count"}
PROVIDER_FOLDED = {"name": "p.name_cf", "domain": "p.domain_cf"}


class Params:
    """Collects values and hands out named placeholders (with a cast, so types never depend on guessing)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._aliases = 0

    def __call__(self, value: Any, cast: str) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = list(value) if isinstance(value, tuple) else value
        return f"%({name})s::{cast}"

    def alias(self) -> str:
        self._aliases += 1
        return f"e{self._aliases}"


@dataclass(frozen=True)
class Scope:
    """Where a filter is evaluated: which entity, and the SQL of each field there."""

    entity: str
    value: Callable[[str, str], str]
    folded: Callable[[str], str]
    items: Callable[[str], str] = lambda name: "'[]'::jsonb"
    domain: str = "NULL"
    row_id: str | None = None  # the article id, for lookups in ng_article_urls (articles only)


def _article_value(name: str, kind: str) -> str:
    return ARTICLE_VALUES[name]


def _article_folded(name: str) -> str:
    if name == "title":
        return "a.title_key"
    if name == "body":
        return "a.body_cf"
    return f"(a.fdoc->'cf'->>'{name}')"


ARTICLE_SCOPE = Scope(
    entity="article",
    value=_article_value,
    folded=_article_folded,
    items=lambda name: f"(a.fdoc->'{name}')",
    domain="a.provider_domain",
    row_id="a.id",
)
PROVIDER_SCOPE = Scope(
    entity="provider",
    value=lambda name, kind: PROVIDER_VALUES[name],
    folded=lambda name: PROVIDER_FOLDED[name],
)


def _element_scope(entity: str, alias: str) -> Scope:
    """A related item or an image, as one element of a jsonb array (pg_rows' filter view)."""

    def value(name: str, kind: str) -> str:
        text = f"({alias}.v->>'{name}')"
        return text if kind == "str" else f"({text}::{CASTS[kind]})"

    return Scope(
        entity=entity,
        value=value,
        folded=lambda name: f"({alias}.v->'cf'->>'{name}')",
        items=lambda name: f"({alias}.v->'{name}')",
        domain=f"({alias}.v->>'domain')",
    )


def compile_filter(f: Filter, scope: Scope, params: Params, positive: bool = False) -> str:
    """An SQL condition equivalent to graph.filters.matches(f, ...) in this scope.

    ``positive`` says the condition is used where NULL acts as false (a WHERE
    clause, under AND/OR but no NOT): there ``x = v`` may stay plain, which lets
    the planner use an index, instead of the two-valued ``(x = v) IS TRUE``
    that a NOT needs.
    """
    if isinstance(f, And):
        if not f.parts:
            return "TRUE"
        return "(" + " AND ".join(compile_filter(part, scope, params, positive) for part in f.parts) + ")"
    if isinstance(f, Or):
        if not f.parts:
            return "FALSE"
        return "(" + " OR ".join(compile_filter(part, scope, params, positive) for part in f.parts) + ")"
    if isinstance(f, Not):
        return f"(NOT {compile_filter(f.part, scope, params, not positive)})"
    if isinstance(f, ProviderIs):
        return _provider_is(f.filter, scope, params, positive)
    if isinstance(f, Each):
        return _each(f, scope, params)
    if isinstance(f, Compare):
        return _compare(f, scope, params, positive)
    raise FilterError(f"unknown filter node {f!r}")


def _provider_is(inner: Filter, scope: Scope, params: Params, positive: bool) -> str:
    """The provider as the catalog knows it; an entity without a provider is matched against {}."""
    if inner == filters.TRUE:
        return "TRUE"
    if (
        isinstance(inner, Compare)
        and inner.field == "domain"
        and inner.op in ("eq", "in")
        and not holds_nul(inner.value)
    ):
        # The catalog holds every domain an article or related item names, so "its provider's
        # domain is v" is "its domain is v": a plain comparison the provider_domain index serves.
        return _compare(inner, replace(PROVIDER_SCOPE, value=lambda name, kind: scope.domain), params, positive)
    condition = compile_filter(inner, PROVIDER_SCOPE, params, positive=True)
    # What the filter says of "no provider" (every field null) is a constant: work it out here.
    without = filters.matches(inner, {}, "provider", lambda _domain: None)
    domain = scope.domain
    matching = f"{domain} IN (SELECT p.domain FROM ng_providers p WHERE {condition})"
    if without:
        return f"({domain} IS NULL OR {matching})"
    return f"({domain} IS NOT NULL AND {matching})"


def _each(f: Each, scope: Scope, params: Params) -> str:
    alias = params.alias()
    sub = filters.SUB_ENTITY[f.field]
    # "every" tests NOT inner, so inner must be two-valued there; the others test it in a WHERE.
    inner = compile_filter(f.filter, _element_scope(sub, alias), params, positive=f.quantifier != "every")
    source = f"jsonb_array_elements({scope.items(f.field)}) AS {alias}(v)"
    if f.quantifier == "some":
        return f"EXISTS (SELECT 1 FROM {source} WHERE {inner})"
    if f.quantifier == "every":
        return f"(NOT EXISTS (SELECT 1 FROM {source} WHERE NOT {inner}))"
    return f"(NOT EXISTS (SELECT 1 FROM {source} WHERE {inner}))"


def holds_nul(value: Any) -> bool:
    """Whether a text (or a list of texts) holds U+0000, which PostgreSQL text cannot carry."""
    if isinstance(value, str):
        return NUL in value
    return isinstance(value, (list, tuple)) and any(isinstance(v, str) and NUL in v for v in value)


# Casefolded columns with a trigram index (where pg_trgm is available), which `contains` reads by LIKE.
LIKE_INDEXED = frozenset({"a.title_key"})


def like_escape(text: str) -> str:
    """text as a LIKE pattern matching exactly it (LIKE's default escape character is the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _compare(f: Compare, scope: Scope, params: Params, positive: bool = False) -> str:
    kind = ENTITIES[scope.entity].get(f.field)
    if kind is None:
        raise FilterError(f"unknown filter field {f.field!r}")
    op, value = f.op, f.value
    if holds_nul(value):
        # No stored text holds U+0000 (pg_rows refuses such documents), so a text with it equals,
        # contains and starts nothing; in a list it stands for nothing. PostgreSQL cannot take it.
        if not isinstance(value, (list, tuple)):
            return "TRUE" if op == "ne" else "FALSE"
        if op == "hasEvery":
            return "FALSE"
        value = [v for v in value if NUL not in v]
    if kind in ("images", "related"):
        if op != "isEmpty":
            raise FilterError(f"unknown operator {op!r} for {f.field}")
        return f"(jsonb_array_length({scope.items(f.field)}) {'=' if value else '<>'} 0)"
    x = scope.value(f.field, kind)
    if kind == "strlist":
        if op == "has":
            # && with one element is @> with it, and GIN answers && without rechecking rows.
            return f"({x} && ARRAY[{params(value, 'text')}])"
        if op == "hasSome":
            return f"({x} && {params(value, 'text[]')})"
        if op == "hasEvery":
            return f"({x} @> {params(value, 'text[]')})"
        if op == "isEmpty":
            return f"(cardinality({x}) {'=' if value else '<>'} 0)"
        raise FilterError(f"unknown operator {op!r} for {f.field}")
    cast = CASTS[kind]

    def holds(test: str) -> str:  # true, never NULL (plain where NULL counts as false anyway)
        return f"({test})" if positive else f"(({test}) IS TRUE)"

    if op == "isNull":
        return f"({x} IS {'' if value else 'NOT '}NULL)"
    if op in ("eq", "in") and scope.row_id is not None and f.field in URL_FIELDS:
        operand = params(value, "text") if op == "eq" else params(value, "text[]")
        test = f"{x} = {operand}" if op == "eq" else f"{x} = ANY({operand})"
        known = f"u.url = {operand}" if op == "eq" else f"u.url = ANY({operand})"
        return f"({scope.row_id} IN (SELECT u.id FROM ng_article_urls u WHERE {known}) AND {holds(test)})"
    if op == "eq" and scope.row_id is not None and f.field == STORY_FIELD:
        return f"({IN_STORY.format(row=scope.row_id, story=params(value, 'text'))})"
    if op == "eq":
        return holds(f"{x} = {params(value, cast)}")
    if op == "ne":
        return f"(({x} = {params(value, cast)}) IS NOT TRUE)"
    if op == "in":
        return holds(f"{x} = ANY({params(value, cast + '[]')})")
    if op == "notIn":
        return f"(({x} = ANY({params(value, cast + '[]')})) IS NOT TRUE)"
    comparison = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}.get(op)
    if comparison is not None:
        return holds(f"{x} {comparison} {params(value, cast)}")
    folded = scope.folded(f.field)
    if op == "contains" and folded in LIKE_INDEXED:
        # The same test as strpos, as a LIKE pattern: a trigram index (migration 7) can narrow it.
        return holds(f"{folded} LIKE {params('%' + like_escape(value) + '%', 'text')}")
    if op == "contains":
        return holds(f"strpos({folded}, {params(value, 'text')}) > 0")
    if op == "startsWith":
        return holds(f"starts_with({folded}, {params(value, 'text')})")
    if op == "endsWith":
        operand = params(value, "text")
        return holds(f"right({folded}, char_length({operand})) = {operand}")
    raise FilterError(f"unknown operator {op!r}")


# ---- search ---------------------------------------------------------------------


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string above every string starting with prefix, in code point order (None: no bound)."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000  # surrogates are not text; skip over them
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


def _expansion(term: Term, params: Params) -> str:
    """The vocabulary words a prefix term stands for, as a text[] (a range scan of ng_search_words)."""
    upper = prefix_upper_bound(term.text)
    bound = f" AND w.word < {params(upper, 'text')}" if upper is not None else ""
    return (
        "(SELECT coalesce(array_agg(w.word), '{}'::text[]) FROM ng_search_words w "
        f"WHERE w.word >= {params(term.text, 'text')}{bound})"
    )


def _word_condition(term: Term, params: Params) -> str:
    if term.prefix:
        return f"(a.words && {_expansion(term, params)})"
    # && with one element: exact from the GIN index alone (@> makes it recheck every row).
    return f"(a.words && ARRAY[{params(term.text, 'text')}])"


def _match_condition(match: Match, params: Params) -> str:
    """Every term of the match is a word of the article; a phrase's also stand consecutively in one field
    (graph.search.phrase_pattern on the article's phrase_lines or its provider's canonical name)."""
    parts = [_word_condition(term, params) for term in match.terms]
    if match.phrase:
        pattern = params(phrase_pattern(match.terms), "text")
        parts.append(
            f"(a.phrase_lines ~ {pattern} OR EXISTS (SELECT 1 FROM ng_providers p "
            f"WHERE p.domain = a.provider_domain AND p.name_words ~ {pattern}))"
        )
    return "(" + " AND ".join(parts) + ")"


def search_condition(query: SearchQuery | None, params: Params) -> str:
    """Every clause holds (one of its literals: a match, or NOT a match); no clauses: everything."""
    if not query:
        return "TRUE"
    clauses = []
    for clause in query.clauses:
        literals = [
            f"NOT {_match_condition(literal.match, params)}" if literal.negated else _match_condition(literal.match, params)
            for literal in clause
        ]
        clauses.append("(" + " OR ".join(literals) + ")")
    return "(" + " AND ".join(clauses) + ")"


@dataclass
class Relevance:
    """SQL for BM25F scores: a one-row CTE of corpus statistics (``r``), per-row joins that
    look up term frequencies once, and the score expression."""

    cte: str
    joins: str
    score: str


# The row's words and running frequencies read once: every use of a.words or a.tf_cum in an
# expression reads (de-TOASTs) the value again, and a score uses them several times a term.
# (array || empty array returns the array read into memory.)
ARRAYS_ONCE = (
    "CROSS JOIN LATERAL (SELECT a.words || '{}'::text[] AS words, a.tf_cum || '{}'::float8[] AS tf_cum "
    "OFFSET 0) AS d"
)


def _frequency_join(number: int, term: Term, params: Params) -> str:
    """A LATERAL join giving ``t{number}.tf``, the term's weighted frequency in the row (after ARRAYS_ONCE).

    tf_cum holds running sums over the sorted words, so the frequency of a word,
    or of the run of words sharing a prefix, is tf_cum[end] - tf_cum[start],
    both found by binary search (width_bucket). Reading (decompressing) the
    arrays is the cost per matched row, so the expression is the plainest that
    does it; OFFSET 0 keeps the planner from inlining it into the score twice.
    """
    low = params(term.text, "text")

    def below(bound: str) -> str:  # how many of the row's words are < bound
        at = f"width_bucket({bound} COLLATE \"C\", d.words)"
        return f"({at} - coalesce((d.words[{at}] = {bound})::integer, 0))"

    if not term.prefix:
        # The row has the word, as words[i]: its frequency is tf_cum[i] - tf_cum[i - 1].
        # A row without it (the other side of an OR) has 0.
        at = f"width_bucket({low} COLLATE \"C\", d.words)"
        tf = f"CASE WHEN d.words[{at}] = {low} THEN d.tf_cum[{at}] - coalesce(d.tf_cum[{at} - 1], 0) ELSE 0::float8 END"
    else:
        upper = prefix_upper_bound(term.text)
        end = below(params(upper, "text")) if upper is not None else "cardinality(d.words)"
        tf = f"coalesce(d.tf_cum[{end}], 0) - coalesce(d.tf_cum[{below(low)}], 0)"
    return f"CROSS JOIN LATERAL (SELECT {tf} AS tf OFFSET 0) AS t{number}"


def _idf(n: str, df: str) -> str:
    return f"ln(1.0::float8 + (({n} - {df})::float8 + 0.5::float8) / ({df}::float8 + 0.5::float8))"


def term_score(idf: str, tf: str, length: str, average: str) -> str:
    """One term's BM25F score, as graph.search.Ranking computes it, operation for operation."""
    norm = f"({K1!r}::float8 * ((1.0::float8 - {B!r}::float8) + ({B!r}::float8 * {length}) / {average}))"
    return f"((({idf}) * {tf}) * ({K1!r}::float8 + 1.0::float8)) / ({tf} + {norm})"


def rounded(score: str) -> str:
    """A float8 score rounded to 6 decimals as Python rounds it.

    ``float8::text`` is the shortest exact form, so rounding it as numeric
    rounds the same value Python rounds.
    """
    return f"round(({score})::text::numeric, 6)"


def _statistics(terms: Sequence[Term], params: Params) -> str:
    """The one-row CTE ``r``: article count n, average length avg, and df{i} per term."""
    stats = [
        "s.n",
        "(CASE WHEN s.n > 0 THEN s.total / s.n::float8 ELSE 1.0::float8 END) AS avg",
    ]
    for number, term in enumerate(terms):
        if term.prefix:
            df = f"(SELECT count(*) FROM ng_articles x WHERE x.words && {_expansion(term, params)})"
        else:
            df = f"coalesce((SELECT w.df FROM ng_search_words w WHERE w.word = {params(term.text, 'text')}), 0)"
        stats.append(f"{df} AS df{number}")
    return (
        "r AS MATERIALIZED (SELECT " + ", ".join(stats) + " FROM (SELECT article_count AS n, total_length AS total "
        "FROM ng_state) AS s)"
    )


def relevance(terms: Sequence[Term], params: Params) -> Relevance:
    """graph.search.SearchIndex.search's arithmetic, operation for operation, in float8.

    Python adds the terms' scores in order of ascending document frequency (ties
    in query order) and rounds to 6 decimals; float addition is not associative,
    so the SQL adds in the same order (an ordered sum for three terms or more).
    """
    cte = _statistics(terms, params)
    frequencies: list[str] = []
    scores: list[str] = []
    for number, term in enumerate(terms):
        frequencies.append(_frequency_join(number, term, params))
        scores.append(term_score(_idf("r.n", f"r.df{number}"), f"t{number}.tf", "a.search_length", "r.avg"))
    if len(scores) <= 2:
        total = " + ".join(f"({s})" for s in scores)  # a + b == b + a exactly: order matters from 3 terms
    else:
        values = ", ".join(f"(({s}), r.df{n}, {n})" for n, s in enumerate(scores))
        total = f"(SELECT sum(v.v ORDER BY v.df, v.i) FROM (VALUES {values}) AS v(v, df, i))"
    return Relevance(cte, " ".join([ARRAYS_ONCE, *frequencies]), rounded(total))


@dataclass
class GroupRanking:
    """A one-word search ranked by search groups: CTEs ending in ``c(id, score)``, every article
    that can be among the first ``wanted`` after the cursor, with its exact score; and the SQL of
    "some match is not after the cursor" (None without a cursor)."""

    cte: str
    not_after: str | None


def group_ranking(term: Term, params: Params, wanted: int, after: tuple[Any, Any] | None) -> GroupRanking:
    """The candidates of the first ``wanted`` matches of one (non-prefix) word by relevance DESC, id ASC.

    A one-word score depends only on the article's frequency of the word (tf)
    and its length, and falls as the length grows (every float operation of
    term_score is monotonic, and so is rounding). ng_search_groups counts the
    articles per (word, tf, length bucket), so each group's scores lie between
    the score at its shortest and at its longest length (ub, lb), and the
    counts alone give a score ``l`` that at least ``wanted`` matches reach: the
    greatest lb whose group, with the groups of higher lb, holds ``wanted``
    articles. A group whose ub is below ``l`` holds none of the first
    ``wanted``; the others (a few dozen articles, for a word in most of them)
    are read through the GIN index of word_groups and scored exactly.

    With a cursor (score s, id) only groups whose ub is below s count towards
    ``l`` (all their articles come after it), groups whose lb is above s are
    wholly before it, and the ones between are read and compared exactly.
    """
    word = params(term.text, "text")

    def score(tf: str, length: str) -> str:
        return rounded(term_score(_idf("r.n", "r.df0"), tf, length, "r.avg"))

    groups = (
        f"g AS MATERIALIZED (SELECT s.key, s.tf, s.n, {score('s.tf', 's.length_low')} AS ub, "
        f"{score('s.tf', 's.length_high')} AS lb "
        f"FROM ng_search_groups s CROSS JOIN r WHERE s.word = {word} AND s.n > 0)"
    )
    beyond = ""
    within = ""
    not_after = None
    if after is not None:
        cursor_score, cursor_id = params(after[0], "numeric"), params(after[1], "text")
        beyond = f"WHERE g.ub < {cursor_score}"
        within = f" AND g.lb <= {cursor_score}"
        not_after = (
            f"(EXISTS (SELECT 1 FROM g WHERE g.lb > {cursor_score}) OR EXISTS (SELECT 1 FROM c WHERE "
            f"c.score > {cursor_score} OR (c.score = {cursor_score} AND c.id <= {cursor_id})))"
        )
    bound = (
        "bound AS (SELECT coalesce(max(x.lb), -1::numeric) AS l FROM (SELECT g.lb, sum(g.n) OVER (ORDER BY g.lb DESC) "
        f"AS c FROM g {beyond}) AS x WHERE x.c >= {params(wanted, 'bigint')})"
    )
    candidates = (
        f"c AS (SELECT a.id, {score('g.tf', 'a.search_length')} AS score "
        "FROM g CROSS JOIN bound CROSS JOIN r CROSS JOIN LATERAL (SELECT a.id, a.search_length FROM ng_articles a "
        f"WHERE a.word_groups && ARRAY[g.key]) AS a WHERE g.ub >= bound.l{within})"
    )
    return GroupRanking(", ".join([_statistics([term], params), groups, bound, candidates]), not_after)


# ---- ordering and keyset bounds ---------------------------------------------------


@dataclass(frozen=True)
class SortColumn:
    """One column of the ORDER BY: its SQL, direction, and the cast of cursor values compared to it."""

    sql: str
    descending: bool
    cast: str


@dataclass
class Ordering:
    """The ORDER BY columns of an order, and which column holds each key's served value."""

    columns: list[SortColumn] = field(default_factory=list)
    value_columns: list[int] = field(default_factory=list)  # per order key: index into columns
    folds: list[bool] = field(default_factory=list)  # per order key: a (casefold, value) pair

    def clause(self, reverse: bool = False, alias: str | None = None) -> str:
        parts = []
        for n, column in enumerate(self.columns):
            sql = f"{alias}.k{n}" if alias else column.sql
            descending = column.descending != reverse
            # Nulls last in both directions of the real order; a reversed read puts them first.
            parts.append(f"{sql} {'DESC' if descending else 'ASC'} NULLS {'FIRST' if reverse else 'LAST'}")
        return ", ".join(parts)

    def cursor_values(self, cursor: Sequence[Any]) -> list[Any]:
        """A decoded cursor (one value per order key) as one value per column."""
        values: list[Any] = []
        for fold, value in zip(self.folds, cursor):
            if fold:
                values.append(None if value is None else str(value).casefold())
            values.append(value)
        return values


ARTICLE_SORT = {
    "publishedDateTime": ("a.published_text", "text"),
    "quality": ("a.quality", "numeric"),
    "heat": ("a.heat", "numeric"),
    "id": ("a.id", "text"),
}
TEXT_SORT = {"title": ("a.title_key", "a.title"), "providerName": ("pn.name_cf", "pn.name")}
PROVIDER_SORT = {"articleCount": ("p.article_count", "numeric")}
PROVIDER_TEXT_SORT = {"name": ("p.name_cf", "p.name"), "domain": ("p.domain_cf", "p.domain")}


def article_ordering(order: Sequence[OrderKey], score: str | None) -> Ordering:
    plain = {**ARTICLE_SORT, "relevance": (score or "NULL::numeric", "numeric")}
    return _ordering(order, TEXT_SORT, plain, "article")


def provider_ordering(order: Sequence[OrderKey]) -> Ordering:
    return _ordering(order, PROVIDER_TEXT_SORT, PROVIDER_SORT, "provider")


def _ordering(
    order: Sequence[OrderKey], text: dict[str, tuple[str, str]], plain: dict[str, tuple[str, str]], entity: str
) -> Ordering:
    """Sort columns: a text key sorts by its casefolded copy, then by the raw text (code point order)."""
    ordering = Ordering()
    for key in order:
        if key.field in text:
            folded, raw = text[key.field]
            ordering.columns.append(SortColumn(folded, key.descending, "text"))
            ordering.columns.append(SortColumn(raw, key.descending, "text"))
            ordering.folds.append(True)
        elif key.field in plain:
            sql, cast = plain[key.field]
            ordering.columns.append(SortColumn(sql, key.descending, cast))
            ordering.folds.append(False)
        else:
            raise FilterError(f"unknown {entity} order field {key.field!r}")
        ordering.value_columns.append(len(ordering.columns) - 1)
    return ordering


def _beyond(column: SortColumn, placeholder: str | None, later: bool, above_prefix: bool = False) -> str:
    """Rows strictly after (later=True) or before a cursor value in this column's direction, nulls last.

    ``above_prefix``: the cursor value is the placeholder's text followed by U+0000 and more, which no
    stored text holds; against those it sorts just above the placeholder (see keyset).
    """
    if placeholder is None:
        # Null is the last value: nothing is after it; every non-null value is before it.
        return "FALSE" if later else f"({column.sql} IS NOT NULL)"
    # After in an ascending column, or before in a descending one, means a greater value.
    operator = "<" if column.descending == later else ">"
    if above_prefix and operator == "<":
        operator = "<="
    test = f"(({column.sql} {operator} {placeholder}) IS TRUE)"
    return f"({test} OR {column.sql} IS NULL)" if later else test


def keyset(ordering: Ordering, cursor: Sequence[Any], params: Params, later: bool) -> str:
    """Rows strictly after (later=True) or strictly before the cursor in the ordering's total order."""
    values = ordering.cursor_values(cursor)
    # A (forged) text with U+0000 cannot reach PostgreSQL. Stored texts never hold it, so against
    # them "P\x00…" compares as the text P plus a hair: nothing equals it, s > it iff s > P.
    cut = [isinstance(v, str) and NUL in v for v in values]
    values = [v.split(NUL, 1)[0] if nul else v for v, nul in zip(values, cut)]
    placeholders = [None if v is None else params(v, c.cast) for c, v in zip(ordering.columns, values)]
    alternatives = []
    for n, column in enumerate(ordering.columns):
        if any(cut[:n]):
            break  # every later alternative needs a column equal to a text with U+0000: none is
        equal = [
            f"({c.sql} IS NULL)" if p is None else f"({c.sql} = {p})"
            for c, p in zip(ordering.columns[:n], placeholders[:n])
        ]
        step = _beyond(column, placeholders[n], later, cut[n])
        if step == "FALSE":
            continue
        alternatives.append("(" + " AND ".join([*equal, step]) + ")")
    if not alternatives:
        return "FALSE"
    return "(" + " OR ".join(alternatives) + ")"
