"""Partnerships, keyed by slug, with their members (clusters by slug, and a role).

Membership is a set: stored members that stay keep their row (and joined_at), leavers are
removed, newcomers added, changed roles updated.
"""

from collections.abc import Mapping
from typing import Any

from service.bulk.csvcodec import listing, objects, value
from service.bulk.resources.common import jsonb, record, stored_objects
from service.bulk.spec import Children, Column, Reference, Resource
from service.partnerships.schemas import PartnershipCreate

FIELDS = ("slug", "acronym", "name", "programme", "generation", "strand", "period_start", "period_end",
          "objectives", "activities", "website", "sectors", "language")

# Members as sorted "cluster id:role" texts: equal lists mean an equal membership.
WANTED_MEMBERS = """ARRAY(
    SELECT c.id::text || ':' || u.role
    FROM unnest(s.member_clusters, s.member_roles) AS u(ref, role) JOIN ref_member_clusters c ON c.ref = u.ref
    ORDER BY c.id)"""

CURRENT_MEMBERS = """
    SELECT coalesce(array_agg(m.cluster_id::text || ':' || m.role ORDER BY m.cluster_id), '{}') AS members
    FROM partnership_members m WHERE m.partnership_id = t.id"""

MERGE_MEMBERS = (
    """DELETE FROM partnership_members m USING bulk_merged g
       WHERE m.partnership_id = g.id AND NOT g.created
         AND NOT EXISTS (SELECT 1 FROM unnest(g.members) x WHERE split_part(x, ':', 1)::uuid = m.cluster_id)""",
    """INSERT INTO partnership_members (partnership_id, cluster_id, role)
       SELECT g.id, split_part(x, ':', 1)::uuid, split_part(x, ':', 2) FROM bulk_merged g, unnest(g.members) x
       ON CONFLICT (partnership_id, cluster_id) DO UPDATE SET role = excluded.role
       WHERE partnership_members.role IS DISTINCT FROM excluded.role""",
)


def _export(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **record(row, FIELDS),
        "target_markets": stored_objects(row["target_markets"], "country", "priority"),
        "members": stored_objects(row["members"], "cluster", "role"),
    }


RESOURCE = Resource(
    name="partnerships",
    event="partnership",
    model=PartnershipCreate,
    table="partnerships",
    key="slug",
    columns=(
        *(Column(name) for name in FIELDS),
        Column("target_markets", convert=jsonb),
    ),
    references=(
        Reference("member_clusters", "members", "clusters", "slug", "cluster", "members.{}.cluster", many=True,
                  convert=lambda members: [m.cluster for m in members]),
    ),
    staged=(Column("member_roles", "members", lambda members: [m.role for m in members], "text[]"),),
    children=Children(
        wanted={"members": WANTED_MEMBERS}, types={"members": "text[]"}, current=CURRENT_MEMBERS, merge=MERGE_MEMBERS,
    ),
    sector_fields=("sectors",),
    csv=(
        *(value(name) for name in FIELDS[:9]), listing("activities"), value("website"), listing("sectors"),
        objects("target_markets", "country", "priority"), objects("members", "cluster", "role"), value("language"),
    ),
    export_query="""
        SELECT p.slug, p.acronym, p.name, p.programme, p.generation, p.strand, p.period_start, p.period_end,
               p.objectives, p.activities, p.website, p.sectors, p.language, p.target_markets,
               (SELECT coalesce(jsonb_agg(jsonb_build_object('cluster', c.slug, 'role', m.role) ORDER BY c.slug), '[]')
                FROM partnership_members m JOIN clusters c ON c.id = m.cluster_id
                WHERE m.partnership_id = p.id) AS members
        FROM partnerships p ORDER BY p.slug
    """,
    export_row=_export,
)
