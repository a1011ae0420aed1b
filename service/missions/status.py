"""A mission's status, derived from its dates and the cancelled flag on a given day.

Computed in SQL, so lists can filter and search can select by it; today is a bound
parameter from the request's clock, so tests can move time.
"""

from datetime import date

from sqlalchemy import ColumnElement, and_, case, literal, not_, or_

from service.models import Mission


def applications_open(today: date | ColumnElement[date]) -> ColumnElement[bool]:
    """Taking applications today: not cancelled, not started, a window is known and today is in it."""
    return and_(
        not_(Mission.cancelled),
        Mission.starts_on > today,
        or_(Mission.applications_open_on.isnot(None), Mission.application_deadline.isnot(None)),
        or_(Mission.applications_open_on.is_(None), Mission.applications_open_on <= today),
        or_(Mission.application_deadline.is_(None), Mission.application_deadline >= today),
    )


def status(today: date) -> ColumnElement[str]:
    today_ = literal(today)
    return case(
        (Mission.cancelled, "cancelled"),
        (Mission.ends_on < today_, "completed"),
        (Mission.starts_on <= today_, "ongoing"),
        (applications_open(today), "applications-open"),
        (Mission.application_deadline < today_, "applications-closed"),
        else_="planned",
    )
