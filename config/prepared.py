"""ORM queries compiled once per shape, with the request's values bound as parameters.

Building and compiling a queryset (filters, joins, ordering, subqueries) costs more Python
than running it when the query is a keyset page of 50 rows: a few milliseconds per request.
Requests of the same *shape* (which filters are given, the ordering, the cursor's direction,
the page size, the user) differ only in their values, so :class:`PreparedQueries` builds the
queryset once per shape with stand-in values, finds where each value went among the
compiled statement's parameters, and from then on binds the request's own values into the
same SQL.

The stand-ins are *sentinels*: values no query could contain by chance. The queryset is built
twice, with two different sets (the second with spaces and LIKE wildcards in its texts), and
the statement is used only if both compile to the same SQL and every parameter is either the
same in both (a constant of the shape, such as the user's id) or a known transformation of one
sentinel in both (the value itself, ``int()`` of it, stripped, or inside a LIKE pattern,
escaped as Django escapes it). Anything else (a database that converts the value to text, a
value that changes the SQL's structure) makes the shape unpreparable, and the caller runs the
ORM as before. What changes the SQL's structure must be in the caller's shape key: whether a
value is given at all, ``None``, booleans, choices that pick another branch.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import QuerySet

#: Kinds of value a slot takes, and their sentinels in rounds 0 and 1 (index ``i``).
INT, DIGITS, TEXT, DATETIME = "int", "digits", "text", "datetime"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def sentinel(kind: str, index: int, round_: int) -> Any:
    number = 30001 + 1000 * round_ + index  # within every integer column's range
    if kind == INT:
        return number
    if kind == DIGITS:
        return str(number)
    if kind == TEXT:
        # Round 1 has what a transformation would change: spaces, LIKE's \, % and _.
        return f"\u2983{number}\u2984" if round_ == 0 else f" \u2983{number}%_\\\u2984 "
    if kind == DATETIME:
        return _EPOCH + dt.timedelta(days=number, microseconds=index + 1)
    raise ValueError(kind)


class Unpreparable(Exception):
    """This shape cannot be prepared: run the ORM."""


@dataclass(frozen=True)
class Statement:
    sql: str
    #: Per parameter: ``(None, constant)`` or ``(slot name, function of the slot's value)``.
    params: tuple[tuple[str | None, Any], ...]
    #: ``(column position, converters, expression)`` of the compiler's converters.
    converters: tuple[tuple[int, tuple, Any], ...]

    def bind(self, values: dict[str, Any]) -> list[Any]:
        return [value if name is None else value(values[name]) for name, value in self.params]


def _identity(value: Any) -> Any:
    return value


def _strip(value: str) -> str:
    return value.strip()


def _like(prefix: str, suffix: str, *, strip: bool, escape: Callable[[str], str]):
    def pattern(value: str) -> str:
        return prefix + escape(value.strip() if strip else value) + suffix

    return pattern


def _transforms(kind: str, sentinel0: Any, param0: Any, escape) -> list[Callable[[Any], Any]]:
    """Functions of a slot's value that could have given ``param0`` from ``sentinel0``."""
    if kind in (INT, DATETIME):
        return [_identity] if type(param0) is type(sentinel0) and param0 == sentinel0 else []
    if kind == DIGITS:
        found = []
        if type(param0) is int and param0 == int(sentinel0):
            found.append(int)
        if param0 == sentinel0:
            found.append(_identity)
        return found
    if not isinstance(param0, str) or sentinel0 not in param0:
        return []
    if param0 == sentinel0:
        return [_identity, _strip]
    start = param0.index(sentinel0)
    prefix, suffix = param0[:start], param0[start + len(sentinel0) :]
    return [
        _like(prefix, suffix, strip=False, escape=escape),
        _like(prefix, suffix, strip=True, escape=escape),
    ]


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def prepare(build: Callable[[dict[str, Any]], QuerySet], kinds: dict[str, str]) -> Statement:
    """The statement of ``build(values)`` for any values of ``kinds`` (slot name → kind)."""
    rounds = []
    for round_ in (0, 1):
        sentinels = {
            name: sentinel(kind, index, round_) for index, (name, kind) in enumerate(kinds.items())
        }
        queryset = build(sentinels)
        query = queryset.query
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        if queryset._fields and names != list(queryset._fields):
            raise Unpreparable("values_list would reorder the columns")
        compiler = query.get_compiler(queryset.db)
        try:
            sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet) as exc:
            raise Unpreparable("no SQL to prepare") from exc
        rounds.append((sentinels, sql, list(params), compiler))
    (s0, sql0, params0, compiler), (s1, sql1, params1, _) = rounds
    if sql0 != sql1 or len(params0) != len(params1):
        raise Unpreparable("the SQL depends on the values")
    escape = connections[compiler.using].ops.prep_for_like_query
    bound: list[tuple[str | None, Any]] = []
    for param0, param1 in zip(params0, params1, strict=True):
        matches = [
            (name, transform)
            for name, kind in kinds.items()
            for transform in _transforms(kind, s0[name], param0, escape)
            if _same(transform(s1[name]), param1)
        ]
        if len(matches) == 1:
            bound.append(matches[0])
        elif not matches and _same(param0, param1):
            bound.append((None, param0))
        else:
            raise Unpreparable(f"cannot tell where the parameter {param0!r} comes from")
    fields = [column[0] for column in compiler.select[: compiler.col_count]]
    converters = tuple(
        (position, tuple(functions), expression)
        for position, (functions, expression) in compiler.get_converters(fields).items()
    )
    return Statement(sql=sql0, params=tuple(bound), converters=converters)


class PreparedQueries:
    """A bounded cache of :class:`Statement` by shape; ``rows`` runs one."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._statements: OrderedDict[Hashable, Statement | None] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._statements.clear()

    def statement(
        self,
        shape: Hashable,
        build: Callable[[dict[str, Any]], QuerySet],
        kinds: dict[str, str],
        *,
        using: str,
    ) -> Statement | None:
        """The shape's statement (prepared on first use), or ``None`` if it has none."""
        key = (using, shape, tuple(kinds.items()))
        with self._lock:
            if key in self._statements:
                self._statements.move_to_end(key)
                return self._statements[key]
        try:
            statement: Statement | None = prepare(build, kinds)
        except Unpreparable:
            statement = None
        with self._lock:
            self._statements[key] = statement
            while len(self._statements) > self.size:
                self._statements.popitem(last=False)
        return statement

    @staticmethod
    def rows(statement: Statement, values: dict[str, Any], *, using: str) -> list[tuple]:
        """The statement's rows for ``values`` (slot name → value), as ``values_list`` gives
        them (the compiler's converters applied)."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.bind(values))
            rows = cursor.fetchall()
        if statement.converters:
            converted = []
            for row in rows:
                row = list(row)
                for position, functions, expression in statement.converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
                converted.append(tuple(row))
            rows = converted
        return rows
