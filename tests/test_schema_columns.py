"""Every string a request body may carry is bounded by exactly what its column holds.

A bound looser than the column lets PostgreSQL refuse the value (22001): a 422 with no
field location, after the work was done. A tighter one refuses what could be stored. The
test walks the request schemas as clients see them and the SQLAlchemy tables, so a column
or a field changed on one side only fails here.
"""

import pytest
from sqlalchemy import ARRAY, Column, String
from sqlalchemy.dialects.postgresql import JSONB

from service.access.schemas import ApiKeyCreate
from service.agreements.schemas import AgreementCreate
from service.calendar.schemas import CalendarSourceCreate
from service.clusters.schemas import ClusterCreate
from service.markets.schemas import MarketProfileIn
from service.missions.schemas import MissionCreate, ParticipantIn
from service.models import (
    Agreement,
    ApiKey,
    CalendarSource,
    Cluster,
    MarketProfile,
    Mission,
    MissionParticipant,
    Opportunity,
    Partnership,
    PartnershipMember,
    Sector,
)
from service.opportunities.schemas import OpportunityCreate
from service.partnerships.schemas import MemberIn, PartnershipCreate
from service.sectors.schemas import SectorCreate

# Each request body and the table its fields are stored in.
STORED_IN = {
    ClusterCreate: Cluster, PartnershipCreate: Partnership, SectorCreate: Sector, MissionCreate: Mission,
    AgreementCreate: Agreement, OpportunityCreate: Opportunity, CalendarSourceCreate: CalendarSource,
    ApiKeyCreate: ApiKey, MarketProfileIn: MarketProfile, MemberIn: PartnershipMember, ParticipantIn: MissionParticipant,
}

# Fields stored under another column name.
COLUMN_OF = {
    "region.code": "region_code", "region.name": "region_name", "region.nuts_version": "nuts_version",
    "organisers.external": "external_organiser",
    "posted_by.organisation.name": "poster_name", "posted_by.organisation.url": "poster_url",
}

# Fields stored in rows of another table.
ROWS_OF = {"members.role": PartnershipMember.role}

# Fields that name another record (by slug, or external_id; an id is shorter): bounded by the
# column they are looked up in.
REFERENCES = {
    "cluster": Cluster.slug, "clusters": Cluster.slug, "members.cluster": Cluster.slug, "partnership": Partnership.slug,
    "organisers.clusters": Cluster.slug, "organisers.partnerships": Partnership.slug,
    "posted_by.cluster": Cluster.slug, "posted_by.partnership": Partnership.slug,
    "mission": Mission.external_id,
}


def _resolve(schema: dict, defs: dict) -> dict:
    if "$ref" in schema:
        return _resolve(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    variants = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return _resolve(variants[0], defs) if len(variants) == 1 else schema


def string_fields(model) -> dict[str, dict]:
    """Every string (or list of strings) a body may carry, by dotted path, with its schema
    (for a list: its items' schema)."""
    document = model.model_json_schema(ref_template="{model}")
    defs = document.get("$defs", {})
    found = {}

    def walk(schema: dict, path: str) -> None:
        schema = _resolve(schema, defs)
        if schema.get("type") == "array":
            schema = _resolve(schema["items"], defs)
        if schema.get("type") == "object":
            for name, sub in schema.get("properties", {}).items():
                walk(sub, f"{path}.{name}" if path else name)
        elif schema.get("type") == "string":
            found[path] = schema

    walk(document, "")
    return found


def _kind(column: Column):
    return column.type.item_type if isinstance(column.type, ARRAY) else column.type


def _column(table, path: str) -> Column | None:
    if path in REFERENCES or path in ROWS_OF:
        return (REFERENCES | ROWS_OF)[path].property.columns[0]
    columns = table.__table__.c
    if path in COLUMN_OF:
        return columns[COLUMN_OF[path]]
    top = path.split(".")[0]
    return columns.get(top if top in columns and "." in path else path)


@pytest.mark.parametrize("model", list(STORED_IN), ids=lambda m: m.__name__)
def test_every_string_is_bounded_by_its_column(model):
    table = STORED_IN[model]
    for path, schema in string_fields(model).items():
        column = _column(table, path)
        assert column is not None, f"{model.__name__}.{path}: no column of {table.__tablename__}; map it in this test"
        kind = _kind(column)
        if not isinstance(kind, String | JSONB):
            continue  # a date or time written as text
        limit = kind.length if isinstance(kind, String) else None  # None: unbounded text or JSON
        if "enum" in schema:
            assert limit is None or max(map(len, schema["enum"])) <= limit, (model.__name__, path)
            continue
        assert "maxLength" in schema, f"{model.__name__}.{path} is unbounded"
        if limit is not None:
            assert schema["maxLength"] == limit, (
                f"{model.__name__}.{path}: maxLength {schema['maxLength']}, column {column.table.name}.{column.name} {limit}"
            )


def test_a_field_missing_from_its_table_is_noticed():
    # The walk must see nested fields, or a mapping mistake would pass silently.
    paths = string_fields(ClusterCreate)
    assert {"region.code", "target_markets.country", "sectors", "name"} <= set(paths)
