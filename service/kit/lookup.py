"""Finding a resource by the reference a client gave: its UUID or its slug."""

import uuid
from collections.abc import Container
from typing import Annotated, Protocol, TypeVar, cast

from fastapi import Path
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from service.errors import Conflict, FieldError

Ref = Annotated[
    str,
    Path(min_length=1, max_length=80, description="The resource's id (UUID) or its slug."),
]


class Referenced(Protocol):
    """A row clients may name by id or by slug (the model declares both as Mapped columns)."""

    id: uuid.UUID
    slug: str


R = TypeVar("R", bound=Referenced)


def ref_clause(model: type[Referenced], ref: str) -> ColumnElement[bool]:
    # A protocol cannot state a mapped column (mypy compares Mapped[X] with the X an instance
    # reads), so it states the rows' values; on the model class each is the column attribute.
    try:
        return cast(InstrumentedAttribute[uuid.UUID], model.id) == uuid.UUID(ref)
    except ValueError:
        return cast(InstrumentedAttribute[str], model.slug) == ref


async def resolve(session: AsyncSession, model: type[R], refs: list[str]) -> dict[str, R]:
    """Rows of model (clusters, partnerships) by the references clients gave, ids or slugs;
    unknown references are absent from the result."""
    if not refs:
        return {}
    rows = list(await session.scalars(select(model).where(or_(*(ref_clause(model, r) for r in set(refs))))))
    found: dict[str, R] = {}
    for row in rows:
        found[row.slug] = row
        found[str(row.id)] = row
    return {ref: found[ref.lower()] for ref in refs if ref.lower() in found}


def unknown_references(refs: list[str], found: Container[str], location: str, what: str) -> list[FieldError]:
    return [
        FieldError(location=f"{location}.{i}", message=f"there is no {what} '{ref}'")
        for i, ref in enumerate(refs) if ref not in found
    ]


async def flush(session: AsyncSession, *, duplicate: str | None = None, referenced: str | None = None) -> None:
    """Flush pending changes, turning a unique violation (duplicate) or a foreign-key
    violation (referenced) into a 409 that says what to do about it."""
    try:
        await session.flush()
    except IntegrityError as exc:
        code = getattr(exc.orig, "sqlstate", None)
        if code == "23505" and duplicate:
            raise Conflict(duplicate) from None
        if code == "23503" and referenced:
            raise Conflict(referenced) from None
        raise


def like_pattern(text: str) -> str:
    """A LIKE pattern matching text anywhere, with the wildcards in text taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
