"""The demo dataset: real partnerships, clusters and events from the seed documents.

The data lives in data/*.ndjson, one record per line in the shape the API accepts, and is
loaded through the same services as API requests, so it obeys every rule the API enforces.
"""

import json
from collections.abc import Iterator
from importlib.resources import files

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.clusters import service as clusters
from service.clusters.schemas import ClusterCreate
from service.models import Cluster, Partnership
from service.partnerships import service as partnerships
from service.partnerships.schemas import PartnershipCreate

# Fields of the data files that document the data rather than feed the API.
PROVENANCE_FIELDS = {"aliases"}


def records(name: str) -> Iterator[dict]:
    text = files("service.demo").joinpath("data", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            yield {k: v for k, v in record.items() if k not in PROVENANCE_FIELDS}


async def is_empty(session: AsyncSession) -> bool:
    clusters_count = await session.scalar(select(func.count()).select_from(Cluster))
    partnerships_count = await session.scalar(select(func.count()).select_from(Partnership))
    return clusters_count == 0 and partnerships_count == 0


async def load(session: AsyncSession) -> dict[str, int]:
    """Create every demo record; the caller commits."""
    counts = {"clusters": 0, "partnerships": 0}
    for record in records("clusters.ndjson"):
        await clusters.create(session, ClusterCreate.model_validate(record))
        counts["clusters"] += 1
    for record in records("partnerships.ndjson"):
        await partnerships.create(session, PartnershipCreate.model_validate(record))
        counts["partnerships"] += 1
    return counts
