from datetime import datetime

from sqlalchemy import LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ServiceSecret(Base):
    """A secret the service generated for itself (the cursor signing key when no
    CURSORS__SECRET is set), kept here so that every replica uses the same one."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
