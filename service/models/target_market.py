from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, Timestamped, Versioned


class MarketProfile(Timestamped, Versioned, Base):
    """The market study of one third country (Smart Guide, Action 10).

    A target market exists as soon as something targets its country; this row only holds
    what someone wrote about it.
    """

    __tablename__ = "market_profiles"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    customer_segments: Mapped[str | None] = mapped_column(Text)
    market_size: Mapped[str | None] = mapped_column(Text)
    growth: Mapped[str | None] = mapped_column(Text)
    profitability: Mapped[str | None] = mapped_column(Text)
    trends: Mapped[str | None] = mapped_column(Text)
    key_success_factors: Mapped[str | None] = mapped_column(Text)
    # [{"name": ..., "kind": ..., "url": ...}]
    support_organisations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
