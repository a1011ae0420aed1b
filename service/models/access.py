import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, LargeBinary, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, new_id

SCOPES = ("read", "write", "bulk", "admin")


class ApiKey(Base):
    """An API key. Only a hash of its secret is stored; the key itself is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("scope IN ('read', 'write', 'bulk', 'admin')", name="scope"),
        # An admin key acts for everyone: a binding would only suggest a limit it does not have.
        CheckConstraint("scope <> 'admin' OR cluster_id IS NULL", name="admin_unbound"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The public part of the key (pop_<prefix>_<secret>), to find the row to compare with.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(10))
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
    revoked_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The first answer to a POST sent with an Idempotency-Key, replayed to retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (Index("ix_idempotency_records_created_at", "created_at"),)

    # Who sent it (a digest of the credentials) and the key they chose.
    client: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # method, path, query and body
    status: Mapped[int | None] = mapped_column(SmallInteger)
    headers: Mapped[list[Any] | None] = mapped_column(JSONB)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The answer carried a secret (Cache-Control: no-store): only its status and Location
    # were kept, and a retry is told so instead of getting the secret again.
    secret_withheld: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
