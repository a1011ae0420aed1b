"""Cooperation agreements, keyed by external_id, with their cluster parties (by slug), the
partnership (by slug) and the mission (by external_id) they belong to."""

from collections.abc import Mapping
from typing import Any

from service.agreements.schemas import AgreementCreate
from service.bulk.csvcodec import listing, objects, value
from service.bulk.resources.common import jsonb, record, stored_objects
from service.bulk.spec import Children, Column, Reference, Resource

FIELDS = ("external_id", "title", "kind", "status", "signed_on", "valid_until")
AFTER = ("sectors", "description", "document_url", "language")

WANTED_PARTIES = """ARRAY(
    SELECT r.id FROM unnest(s.party_clusters) WITH ORDINALITY AS u(ref, n) JOIN ref_party_clusters r ON r.ref = u.ref
    ORDER BY u.n)"""

CURRENT_PARTIES = """
    SELECT coalesce(array_agg(p.cluster_id ORDER BY p.position), '{}') AS party_ids
    FROM agreement_parties p WHERE p.agreement_id = t.id"""

MERGE_PARTIES = (
    "DELETE FROM agreement_parties p USING bulk_merged g WHERE p.agreement_id = g.id AND NOT g.created",
    """INSERT INTO agreement_parties (agreement_id, cluster_id, position)
       SELECT g.id, u.id, u.n - 1 FROM bulk_merged g, unnest(g.party_ids) WITH ORDINALITY AS u(id, n)""",
)


def _export(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **record(row, FIELDS),
        "clusters": row["clusters"],
        "partnership": row["partnership"],
        "counterparts": stored_objects(row["counterparts"], "name", "country", "kind"),
        **record(row, AFTER),
        "mission": row["mission"],
    }


RESOURCE = Resource(
    name="agreements",
    event="agreement",
    model=AgreementCreate,
    table="agreements",
    key="external_id",
    key_required=True,
    columns=(
        *(Column(name) for name in FIELDS),
        Column("counterparts", convert=jsonb),
        *(Column(name) for name in AFTER),
    ),
    references=(
        Reference("party_clusters", "clusters", "clusters", "slug", "cluster", "clusters.{}", many=True),
        Reference("partnership", "partnership", "partnerships", "slug", "partnership", "partnership",
                  sets="partnership_id"),
        Reference("mission", "mission", "missions", "external_id", "mission", "mission", sets="mission_id"),
    ),
    children=Children(
        wanted={"party_ids": WANTED_PARTIES}, types={"party_ids": "uuid[]"}, current=CURRENT_PARTIES,
        merge=MERGE_PARTIES,
    ),
    sector_fields=("sectors",),
    csv=(
        *(value(name) for name in FIELDS), listing("clusters"), value("partnership"),
        objects("counterparts", "name", "country", "kind"), listing("sectors"), value("description"),
        value("document_url"), value("language"), value("mission"),
    ),
    # Agreements without an external_id have no key a load could update them by: not exported.
    export_query="""
        SELECT a.external_id, a.title, a.kind, a.status, a.signed_on, a.valid_until,
               ARRAY(SELECT c.slug FROM agreement_parties ap JOIN clusters c ON c.id = ap.cluster_id
                     WHERE ap.agreement_id = a.id ORDER BY ap.position) AS clusters,
               p.slug AS partnership, a.counterparts, a.sectors, a.description, a.document_url, a.language,
               coalesce(m.external_id, m.id::text) AS mission
        FROM agreements a
        LEFT JOIN partnerships p ON p.id = a.partnership_id
        LEFT JOIN missions m ON m.id = a.mission_id
        WHERE a.external_id IS NOT NULL ORDER BY a.external_id
    """,
    export_row=_export,
)
