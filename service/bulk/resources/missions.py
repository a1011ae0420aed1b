"""Missions, keyed by external_id, with their organisers (clusters and partnerships by slug).

Organisers are an ordered list (clusters first, then partnerships), replaced whole when it
changes, as the API does.
"""

from collections.abc import Mapping
from typing import Any

from service.bulk.csvcodec import listing, value
from service.bulk.resources.common import record
from service.bulk.spec import Children, Column, Guard, Reference, Resource
from service.missions.schemas import MissionCreate

FIELDS = ("external_id", "title", "kind", "direction", "destination_country", "destination_city", "starts_on",
          "ends_on", "start_time", "end_time", "timezone", "applications_open_on", "application_deadline", "sectors")
AFTER = ("capacity", "cost_reimbursement_percent", "url", "description", "cancelled", "language")
OUTCOMES = ("participating_smes", "bilateral_meetings", "business_contracts", "agreements_signed")

# The outcomes counted once a meeting of the mission {t} is recorded, as the API counts them
# (missions/repository.py, COUNTED_MEETINGS and COUNTED_AGREEMENTS; missions/service.py, DERIVED).
RECORDED = "EXISTS (SELECT FROM meetings m WHERE m.mission_id = {t}.id AND m.status IN ('held', 'no-show'))"
COUNTED = {
    "bilateral_meetings": "(SELECT count(*) FROM meetings m WHERE m.mission_id = {t}.id AND m.status = 'held')",
    "agreements_signed": "(SELECT count(*) FROM agreements a WHERE a.mission_id = {t}.id AND a.status = 'signed')",
}


def _outcome(name: str, t: str) -> str:
    """An outcome as reads show it: counted once meetings are recorded, else as stored."""
    if name not in COUNTED:
        return f"{t}.{name}"
    return f"CASE WHEN {RECORDED.format(t=t)} THEN {COUNTED[name].format(t=t)} ELSE {t}.{name} END AS {name}"


# A row may carry a counted outcome only as counted (an export's figures load back as they are).
GUARDS = tuple(
    Guard(f"outcomes.{name}", f"{RECORDED.format(t='t')} AND s.{name} IS DISTINCT FROM {count.format(t='t')}",
          f"{name} is derived from the mission's meetings and agreements once meetings are recorded; "
          "give the counted figure (as the API and the export show it) or load it unchanged")
    for name, count in COUNTED.items()
)


def _ids(reference: str) -> str:
    return f"""ARRAY(
        SELECT r.id FROM unnest(s.{reference}) WITH ORDINALITY AS u(ref, n) JOIN ref_{reference} r ON r.ref = u.ref
        ORDER BY u.n)"""


CURRENT_ORGANISERS = """
    SELECT coalesce(array_agg(o.cluster_id ORDER BY o.position) FILTER (WHERE o.cluster_id IS NOT NULL), '{}')
               AS organiser_cluster_ids,
           coalesce(array_agg(o.partnership_id ORDER BY o.position) FILTER (WHERE o.partnership_id IS NOT NULL), '{}')
               AS organiser_partnership_ids
    FROM mission_organisers o WHERE o.mission_id = t.id"""

MERGE_ORGANISERS = (
    "DELETE FROM mission_organisers o USING bulk_merged g WHERE o.mission_id = g.id AND NOT g.created",
    """INSERT INTO mission_organisers (mission_id, position, cluster_id)
       SELECT g.id, u.n - 1, u.id FROM bulk_merged g, unnest(g.organiser_cluster_ids) WITH ORDINALITY AS u(id, n)""",
    """INSERT INTO mission_organisers (mission_id, position, partnership_id)
       SELECT g.id, cardinality(g.organiser_cluster_ids) + u.n - 1, u.id
       FROM bulk_merged g, unnest(g.organiser_partnership_ids) WITH ORDINALITY AS u(id, n)""",
)


def _export(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **record(row, FIELDS),
        "organisers": {
            "clusters": row["organiser_clusters"], "partnerships": row["organiser_partnerships"],
            "external": row["external_organiser"],
        },
        **record(row, AFTER),
        "outcomes": record(row, OUTCOMES),
    }


RESOURCE = Resource(
    name="missions",
    event="mission",
    model=MissionCreate,
    table="missions",
    key="external_id",
    key_required=True,
    columns=(
        *(Column(name) for name in FIELDS),
        Column("external_organiser", "organisers.external"),
        *(Column(name) for name in AFTER),
        *(Column(name, f"outcomes.{name}") for name in OUTCOMES),
    ),
    references=(
        Reference("organiser_clusters", "organisers.clusters", "clusters", "slug", "cluster",
                  "organisers.clusters.{}", many=True),
        Reference("organiser_partnerships", "organisers.partnerships", "partnerships", "slug", "partnership",
                  "organisers.partnerships.{}", many=True),
    ),
    children=Children(
        wanted={"organiser_cluster_ids": _ids("organiser_clusters"),
                "organiser_partnership_ids": _ids("organiser_partnerships")},
        types={"organiser_cluster_ids": "uuid[]", "organiser_partnership_ids": "uuid[]"},
        current=CURRENT_ORGANISERS,
        merge=MERGE_ORGANISERS,
    ),
    sector_fields=("sectors",),
    guards=GUARDS,
    csv=(
        *(value(name) for name in FIELDS[:-1]), listing("sectors"),
        listing("organisers.clusters"), listing("organisers.partnerships"), value("organisers.external"),
        *(value(name) for name in AFTER),
        *(value(f"outcomes.{name}") for name in OUTCOMES),
    ),
    # Missions without an external_id (taken from calendar feeds) have no key a load could
    # update them by, so they are not exported.
    export_query=f"""
        SELECT {', '.join(f'mi.{name}' for name in (*FIELDS, *AFTER))}, {', '.join(_outcome(n, 'mi') for n in OUTCOMES)},
               mi.external_organiser,
               ARRAY(SELECT c.slug FROM mission_organisers o JOIN clusters c ON c.id = o.cluster_id
                     WHERE o.mission_id = mi.id ORDER BY o.position) AS organiser_clusters,
               ARRAY(SELECT p.slug FROM mission_organisers o JOIN partnerships p ON p.id = o.partnership_id
                     WHERE o.mission_id = mi.id ORDER BY o.position) AS organiser_partnerships
        FROM missions mi WHERE mi.external_id IS NOT NULL ORDER BY mi.external_id
    """,
    export_row=_export,
)
