"""The demo dataset: real partnerships, clusters and events from the seed documents.

The data lives in data/*.ndjson, one record per line in the shape the API accepts, and is
loaded through the same services as API requests, so it obeys every rule the API enforces.
"""

import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from importlib.resources import files
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import SYSTEM_WRITE
from service.agreements import service as agreements
from service.agreements.schemas import AgreementCreate
from service.clusters import service as clusters
from service.clusters.schemas import ClusterCreate
from service.missions import service as missions
from service.missions.schemas import MissionCreate, ParticipantIn
from service.models import Cluster, Partnership
from service.opportunities import service as opportunities
from service.opportunities.schemas import OpportunityCreate
from service.partnerships import service as partnerships
from service.partnerships.schemas import PartnershipCreate

# Fields of the data files that document the data rather than feed the API.
PROVENANCE_FIELDS = {"aliases"}


def records(name: str) -> Iterator[dict[str, Any]]:
    text = files("service.demo").joinpath("data", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            yield {k: v for k, v in record.items() if k not in PROVENANCE_FIELDS}


async def is_empty(session: AsyncSession) -> bool:
    clusters_count = await session.scalar(select(func.count()).select_from(Cluster))
    partnerships_count = await session.scalar(select(func.count()).select_from(Partnership))
    return clusters_count == 0 and partnerships_count == 0


async def _mission(session: AsyncSession, record: dict[str, Any], today: date) -> None:
    """A mission and the clusters that took part (a sub-resource in the API)."""
    participants = record.pop("participants", [])
    mission = await missions.create(session, MissionCreate.model_validate(record), today, SYSTEM_WRITE)
    for participant in participants:
        await missions.add_participant(session, str(mission.id), ParticipantIn.model_validate(participant), today, SYSTEM_WRITE)


async def load(session: AsyncSession, today: date) -> dict[str, int]:
    """Create every demo record, in the order references need; the caller commits."""
    steps: list[tuple[str, tuple[str, ...], Callable[[dict[str, Any]], Awaitable[object]]]] = [
        ("clusters", ("clusters.ndjson", "extra_clusters.ndjson"), lambda r: clusters.create(session, ClusterCreate.model_validate(r), SYSTEM_WRITE)),
        ("partnerships", ("partnerships.ndjson",), lambda r: partnerships.create(session, PartnershipCreate.model_validate(r), SYSTEM_WRITE)),
        ("missions", ("missions.ndjson",), lambda r: _mission(session, r, today)),
        ("agreements", ("agreements.ndjson",), lambda r: agreements.create(session, AgreementCreate.model_validate(r), today, SYSTEM_WRITE)),
        ("opportunities", ("opportunities.ndjson",), lambda r: opportunities.create(session, OpportunityCreate.model_validate(r), today, SYSTEM_WRITE)),
    ]
    counts: dict[str, int] = {}
    for name, names, create in steps:
        counts[name] = 0
        for file in names:
            for record in records(file):
                await create(record)
                counts[name] += 1
    return counts
