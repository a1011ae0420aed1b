import uuid
from datetime import date
from typing import Any

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, Timestamped, Versioned, new_id
from service.models.cluster import Cluster
from service.models.language import language_check, language_column
from service.models.mission import Mission
from service.models.partnership import Partnership

AGREEMENT_KINDS = (
    "mou", "cooperation-agreement", "letter-of-intent", "business-contract", "collaboration-project",
    "administrative-arrangement",
)

AGREEMENT_SEARCH = (
    "search_vector(language, title, 'A') || search_vector(language, description, 'C') || search_language(language)"
)


class Agreement(Timestamped, Versioned, Base):
    """A cooperation agreement (MoU, letter of intent, contract...) between EU clusters and
    organisations abroad. The stored status never says `expired`: that is derived from
    valid_until when read."""

    __tablename__ = "agreements"
    __table_args__ = (
        language_check(),
        CheckConstraint(f"kind IN {AGREEMENT_KINDS}", name="kind"),
        CheckConstraint("status IN ('draft', 'negotiating', 'signed', 'terminated')", name="status"),
        CheckConstraint("valid_until IS NULL OR signed_on IS NULL OR valid_until >= signed_on", name="validity"),
        Index("ix_agreements_signed_on_id", "signed_on", "id"),
        Index("ix_agreements_sectors", "sectors", postgresql_using="gin"),
        Index(
            "ix_agreements_counterparts", "counterparts",
            postgresql_using="gin", postgresql_ops={"counterparts": "jsonb_path_ops"},
        ),
        Index("ix_agreements_search", "search", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    signed_on: Mapped[date | None]
    valid_until: Mapped[date | None]
    partnership_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="RESTRICT"), index=True
    )
    # [{"name": ..., "country": "US", "kind": "cluster"}]
    counterparts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    sectors: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    description: Mapped[str | None] = mapped_column(Text)
    document_url: Mapped[str | None] = mapped_column(String(2000))
    mission_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("missions.id", ondelete="RESTRICT"), index=True)
    language: Mapped[str | None] = language_column()
    search: Mapped[Any] = mapped_column(TSVECTOR, Computed(AGREEMENT_SEARCH, persisted=True), deferred=True)

    partnership: Mapped[Partnership | None] = relationship(lazy="raise")
    mission: Mapped[Mission | None] = relationship(lazy="raise")
    parties: Mapped[list["AgreementParty"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise", order_by="AgreementParty.position",
    )


class AgreementParty(Base):
    """An EU cluster party to an agreement."""

    __tablename__ = "agreement_parties"
    __table_args__ = (Index("ix_agreement_parties_cluster_id", "cluster_id"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"), primary_key=True)
    position: Mapped[int]

    cluster: Mapped[Cluster] = relationship(lazy="raise")
