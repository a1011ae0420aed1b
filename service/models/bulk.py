import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, new_id

JOB_STATES = ("queued", "running", "succeeded", "failed")


class BulkIdempotencyKey(Base):
    """The answer to a bulk load sent with an Idempotency-Key, so that a retried upload gets
    the same answer instead of being applied twice. The fingerprint (resource, mode, dry run,
    body digest) tells a retry from a different request reusing the key."""

    __tablename__ = "bulk_idempotency_keys"
    __table_args__ = (Index("ix_bulk_idempotency_keys_created_at", "created_at"),)

    # "<client>:<Idempotency-Key>": keys belong to the client (API key) that sent them.
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())


class BulkJob(Base):
    """A bulk load run in the background (`?async=true`): the upload is kept in `bulk_uploads`
    and processed by a `bulk:run` task; progress and the final report are read from here."""

    __tablename__ = "bulk_jobs"
    __table_args__ = (
        CheckConstraint(f"state IN {JOB_STATES}", name="state"),
        Index("ix_bulk_jobs_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    resource: Mapped[str] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(10))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(10), server_default="queued")
    bytes_total: Mapped[int] = mapped_column(BigInteger)
    bytes_read: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_read: Mapped[int] = mapped_column(Integer, server_default="0")
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    problem: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
    finished_at: Mapped[datetime | None]
    # The key that started the job: only it (and admins) may see the job.
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))


class BulkUpload(Base):
    """One piece of an async job's upload, in the database so that a worker on any machine
    can read it; deleted when the job finishes (and purged if a job left some behind)."""

    __tablename__ = "bulk_uploads"

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bulk_jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
