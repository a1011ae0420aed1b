"""What every iCalendar document the service writes shares."""

from datetime import date, datetime, timedelta

from icalendar import Calendar

# A day either side, so an event's local day is covered whatever its offset.
_MARGIN = timedelta(days=1)


def add_timezones(cal: Calendar) -> None:
    """Add a VTIMEZONE for every TZID the events use, covering the span of those events.

    icalendar's default span is 1970-2038: an event outside it (a mission planned for 2040)
    would get a definition that stops before it, and a long one of RDATEs it does not need.
    """
    moments = [
        value
        for event in cal.walk("VEVENT")
        for name in ("DTSTART", "DTEND")
        if name in event and isinstance(value := event.decoded(name), datetime) and value.tzinfo
    ]
    if not moments:
        return
    first: date = min(moments).date() - _MARGIN
    last: date = max(moments).date() + _MARGIN
    cal.add_missing_timezones(first, last)
