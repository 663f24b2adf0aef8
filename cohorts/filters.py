"""The cohort filter language: a small parsed grammar compiled to parameterised SQL.

A filter typed into the app's Cohort page, ``recommender cohort query COHORT "FILTER"`` or
``cohort export --where`` is never handed to the database as SQL. It is tokenised and parsed
(recursive descent) into a tree whose column names are checked against the table's columns and
whose literals become ``?`` parameters; only the SQL this module writes reaches DuckDB. So a filter
cannot call a table function (``read_csv('/etc/passwd')``), name another table, or break out of the
condition, whatever it contains.

Grammar (keywords are case-insensitive)::

    filter     := [WHERE] or_expr | (empty: every row)
    or_expr    := and_expr (OR and_expr)*
    and_expr   := not_expr (AND not_expr)*
    not_expr   := NOT not_expr | predicate
    predicate  := '(' or_expr ')'
                | operand [cmp operand
                          | [NOT] IN '(' literal (',' literal)* ')'
                          | [NOT] BETWEEN operand AND operand
                          | [NOT] (LIKE | ILIKE) string
                          | IS [NOT] (NULL | TRUE | FALSE)]
    operand    := column | literal | function '(' operand (',' operand)* ')'
    cmp        := = | == | != | <> | < | <= | > | >=
    literal    := number | -number | 'string' ('' escapes a quote) | TRUE | FALSE | NULL
    column     := name ([A-Za-z_][A-Za-z0-9_]*) or "quoted name", one of the table's columns
    function   := lower | upper | length | abs | list_contains

Examples
--------
>>> compile_filter("ecog <= 1 and cancer_type = 'COAD'", ["ecog", "cancer_type"])
('("ecog" <= ?) AND ("cancer_type" = ?)', [1, 'COAD'])
>>> compile_filter("", ["ecog"])
('TRUE', [])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cohorts.errors import CohortQueryError

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_FILTER_CHARS", "compile_columns", "compile_filter", "quote_identifier"]

#: Longest filter accepted (characters).
MAX_FILTER_CHARS = 4000
#: Deepest nesting of parentheses / NOT accepted.
MAX_DEPTH = 40
#: Functions a filter may call: name -> (SQL name, number of arguments).
FUNCTIONS: dict[str, tuple[str, int]] = {
    "lower": ("lower", 1), "upper": ("upper", 1), "length": ("length", 1), "abs": ("abs", 1),
    "list_contains": ("list_contains", 2),
}
_KEYWORDS = {"and", "or", "not", "in", "between", "is", "null", "true", "false", "like", "ilike", "where"}
_CMP = {"=": "=", "==": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
      | (?P<string>'(?:[^']|'')*')
      | (?P<qname>"(?:[^"]|"")+")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|<>|!=|==|[=<>(),\-])
    )""",
    re.VERBOSE,
)
_FIX = ("write a condition on the table's columns, e.g. \"ecog <= 1 and cancer_type IN ('COAD', 'READ')\" "
        "(comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL; functions: " + ", ".join(FUNCTIONS) + ")")


@dataclass(frozen=True)
class _Tok:
    kind: str  # number | string | name | qname | op | end
    text: str
    pos: int


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _error(message: str, pos: int | None = None) -> CohortQueryError:
    where = "" if pos is None else f" (at character {pos + 1})"
    return CohortQueryError(f"filter: {message}{where}", field="where", fix=_FIX)


def _tokenise(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    n = len(text)
    while pos < n:
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            start = pos + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise _error(f"unexpected character {text[start]!r}", start)
        kind = m.lastgroup or "op"
        tokens.append(_Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    tokens.append(_Tok("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str, columns: Iterable[str]) -> None:
        self.toks = _tokenise(text)
        self.i = 0
        self.columns = {c.lower(): c for c in columns}
        self.params: list[Any] = []
        self.depth = 0

    # -- token helpers ---------------------------------------------------------------------------
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def _is_kw(self, *words: str) -> bool:
        return self.tok.kind == "name" and self.tok.text.lower() in words

    def _is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def _take(self) -> _Tok:
        tok = self.tok
        self.i += 1
        return tok

    def _expect_kw(self, word: str) -> None:
        if not self._is_kw(word):
            raise _error(f"expected {word.upper()}, found {self._describe()}", self.tok.pos)
        self.i += 1

    def _expect_op(self, op: str) -> None:
        if not self._is_op(op):
            raise _error(f"expected {op!r}, found {self._describe()}", self.tok.pos)
        self.i += 1

    def _describe(self) -> str:
        t = self.tok
        return "the end of the filter" if t.kind == "end" else repr(t.text[:40])

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(f"nested more than {MAX_DEPTH} levels deep", self.tok.pos)

    def _param(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    # -- grammar ---------------------------------------------------------------------------------
    def parse(self) -> str:
        if self._is_kw("where"):
            self.i += 1
        if self.tok.kind == "end":
            return "TRUE"
        sql = self.or_expr()
        if self.tok.kind != "end":
            raise _error(f"unexpected {self._describe()}", self.tok.pos)
        return sql

    def or_expr(self) -> str:
        parts = [self.and_expr()]
        while self._is_kw("or"):
            self.i += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else " OR ".join(f"({p})" for p in parts)

    def and_expr(self) -> str:
        parts = [self.not_expr()]
        while self._is_kw("and"):
            self.i += 1
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else " AND ".join(f"({p})" for p in parts)

    def not_expr(self) -> str:
        if self._is_kw("not"):
            self.i += 1
            self._deeper()
            inner = self.not_expr()
            self.depth -= 1
            return f"NOT ({inner})"
        return self.predicate()

    def predicate(self) -> str:
        if self._is_op("("):
            self.i += 1
            self._deeper()
            inner = self.or_expr()
            self.depth -= 1
            self._expect_op(")")
            return f"({inner})"
        left = self.operand()
        if self.tok.kind == "op" and self.tok.text in _CMP:
            op = _CMP[self._take().text]
            return f"{left} {op} {self.operand()}"
        negate = ""
        if self._is_kw("not"):
            self.i += 1
            negate = "NOT "
            if not self._is_kw("in", "between", "like", "ilike"):
                raise _error(f"expected IN, BETWEEN or LIKE after NOT, found {self._describe()}", self.tok.pos)
        if self._is_kw("in"):
            self.i += 1
            self._expect_op("(")
            items = [self.literal()]
            while self._is_op(","):
                self.i += 1
                items.append(self.literal())
            self._expect_op(")")
            return f"{left} {negate}IN ({', '.join(items)})"
        if self._is_kw("between"):
            self.i += 1
            low = self.operand()
            self._expect_kw("and")
            high = self.operand()
            return f"{left} {negate}BETWEEN {low} AND {high}"
        if self._is_kw("like", "ilike"):
            word = self._take().text.upper()
            if self.tok.kind != "string":
                raise _error(f"{word} needs a quoted pattern, found {self._describe()}", self.tok.pos)
            return f"{left} {negate}{word} {self._param(_unquote(self._take().text))}"
        if self._is_kw("is"):
            self.i += 1
            neg = "NOT " if self._is_kw("not") else ""
            if neg:
                self.i += 1
            if not self._is_kw("null", "true", "false"):
                raise _error(f"expected NULL, TRUE or FALSE after IS, found {self._describe()}", self.tok.pos)
            return f"{left} IS {neg}{self._take().text.upper()}"
        return left  # a boolean column, function or literal on its own

    def operand(self) -> str:
        tok = self.tok
        if tok.kind == "name" and tok.text.lower() in FUNCTIONS and self.toks[self.i + 1].text == "(":
            sql_name, arity = FUNCTIONS[tok.text.lower()]
            self.i += 2
            self._deeper()
            args = [self.operand()]
            while self._is_op(","):
                self.i += 1
                args.append(self.operand())
            self.depth -= 1
            self._expect_op(")")
            if len(args) != arity:
                raise _error(f"{tok.text}() takes {arity} argument(s), got {len(args)}", tok.pos)
            return f"{sql_name}({', '.join(args)})"
        if tok.kind == "qname" or (tok.kind == "name" and tok.text.lower() not in _KEYWORDS):
            if tok.kind == "name" and self.toks[self.i + 1].text == "(":
                raise _error(f"function {tok.text!r} is not allowed", tok.pos)
            self.i += 1
            name = tok.text[1:-1].replace('""', '"') if tok.kind == "qname" else tok.text
            real = self.columns.get(name.lower())
            if real is None:
                known = ", ".join(sorted(self.columns.values())[:30])
                raise CohortQueryError(f"filter: no column {name[:60]!r} in this table", field="where",
                                       fix=f"use one of: {known}")
            return quote_identifier(real)
        return self.literal()

    def literal(self) -> str:
        tok = self.tok
        if tok.kind == "number":
            self.i += 1
            return self._param(_number(tok.text))
        if self._is_op("-") and self.toks[self.i + 1].kind == "number":
            self.i += 1
            return self._param(-_number(self._take().text))
        if tok.kind == "string":
            self.i += 1
            return self._param(_unquote(tok.text))
        if self._is_kw("true", "false", "null"):
            self.i += 1
            return tok.text.upper()
        raise _error(f"expected a column or a value, found {self._describe()}", tok.pos)


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


def compile_filter(text: str | None, columns: Sequence[str]) -> tuple[str, list[Any]]:
    """Parse a filter and return ``(sql_condition, parameters)`` for ``WHERE``.

    Parameters
    ----------
    text
        The filter (see the module docstring); empty or ``None`` matches every row.
    columns
        The table's column names: a filter may name only these.

    Raises
    ------
    CohortQueryError
        The filter is not in the grammar, names an unknown column or function, or is too long/deep.
    """
    text = "" if text is None else str(text)
    if len(text) > MAX_FILTER_CHARS:
        raise _error(f"longer than {MAX_FILTER_CHARS} characters")
    parser = _Parser(text, columns)
    sql = parser.parse()
    return sql, parser.params


def compile_columns(text: str | None, columns: Sequence[str]) -> str:
    """A ``SELECT`` list from ``"*"`` or comma-separated column names of the table (checked)."""
    text = (text or "*").strip()
    if text == "*":
        return "*"
    known = {c.lower(): c for c in columns}
    out = []
    for raw in text.split(","):
        name = raw.strip()
        if len(name) > 1 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('""', '"')
        real = known.get(name.lower())
        if real is None:
            raise CohortQueryError(f"no column {name[:60]!r} in this table", field="--columns",
                                   fix=f"use '*' or some of: {', '.join(sorted(known.values())[:30])}")
        out.append(quote_identifier(real))
    return ", ".join(out)
