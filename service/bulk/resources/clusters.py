"""Clusters, keyed by slug."""

from collections.abc import Mapping
from typing import Any

from service.bulk.csvcodec import listing, objects, value
from service.bulk.resources.common import jsonb, record, stored_objects
from service.bulk.spec import Column, Resource
from service.clusters.schemas import ClusterCreate

FIELDS = ("slug", "name", "acronym", "country", "city", "website", "email", "description", "sectors",
          "member_count", "sme_count", "label", "founded_year", "language")


def _export(row: Mapping[str, Any]) -> dict[str, Any]:
    out = record(row, FIELDS)
    region = {"code": row["region_code"], "name": row["region_name"], "nuts_version": row["nuts_version"]}
    out = {**{k: out[k] for k in ("slug", "name", "acronym", "country")},
           "region": region if row["region_code"] else None,
           **{k: out[k] for k in FIELDS[4:]},
           "target_markets": stored_objects(row["target_markets"], "country", "priority")}
    return out


RESOURCE = Resource(
    name="clusters",
    event="cluster",
    model=ClusterCreate,
    table="clusters",
    key="slug",
    columns=(
        Column("slug"), Column("name"), Column("acronym"), Column("country"),
        Column("region_code", "region", lambda r: r.code if r else None),
        Column("region_name", "region", lambda r: r.name if r else None),
        Column("nuts_version", "region", lambda r: r.nuts_version if r else None),
        Column("city"), Column("website"), Column("email"), Column("description"), Column("sectors"),
        Column("member_count"), Column("sme_count"), Column("label"), Column("founded_year"), Column("language"),
        Column("target_markets", convert=jsonb),
    ),
    sector_fields=("sectors",),
    csv=(
        value("slug"), value("name"), value("acronym"), value("country"),
        value("region.code"), value("region.name"), value("region.nuts_version"),
        value("city"), value("website"), value("email"), value("description"), listing("sectors"),
        value("member_count"), value("sme_count"), value("label"), value("founded_year"), value("language"),
        objects("target_markets", "country", "priority"),
    ),
    export_query="""
        SELECT slug, name, acronym, country, region_code, region_name, nuts_version, city, website, email,
               description, sectors, member_count, sme_count, label, founded_year, language, target_markets
        FROM clusters ORDER BY slug
    """,
    export_row=_export,
)
