"""Missions as an RFC 5545 calendar, built with the icalendar library.

Every VEVENT has a stable UID, a DTSTAMP (the mission's last change, so an unchanged feed
is byte-identical and ETags hold between polls), DTSTART/DTEND (all-day missions as DATE
values with the exclusive DTEND; timed ones with a TZID and its VTIMEZONE), and a SEQUENCE
that grows with each change. X-PARTNERSHIPS-MISSION carries the fields iCalendar has no
property for, so a feed imported elsewhere recreates the same missions.
"""

import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from service.kit.countries import country_name
from service.kit.ical import add_timezones
from service.missions.schemas import Mission

PRODID = "-//Partnership Opportunity API//Missions//EN"
UID_DOMAIN = "missions.partnership-opportunity-api"
DATA_PROPERTY = "X-PARTNERSHIPS-MISSION"
DEADLINE_PROPERTY = "X-PARTNERSHIPS-DEADLINE-OF"

# Mission fields carried in DATA_PROPERTY: what SUMMARY, DTSTART, DTEND, URL and STATUS
# cannot say.
CARRIED_FIELDS = (
    "kind", "direction", "destination_country", "destination_city", "applications_open_on",
    "application_deadline", "sectors", "capacity", "cost_reimbursement_percent", "description", "outcomes",
)
# ...and the organiser outside the platform, under this name (organisers that are clusters or
# partnerships are never carried: a feed cannot make them organisers, see parse._organisers).
EXTERNAL_ORGANISER = "external_organiser"


def uid(mission: Mission) -> str:
    return f"{mission.id}@{UID_DOMAIN}"


def location(mission: Mission) -> str:
    country = country_name(mission.destination_country)
    return f"{mission.destination_city}, {country}" if mission.destination_city else country


def _description(mission: Mission) -> str:
    lines = []
    if mission.application_deadline:
        opening = f"from {mission.applications_open_on.isoformat()} " if mission.applications_open_on else ""
        lines.append(f"Applications {opening}until {mission.application_deadline.isoformat()} (deadline).")
    elif mission.applications_open_on:
        lines.append(f"Applications open from {mission.applications_open_on.isoformat()}.")
    organisers = [c.name for c in mission.organisers.clusters] + [p.acronym for p in mission.organisers.partnerships]
    if mission.organisers.external:
        organisers.append(mission.organisers.external)
    if organisers:
        lines.append("Organised by " + ", ".join(organisers) + ".")
    if mission.cost_reimbursement_percent is not None:
        lines.append(f"Costs reimbursed up to {mission.cost_reimbursement_percent:g}%.")
    if mission.description:
        lines += ["", mission.description]
    return "\n".join(lines)


def _when(mission: Mission) -> tuple[date | datetime, date | datetime]:
    if mission.start_time is None or mission.end_time is None or mission.timezone is None:
        return mission.starts_on, mission.ends_on + timedelta(days=1)  # DTEND is exclusive
    zone = ZoneInfo(mission.timezone)
    return (
        datetime.combine(mission.starts_on, mission.start_time, tzinfo=zone),
        datetime.combine(mission.ends_on, mission.end_time, tzinfo=zone),
    )


def _common(event: Event, mission: Mission) -> None:
    event.add("dtstamp", mission.updated_at)
    event.add("created", mission.created_at)
    event.add("last-modified", mission.updated_at)
    event.add("sequence", mission.sequence)
    if mission.url:
        event.add("url", mission.url)
    event.add("status", "CANCELLED" if mission.cancelled else "CONFIRMED")


def mission_event(mission: Mission, sector_names: dict[str, str]) -> Event:
    event = Event()
    event.add("uid", uid(mission))
    start, end = _when(mission)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", mission.title)
    event.add("location", location(mission))
    event.add("description", _description(mission))
    if mission.sectors:
        event.add("categories", [sector_names.get(code, code) for code in mission.sectors])
    _common(event, mission)
    carried = mission.model_dump(mode="json", include=set(CARRIED_FIELDS))
    carried[EXTERNAL_ORGANISER] = mission.organisers.external
    event.add(DATA_PROPERTY, json.dumps(carried, ensure_ascii=False, separators=(",", ":")))
    return event


def deadline_event(mission: Mission, deadline: date) -> Event:
    """An all-day reminder on the application deadline."""
    event = Event()
    event.add("uid", f"{mission.id}-deadline@{UID_DOMAIN}")
    event.add("dtstart", deadline)
    event.add("dtend", deadline + timedelta(days=1))
    event.add("summary", f"Application deadline: {mission.title}")
    event.add("location", location(mission))
    event.add("description", f"Last day to apply for {mission.title} ({mission.starts_on.isoformat()}).")
    event.add("transp", "TRANSPARENT")
    _common(event, mission)
    event.add(DEADLINE_PROPERTY, uid(mission))
    return event


def calendar(
    missions: Iterable[Mission], sector_names: dict[str, str], *, name: str, include_deadlines: bool = False
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for mission in missions:
        cal.add_component(mission_event(mission, sector_names))
        if include_deadlines and mission.application_deadline:
            cal.add_component(deadline_event(mission, mission.application_deadline))
    add_timezones(cal)
    content: bytes = cal.to_ical()
    return content
