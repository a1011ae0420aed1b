"""Opportunities, keyed by external_id, posted by a cluster or a partnership (by slug) or by
an organisation outside the platform (its name and url)."""

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from service.bulk.csvcodec import listing, value
from service.bulk.resources.common import record
from service.bulk.spec import Column, Reference, Resource
from service.opportunities.schemas import OpportunityCreate

FIELDS = ("external_id", "kind", "title", "summary", "description", "countries", "sectors")
AFTER = ("deadline", "url", "contact", "withdrawn", "language")


def _organisation(part: str) -> Callable[[BaseModel | None], Any]:
    return lambda organisation: getattr(organisation, part) if organisation else None


def _export(row: Mapping[str, Any]) -> dict[str, Any]:
    poster: dict[str, Any]
    if row["poster_cluster"]:
        poster = {"cluster": row["poster_cluster"]}
    elif row["poster_partnership"]:
        poster = {"partnership": row["poster_partnership"]}
    else:
        poster = {"organisation": {"name": row["poster_name"], "url": row["poster_url"]}}
    return {**record(row, FIELDS), "posted_by": poster, **record(row, AFTER)}


RESOURCE = Resource(
    name="opportunities",
    event="opportunity",
    model=OpportunityCreate,
    table="opportunities",
    key="external_id",
    key_required=True,
    columns=(
        *(Column(name) for name in FIELDS),
        Column("poster_name", "posted_by.organisation", convert=_organisation("name")),
        Column("poster_url", "posted_by.organisation", convert=_organisation("url")),
        *(Column(name) for name in AFTER),
    ),
    references=(
        Reference("poster_cluster", "posted_by.cluster", "clusters", "slug", "cluster", "posted_by.cluster",
                  sets="posted_by_cluster_id"),
        Reference("poster_partnership", "posted_by.partnership", "partnerships", "slug", "partnership",
                  "posted_by.partnership", sets="posted_by_partnership_id"),
    ),
    sector_fields=("sectors",),
    csv=(
        *(value(name) for name in FIELDS[:5]), listing("countries"), listing("sectors"),
        value("posted_by.cluster"), value("posted_by.partnership"), value("posted_by.organisation.name"),
        value("posted_by.organisation.url"), *(value(name) for name in AFTER),
    ),
    # Opportunities without an external_id have no key a load could update them by: not exported.
    export_query=f"""
        SELECT {', '.join(f'o.{name}' for name in (*FIELDS, *AFTER))}, o.poster_name, o.poster_url,
               c.slug AS poster_cluster, p.slug AS poster_partnership
        FROM opportunities o
        LEFT JOIN clusters c ON c.id = o.posted_by_cluster_id
        LEFT JOIN partnerships p ON p.id = o.posted_by_partnership_id
        WHERE o.external_id IS NOT NULL ORDER BY o.external_id
    """,
    export_row=_export,
)
