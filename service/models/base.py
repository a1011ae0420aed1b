"""Declarative base shared by every table."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# Deterministic constraint names keep Alembic autogenerate and downgrades exact.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Timestamped:
    # statement_timestamp(), not now(): now() is frozen at the start of the transaction, so
    # two changes within one transaction would carry the same updated_at.
    created_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp(), onupdate=func.statement_timestamp())


class Versioned:
    """A row version that grows with every UPDATE.

    SQLAlchemy adds `WHERE version = <loaded>` to each UPDATE, so a write based on a stale
    read fails instead of silently overwriting; calendars also use it as SEQUENCE.
    """

    version: Mapped[int] = mapped_column(server_default="1", default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # eager_defaults: server-set values (updated_at) come back with RETURNING.
        return {"version_id_col": cls.version, "eager_defaults": True}


def new_id() -> uuid.UUID:
    return uuid.uuid4()
