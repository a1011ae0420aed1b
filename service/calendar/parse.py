"""Reading mission calendars (iCalendar or JSON) into mission data, event by event.

A feed that cannot be read at all raises FeedRejected; an event that cannot become a
mission comes back as a Rejection with its reason, and the rest of the feed still applies.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pycountry
from icalendar import Calendar, Component
from pydantic import ValidationError

from service.calendar.ics import CARRIED_FIELDS, DATA_PROPERTY, DEADLINE_PROPERTY, EXTERNAL_ORGANISER
from service.missions.schemas import MissionCreate

MAX_EVENTS = 10_000
# Missions take place between these days (PlanDate); checked before any date arithmetic,
# which overflows near the ends of Python's date range (year 9999 plus a duration).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)
# Deeper JSON than this is not a feed of events (an event is an object of flat fields).
MAX_JSON_DEPTH = 32


class FeedRejected(Exception):
    """The whole feed is unusable: nothing from it is applied."""


@dataclass
class Defaults:
    """What a source says about all its events: who organises them, what they are about."""

    organiser: str | None = None
    kind: str = "business-mission"
    sectors: list[str] = field(default_factory=list)
    country: str | None = None
    cluster: str | None = None  # id of the organising cluster: the source's owner, or the uploader's


@dataclass
class FeedEvent:
    uid: str
    sequence: int
    mission: MissionCreate


@dataclass
class Rejection:
    uid: str | None
    reason: str


def _reason(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
    )


def _validated(uid: str, sequence: int, data: dict[str, Any]) -> FeedEvent | Rejection:
    try:
        return FeedEvent(uid, sequence, MissionCreate.model_validate(data))
    except ValidationError as exc:
        return Rejection(uid, _reason(exc))


def _place(text: str | None, default_country: str | None) -> tuple[str | None, str | None]:
    """(city, country code) from a LOCATION such as "Taipei, Taiwan" or "New York, USA"."""
    if not text:
        return None, default_country
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        country = pycountry.countries.lookup(parts[-1]).alpha_2
    except LookupError:
        return text.strip(), default_country
    city = ", ".join(parts[:-1]) or None
    return city, country


def _times(start: date | datetime, end: date | datetime | None) -> dict[str, Any]:
    """starts_on/ends_on (and local times with their zone) from DTSTART and DTEND."""
    if not isinstance(start, datetime):  # all-day: DTEND is exclusive
        last = end - timedelta(days=1) if isinstance(end, date) and end > start else start
        return {"starts_on": start, "ends_on": last}
    zone = getattr(start.tzinfo, "key", None)
    if start.tzinfo is None:  # floating time: taken as UTC
        start, zone = start.replace(tzinfo=UTC), "UTC"
    elif zone is None:  # a zone without an IANA name: keep the instant, in UTC
        start, zone = start.astimezone(UTC), "UTC"
    if not isinstance(end, datetime):
        return {"starts_on": start.date(), "ends_on": start.date()}
    end = (end.replace(tzinfo=UTC) if end.tzinfo is None else end).astimezone(start.tzinfo)
    if end <= start:  # no duration: keep the day only
        return {"starts_on": start.date(), "ends_on": start.date()}
    return {
        "starts_on": start.date(), "ends_on": end.date(),
        "start_time": start.time(), "end_time": end.time(), "timezone": zone,
    }


def _dates_problem(start: object, end: object) -> str | None:
    """Why DTSTART/DTEND cannot be a mission's dates, if they cannot."""
    for value in (start, end):
        if value is None:
            continue
        if not isinstance(value, date):
            return "DTSTART and DTEND must be dates or date-times"
        day = value.date() if isinstance(value, datetime) else value
        if not FIRST_DAY <= day <= LAST_DAY:
            return f"dates must be between {FIRST_DAY} and {LAST_DAY}"
    # RFC 5545 (3.8.2.2): DTEND has the value type of DTSTART. Guessing which one was meant
    # (a whole day, or a moment) would invent data, so such an event is rejected.
    if end is not None and isinstance(start, datetime) != isinstance(end, datetime):
        return "DTSTART and DTEND must both be dates or both be date-times"
    return None


def _organisers(defaults: Defaults, named: Any) -> dict[str, Any]:
    """Who organises a feed's missions: never a cluster or partnership the feed names.

    Organising clusters and partnerships hold rights over a mission (their keys may change
    it), so they come from whoever is calling, never from the feed's data: a feed names no
    cluster or partnership, and any it names are ignored (not the whole event: the same feed
    is published for calendar apps, and the rest of the event is still good). The external
    organiser is a label: the source's own when it has one, else what the event says.

    The organising cluster is the source's owner (or the cluster of the key uploading): that
    cluster's keys already hold the source, so its missions give them no more than they have.
    """
    return {"external": defaults.organiser or named, "clusters": [defaults.cluster] if defaults.cluster else []}


def _ics_event(component: Component, defaults: Defaults) -> FeedEvent | Rejection | None:
    uid = str(component.get("uid", "")).strip()
    if not uid:
        return Rejection(None, "the event has no UID")
    if component.get(DEADLINE_PROPERTY):
        return None  # a deadline reminder of one of our own feeds, not a mission
    if component.get("rrule") or component.get("recurrence-id"):
        return Rejection(uid, "recurring events are not supported")
    try:
        sequence = int(component.get("sequence", 0))
        if not 0 <= sequence < 2**31:
            return Rejection(uid, "SEQUENCE must be a non-negative integer")
        start = component.decoded("dtstart")
        if "dtend" in component:
            end = component.decoded("dtend")
        elif "duration" in component:
            problem = _dates_problem(start, None)
            if problem:
                return Rejection(uid, problem)
            end = start + component.decoded("duration")
        else:
            end = None
    except OverflowError:
        return Rejection(uid, f"dates must be between {FIRST_DAY} and {LAST_DAY}")
    except (KeyError, ValueError, TypeError) as exc:
        return Rejection(uid, f"unreadable dates: {exc}" if str(exc) else "DTSTART is missing or unreadable")
    problem = _dates_problem(start, end)
    if problem:
        return Rejection(uid, problem)
    try:
        carried = json.loads(str(component.get(DATA_PROPERTY))) if component.get(DATA_PROPERTY) else {}
        # Only the fields the property is defined to carry (ics.CARRIED_FIELDS): not, say, an
        # external_id, the key bulk loads update missions by.
        carried = {k: v for k, v in carried.items() if k in (*CARRIED_FIELDS, EXTERNAL_ORGANISER)} if isinstance(carried, dict) else {}
    except (ValueError, RecursionError):  # unreadable, or nested past the parser's recursion
        carried = {}
    city, country = _place(str(component.get("location", "")) or None, defaults.country)
    data = {
        "kind": defaults.kind,
        "destination_country": country,
        "destination_city": city,
        "sectors": defaults.sectors,
        "description": str(component.get("description", "")) or None,
        **carried,
        "title": str(component.get("summary", "")).strip() or None,
        "url": str(component.get("url")) if component.get("url") else None,
        "cancelled": str(component.get("status", "")).upper() == "CANCELLED",
        "organisers": _organisers(defaults, carried.pop(EXTERNAL_ORGANISER, None)),
        **_times(start, end),
    }
    data.pop(EXTERNAL_ORGANISER, None)
    return _validated(uid, sequence, data)


def parse_ics(content: bytes, defaults: Defaults) -> list[FeedEvent | Rejection]:
    try:
        calendar = Calendar.from_ical(content)
        if calendar.name != "VCALENDAR":
            raise FeedRejected("not an iCalendar file: it does not start with BEGIN:VCALENDAR")
        components = calendar.walk("VEVENT")
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise FeedRejected(f"not a readable iCalendar file ({exc})") from None
    if len(components) > MAX_EVENTS:
        raise FeedRejected(f"the feed has more than {MAX_EVENTS} events")
    results = [_ics_event(component, defaults) for component in components]
    return [r for r in results if r is not None]


def _depth(value: Any) -> int:
    """How deeply lists and objects nest, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                break
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_json(content: bytes, defaults: Defaults) -> list[FeedEvent | Rejection]:
    try:
        document = json.loads(content)
    except RecursionError:
        raise FeedRejected(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedRejected(f"not readable JSON ({exc})") from None
    if _depth(document) > MAX_JSON_DEPTH:
        raise FeedRejected(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    events = document.get("events") if isinstance(document, dict) else document
    if not isinstance(events, list):
        raise FeedRejected('a JSON feed is a list of events or {"events": [...]}')
    if len(events) > MAX_EVENTS:
        raise FeedRejected(f"the feed has more than {MAX_EVENTS} events")
    results: list[FeedEvent | Rejection] = []
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("uid"), str) or not event["uid"].strip():
            results.append(Rejection(None, "an event without a string uid"))
            continue
        data = dict(event)
        uid = data.pop("uid").strip()
        sequence = data.pop("sequence", 0)
        if data.pop("status", None) == "cancelled":
            data["cancelled"] = True
        data.setdefault("kind", defaults.kind)
        data.setdefault("sectors", defaults.sectors)
        data.setdefault("destination_country", defaults.country)
        named = data.pop("organisers", None)
        data["organisers"] = _organisers(defaults, named.get("external") if isinstance(named, dict) else None)
        if not isinstance(sequence, int) or isinstance(sequence, bool) or not 0 <= sequence < 2**31:
            results.append(Rejection(uid, "sequence must be a non-negative integer"))
            continue
        results.append(_validated(uid, sequence, data))
    return results


def parse(content: bytes, fmt: str, defaults: Defaults) -> list[FeedEvent | Rejection]:
    return parse_ics(content, defaults) if fmt == "ics" else parse_json(content, defaults)
