"""A participant's agenda at a mission as an RFC 5545 calendar (built as calendar/ics.py
builds mission feeds: stable UIDs, SEQUENCE from the row version, DTSTAMP of the last change,
so an unchanged agenda is byte-identical between polls)."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from service.kit.ical import add_timezones
from service.models import Cluster, Meeting, MeetingRequest, Mission

PRODID = "-//Partnership Opportunity API//Meetings//EN"
UID_DOMAIN = "meetings.partnership-opportunity-api"
STATUS = {"published": "CONFIRMED", "held": "CONFIRMED", "no-show": "CANCELLED"}


def _at(local: datetime, zone: ZoneInfo | None) -> datetime:
    # Without a mission time zone the times stay floating: local wherever the reader is.
    return local.replace(tzinfo=zone) if zone else local


def _event(mission: Mission, row: tuple[Meeting, MeetingRequest, Cluster, Cluster], own: Cluster,
           zone: ZoneInfo | None) -> Event:
    meeting, request, asking, asked = row
    other = asked if asking.id == own.id else asking
    event = Event()
    event.add("uid", f"{meeting.id}@{UID_DOMAIN}")
    event.add("dtstamp", meeting.updated_at)
    event.add("last-modified", meeting.updated_at)
    event.add("sequence", meeting.version - 1)
    event.add("dtstart", _at(meeting.starts_at, zone))
    event.add("dtend", _at(meeting.ends_at, zone))
    event.add("summary", f"Meeting with {other.name}")
    event.add("location", f"Table {meeting.table_number}, {mission.title}")
    lines = [f"Bilateral meeting at {mission.title}: {asking.name} asked {asked.name}."]
    if request.message:
        lines += ["", request.message]
    event.add("description", "\n".join(lines))
    event.add("status", STATUS.get(meeting.status, "CONFIRMED"))
    return event


def agenda(mission: Mission, own: Cluster, rows: Sequence[tuple[Meeting, MeetingRequest, Cluster, Cluster]]) -> bytes:
    zone = ZoneInfo(mission.timezone) if mission.timezone else None
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{own.name} at {mission.title}")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for row in rows:
        cal.add_component(_event(mission, row, own, zone))
    add_timezones(cal)
    return bytes(cal.to_ical())
