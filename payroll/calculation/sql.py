"""Small helpers for the raw SQL of the calculation."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL


def table_name(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def in_list(ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)


def id_in(model, column: str, ids) -> RawSQL:
    """A filter ``column IN (ids)`` with the ids written into the SQL: a
    chunk's hundreds of ids as parameters cost more to prepare than to query."""
    table = table_name(model)
    return RawSQL(
        f"{table}.{connection.ops.quote_name(column)} IN ({in_list(ids) or 'NULL'})",
        [],
        output_field=BooleanField(),
    )


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
