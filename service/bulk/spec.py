"""What the bulk machinery needs to know about one resource.

A resource module (see `resources/`) declares: the create schema rows are validated with,
the table and natural key they are merged on, how a validated row fills the table's columns,
which other resources it refers to by natural key, its child rows, its CSV columns and its
export query. Loading, staging, merging and exporting are generic over this.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import Any

from asyncpg import Connection
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql

from service.bulk.csvcodec import CsvColumn
from service.bulk.schemas import RowError
from service.models import Base

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves dialect constructors unannotated


@dataclass(frozen=True)
class Column:
    """A column of the resource's table, filled from the validated row.

    `path` is an attribute path on the row (`region.code`); `convert` turns that value into
    what the column stores (e.g. a list of objects into jsonb text).
    """

    name: str
    path: str | None = None
    convert: Callable[[Any], Any] | None = None
    sql_type: str | None = None  # only for staging-only columns (Resource.staged)

    @property
    def source(self) -> str:
        return self.path or self.name


@dataclass(frozen=True)
class Reference:
    """Natural keys of another resource that a row names, resolved to ids in SQL.

    The keys are staged as given (text, or text[] when `many`) in the staging column `name`.
    `field` locates an unknown one in the report (`{}` is the index in the list). A scalar
    reference may `sets` a column of the table to the id it resolves to.
    """

    name: str
    path: str
    target: str  # table referred to
    key: str  # its natural key column
    what: str  # what it is, for messages: "cluster"
    field: str
    many: bool = False
    sets: str | None = None
    convert: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Guard:
    """A rule about a change to a stored record that the row alone cannot show: `breaks` is
    an SQL condition over the staged row `s` and the stored one `t` (same key) that rejects
    the row, with `message` at `field`."""

    field: str
    breaks: str
    message: str


@dataclass(frozen=True)
class Children:
    """Child rows (members, organisers, parties) merged after their parents.

    `wanted` are SQL expressions over the staged row `s` (and the reference maps
    `ref_<name>`) giving the child rows a row asks for, in a comparable form; `current` is a
    LATERAL subquery over the stored parent `t` giving the same columns for what is stored.
    A parent whose children differ is updated (version and updated_at move), and `merge`
    statements then apply the change, reading `bulk_merged (id, created, <wanted columns>)`.
    """

    wanted: Mapping[str, str]
    types: Mapping[str, str]
    current: str
    merge: tuple[str, ...]


Counts = tuple[int, int, int]  # created, updated, unchanged


@dataclass(frozen=True)
class Rules:
    """A resource whose rows need more of the database than references to be judged, and
    which merges them itself (meeting data: keys of several columns, rules across rows).

    `check(conn, cap)` runs after the references are resolved: it rejects rows (marking
    them in `bulk_rejected`) and returns (how many, the first `cap` errors). `classify` and
    `merge` then stand for the generic ones, over the rows still accepted.
    """

    check: Callable[[Connection, int], Awaitable[tuple[int, list[RowError]]]]
    classify: Callable[[Connection], Awaitable[Counts]]
    merge: Callable[[Connection], Awaitable[Counts]]


@dataclass(frozen=True)
class Resource:
    name: str  # as in URLs: clusters, target-markets
    model: type[BaseModel]
    table: str
    key: str  # natural key column, also a field of the model
    columns: tuple[Column, ...]  # every column a row sets, the key included
    csv: tuple[CsvColumn, ...]
    export_query: str  # every record, ordered by key, with the columns export_row reads
    export_row: Callable[[Mapping[str, Any]], dict[str, Any]]
    references: tuple[Reference, ...] = ()
    staged: tuple[Column, ...] = ()  # staging-only values the children need (member roles)
    children: Children | None = None
    has_id: bool = True  # whether the table has a uuid `id` (market profiles are keyed by country)
    key_required: bool = False  # the key is optional in the create schema but bulk needs it
    normalise_key: Callable[[str], str] | None = None  # for the key of a row that failed validation
    sector_fields: tuple[str, ...] = ()  # fields holding sector codes, checked against the vocabulary
    guards: tuple[Guard, ...] = ()  # rules a row changing a stored record must keep
    event: str | None = None  # the change feed's name for a record (`cluster`: cluster.created...); none: no events
    rules: Rules | None = None  # its own checks and merge; the key is then a staged-only column
    private: bool = False  # read by keys bound to a cluster only in part in the API: exported to unbound keys only

    @cached_property
    def sql_types(self) -> dict[str, str]:
        table = Base.metadata.tables[self.table]
        return {c.name: table.c[c.name].type.compile(dialect=_DIALECT) for c in self.columns}

    @cached_property
    def stored_columns(self) -> list[str]:
        """The table's columns but those PostgreSQL computes (search vectors)."""
        return [c.name for c in Base.metadata.tables[self.table].columns if c.computed is None]

    @cached_property
    def staging_columns(self) -> list[tuple[str, str]]:
        """(name, SQL type) of the staging table after `line` and `ok`."""
        refs = [(r.name, "text[]" if r.many else "text") for r in self.references]
        staged = [(c.name, _staged_type(c)) for c in self.staged]
        # The key is text: a row that failed validation is staged with its key as written
        # (to find duplicates), which may be longer than the column allows.
        columns = [(c.name, "text" if c.name == self.key else self.sql_types[c.name]) for c in self.columns]
        return columns + refs + staged

    @cached_property
    def key_index(self) -> int:
        """Where the key is among the staging columns (a table column, or a staged one)."""
        return [name for name, _ in self.staging_columns].index(self.key)

    @cached_property
    def written_columns(self) -> list[str]:
        """The table's columns a merge writes: staged ones and resolved references."""
        return [c.name for c in self.columns] + [r.sets for r in self.references if r.sets]

    @cached_property
    def staged_values(self) -> Callable[[BaseModel], list[Any]]:
        """A function from a validated row to its staging values (after line and ok)."""
        every: tuple[Column | Reference, ...] = (*self.columns, *self.references, *self.staged)
        sources = [c.path if isinstance(c, Reference) else c.source for c in every]
        converters = [(i, c.convert) for i, c in enumerate(every) if c.convert]
        getter = attrgetter(*sources)

        def values(row: BaseModel) -> list[Any]:
            out = list(getter(row))
            for i, convert in converters:
                out[i] = convert(out[i])
            return out

        return values

    @cached_property
    def csv_by_name(self) -> dict[str, CsvColumn]:
        return {column.name: column for column in self.csv}


def _staged_type(column: Column) -> str:
    if column.sql_type is None:
        raise TypeError(f"the staging-only column {column.name} needs its sql_type")
    return column.sql_type
