from sqlalchemy import CheckConstraint, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, Timestamped

SECTOR_KINDS = ("sector", "emerging-industry")


class Sector(Timestamped, Base):
    """An entry of the controlled sector vocabulary (seeded by a migration)."""

    __tablename__ = "sectors"
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (CheckConstraint("kind IN ('sector', 'emerging-industry')", name="kind"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    nace_codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)), server_default="{}")
