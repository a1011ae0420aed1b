"""Every table, imported here so that Alembic and the tests see the whole schema."""

from service.models.access import ApiKey, IdempotencyRecord
from service.models.agreement import Agreement, AgreementParty
from service.models.base import Base
from service.models.bulk import BulkIdempotencyKey, BulkJob, BulkUpload
from service.models.calendar_source import CalendarSource
from service.models.cluster import Cluster
from service.models.event import Event, EventConsumer
from service.models.interest import Interest
from service.models.meeting import (
    AgendaToken,
    Meeting,
    MeetingAvailability,
    MeetingRequest,
    MeetingSession,
    MeetingSetup,
)
from service.models.mission import Mission, MissionOrganiser, MissionParticipant
from service.models.opportunity import Opportunity
from service.models.partnership import Partnership, PartnershipMember
from service.models.saved_search import SavedSearch, SavedSearchMatch
from service.models.secret import ServiceSecret
from service.models.sector import Sector
from service.models.target_market import MarketProfile
from service.models.webhook import Webhook, WebhookDelivery

__all__ = [
    "AgendaToken", "Agreement", "AgreementParty", "ApiKey", "Base", "BulkIdempotencyKey", "BulkJob", "BulkUpload",
    "CalendarSource", "Cluster", "Event", "EventConsumer", "IdempotencyRecord", "Interest", "MarketProfile", "Meeting",
    "MeetingAvailability", "MeetingRequest", "MeetingSession", "MeetingSetup", "Mission", "MissionOrganiser",
    "MissionParticipant", "Opportunity", "Partnership", "PartnershipMember", "SavedSearch", "SavedSearchMatch", "Sector",
    "ServiceSecret", "Webhook", "WebhookDelivery",
]
