"""Every table, imported here so that Alembic and the tests see the whole schema."""

from service.models.base import Base
from service.models.cluster import Cluster
from service.models.partnership import Partnership, PartnershipMember
from service.models.sector import Sector
from service.models.target_market import MarketProfile

__all__ = ["Base", "Cluster", "MarketProfile", "Partnership", "PartnershipMember", "Sector"]
