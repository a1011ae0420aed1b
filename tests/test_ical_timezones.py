"""The VTIMEZONE the service writes must define the offset at every event's time, even for
events after 2037 (icalendar's default span ends in 2038)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from service.kit.ical import add_timezones


def _offset_by_vtimezone(cal: Calendar, tzid: str, local: datetime) -> object:
    """The offset a client that reads only the VTIMEZONE (as Outlook does) gives `local`."""
    (zone,) = [tz for tz in cal.walk("VTIMEZONE") if str(tz["TZID"]) == tzid]
    starts = []
    for observance in zone.subcomponents:
        offset = observance.decoded("TZOFFSETTO")
        starts.append((observance.decoded("DTSTART"), offset))
        rdates = observance.get("RDATE", [])
        for rdate in rdates if isinstance(rdates, list) else [rdates]:
            starts += [(moment.dt, offset) for moment in rdate.dts]
    in_force = [(start, offset) for start, offset in starts if start.replace(tzinfo=None) <= local]
    assert in_force, "no observance covers the event"
    return max(in_force, key=lambda item: item[0].replace(tzinfo=None))[1]


@pytest.mark.parametrize("year", [2013, 2030, 2045])
@pytest.mark.parametrize(("tzid", "month"), [("America/New_York", 7), ("America/New_York", 12), ("Asia/Taipei", 3)])
def test_the_timezone_covers_every_event(year: int, tzid: str, month: int) -> None:
    zone = ZoneInfo(tzid)
    starts = datetime(year, month, 10, 9, 0, tzinfo=zone)
    cal = Calendar()
    event = Event()
    event.add("uid", "x@test")
    event.add("dtstart", starts)
    cal.add_component(event)

    add_timezones(cal)

    assert _offset_by_vtimezone(cal, tzid, starts.replace(tzinfo=None)) == starts.utcoffset()


def test_floating_times_need_no_timezone() -> None:
    cal = Calendar()
    event = Event()
    event.add("uid", "x@test")
    event.add("dtstart", datetime(2030, 1, 1, 9))
    cal.add_component(event)
    add_timezones(cal)
    assert cal.walk("VTIMEZONE") == []
