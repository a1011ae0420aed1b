import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, Timestamped, Versioned, new_id
from service.models.cluster import Cluster

INTEREST_STATUSES = ("pending", "accepted", "declined", "withdrawn")
# The statuses in which an interest still stands: a cluster holds at most one of these per
# opportunity, and may send a new one after a decline or a withdrawal.
STANDING = ("pending", "accepted")


class Interest(Timestamped, Versioned, Base):
    """A cluster's expression of interest in an opportunity, answered by its poster."""

    __tablename__ = "interests"
    __table_args__ = (
        CheckConstraint(f"status IN {INTEREST_STATUSES}", name="status"),
        Index(
            "uq_interests_standing", "opportunity_id", "cluster_id", unique=True,
            postgresql_where=text(f"status IN {STANDING}"),
        ),
        Index("ix_interests_opportunity_id_created_at_id", "opportunity_id", "created_at", "id"),
        Index("ix_interests_cluster_id", "cluster_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Deleting an opportunity takes its interests with it; a cluster that sent one stays
    # until they are resolved by hand (as with its other ties).
    opportunity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"))
    cluster_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"))
    message: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(300))
    poster_contact: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), server_default="pending")

    cluster: Mapped[Cluster] = relationship(lazy="raise")
