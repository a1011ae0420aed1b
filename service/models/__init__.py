"""Every table, imported here so that Alembic and the tests see the whole schema."""

from service.models.access import ApiKey, IdempotencyRecord
from service.models.agreement import Agreement, AgreementParty
from service.models.base import Base
from service.models.bulk import BulkIdempotencyKey, BulkJob
from service.models.calendar_source import CalendarSource
from service.models.cluster import Cluster
from service.models.event import Event, EventConsumer
from service.models.interest import Interest
from service.models.mission import Mission, MissionOrganiser, MissionParticipant
from service.models.opportunity import Opportunity
from service.models.partnership import Partnership, PartnershipMember
from service.models.secret import ServiceSecret
from service.models.sector import Sector
from service.models.target_market import MarketProfile

__all__ = [
    "Agreement", "AgreementParty", "ApiKey", "Base", "BulkIdempotencyKey", "BulkJob", "CalendarSource", "Cluster", "Event", "EventConsumer",
    "IdempotencyRecord", "Interest", "MarketProfile", "Mission", "MissionOrganiser", "MissionParticipant", "Opportunity", "Partnership",
    "PartnershipMember", "Sector", "ServiceSecret",
]
