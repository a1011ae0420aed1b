"""The bound parameters of every search statement and, per table, the conditions a search
puts on its rows. Shared by the page and the facet counts, so both filter alike.

Per table there are two sets: filters (text, open, deadline range, poster), which every
count obeys, and facet conditions (kind, country, sector, language), one per facet, which
the counts of that facet ignore.
"""

from typing import Any

from sqlalchemy import ColumnElement, Date, String, Text, Uuid, bindparam, false, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from service.kit.filters import text_query
from service.missions import status as mission_status
from service.models import Cluster, Mission, MissionOrganiser, Opportunity, Partnership
from service.models.opportunity import deadline_key
from service.opportunities.repository import is_open
from service.opportunities.search_plan import Shape

# The parameters of every statement.
TODAY = bindparam("today", type_=Date)
LANGUAGES = bindparam("languages", type_=ARRAY(Text))  # the languages q is stemmed in
QUERY = text_query(bindparam("q", type_=String), LANGUAGES)
KINDS = bindparam("kinds", type_=ARRAY(String))
COUNTRIES = bindparam("countries", type_=ARRAY(String))
SECTORS = bindparam("sectors", type_=ARRAY(String))
LANGUAGE_FILTER = bindparam("language_filter", type_=ARRAY(String))
CLUSTERS = bindparam("clusters", type_=ARRAY(String))
PARTNERSHIPS = bindparam("partnerships", type_=ARRAY(String))
DEADLINE_AFTER = bindparam("deadline_after", type_=Date)
DEADLINE_BEFORE = bindparam("deadline_before", type_=Date)
AFTER_ID = bindparam("after_id", type_=Uuid)


def _ids_of(model: Any, slugs: Any) -> Any:
    return select(model.id).where(model.slug == func.any(slugs)).scalar_subquery()


def opportunity_filters(s: Shape, o: Any = Opportunity) -> list[ColumnElement[bool]]:
    """Conditions that are not facets: text, open, deadline range, poster. o is the table,
    or a sample of it (facets of broad searches)."""
    conditions = []
    if s.text:
        conditions.append(o.search.op("@@")(QUERY))
    if s.open:
        # Implied by is_open, but stated on the indexed sort key so that a walk in deadline
        # order starts at today instead of stepping over every past deadline.
        conditions += [is_open(TODAY, o), deadline_key(o.deadline) >= TODAY]
    if s.deadline_after:
        conditions.append(o.deadline >= DEADLINE_AFTER)
    if s.deadline_before:
        conditions.append(o.deadline <= DEADLINE_BEFORE)
    if s.cluster:
        conditions.append(o.posted_by_cluster_id.in_(_ids_of(Cluster, CLUSTERS)))
    if s.partnership:
        conditions.append(o.posted_by_partnership_id.in_(_ids_of(Partnership, PARTNERSHIPS)))
    return conditions


def opportunity_facets(s: Shape, o: Any = Opportunity) -> dict[str, Any]:
    """Per facet, the condition its filter puts on opportunities (true when not filtered)."""
    return {
        "kind": o.kind == func.any(KINDS) if s.kinds else true(),
        "country": o.countries.overlap(COUNTRIES) if s.country else true(),
        "sector": o.sectors.overlap(SECTORS) if s.sector else true(),
        "language": o.language == func.any(LANGUAGE_FILTER) if s.language else true(),
    }


def _organised_by(column: Any, model: Any, slugs: Any) -> Any:
    return Mission.id.in_(select(MissionOrganiser.mission_id).where(column.in_(_ids_of(model, slugs))))


def mission_filters(s: Shape) -> list[ColumnElement[bool]]:
    """Conditions on missions that are not facets; without `open`, any mission that has an
    application window at all."""
    m = Mission
    has_window = or_(m.applications_open_on.isnot(None), m.application_deadline.isnot(None))
    conditions = [mission_status.applications_open(TODAY), deadline_key(m.application_deadline) >= TODAY] if s.open else [has_window]
    if s.text:
        conditions.append(m.search.op("@@")(QUERY))
    if s.deadline_after:
        conditions.append(m.application_deadline >= DEADLINE_AFTER)
    if s.deadline_before:
        conditions.append(m.application_deadline <= DEADLINE_BEFORE)
    if s.cluster:
        conditions.append(_organised_by(MissionOrganiser.cluster_id, Cluster, CLUSTERS))
    if s.partnership:
        conditions.append(_organised_by(MissionOrganiser.partnership_id, Partnership, PARTNERSHIPS))
    return conditions


def mission_facets(s: Shape) -> dict[str, Any]:
    """Per facet, the condition its filter puts on missions (true when not filtered)."""
    m = Mission
    return {
        "kind": true() if s.wants_missions else false(),
        "country": m.destination_country == func.any(COUNTRIES) if s.country else true(),
        "sector": m.sectors.overlap(SECTORS) if s.sector else true(),
        "language": m.language == func.any(LANGUAGE_FILTER) if s.language else true(),
    }
