"""Input types that PostgreSQL can always store.

Every string is bounded and free of NUL bytes and lone surrogates, every integer fits its
column: bad input is refused at the edge with 422 instead of failing in the database.
"""

import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, StringConstraints, WithJsonSchema

from service.kit.countries import normalise_country


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def _at_most(max_length: int) -> BeforeValidator:
    """The length bound applied to the text as sent: surrounding spaces are stripped after
    it, and a text the schema calls too long must not pass because of them."""

    def check(value: object) -> object:
        if isinstance(value, str) and len(value) > max_length:
            raise ValueError(f"String should have at most {max_length} characters")
        return value

    return BeforeValidator(check)


@dataclass(frozen=True, slots=True)
class Text(GroupedMetadata):
    """Bounded, storable text: `Annotated[str, Text(300)]`.

    Grouped metadata rather than a function returning a type, so that a type checker reads
    the annotation as `str`; pydantic unpacks the group in place.
    """

    max_length: int
    min_length: int = 0

    def __iter__(self) -> Iterator[object]:
        yield _at_most(self.max_length)
        # Not unpacked a second time by pydantic: its parts are given one by one.
        yield from StringConstraints(max_length=self.max_length, min_length=self.min_length)
        yield AfterValidator(_storable)


Name = Annotated[str, Text(300, min_length=1)]
ShortName = Annotated[str, Text(200, min_length=1)]  # a sector's or an API key's name
ShortText = Annotated[str, Text(120)]
LongText = Annotated[str, Text(20_000)]
SearchText = Annotated[str, Text(500)]

Slug = Annotated[
    str,
    StringConstraints(max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
]
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http or https URL")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
        parts.hostname.encode("idna")
    except ValueError:  # UnicodeError included
        raise ValueError("must be an http or https URL with a valid host name and port") from None
    return value


# The pattern states in the schema what _http_url checks (clients and fuzzers read it).
URL_PATTERN = r"^https?://[^\s\x00-\x1f\x7f/?#@:][^\s\x00-\x1f\x7f/?#@]*([/?#][^\s\x00-\x1f\x7f]*)?$"
Url = Annotated[
    str, StringConstraints(max_length=2000, pattern=URL_PATTERN), AfterValidator(_storable), AfterValidator(_http_url),
]

Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"),
]


def _country(value: object) -> object:
    return normalise_country(value) if isinstance(value, str) else value


# The schema is stated whole: it is the same for requests and answers (one schema, not an
# -Input and an -Output twin), and the pattern shows what the normalising validator takes.
CountryCode = Annotated[
    str,
    BeforeValidator(_country),
    WithJsonSchema({
        "type": "string", "pattern": "^[A-Za-z]{2}$", "minLength": 2, "maxLength": 2, "examples": ["FR"],
        "description": "ISO 3166-1 alpha-2; EL and UK are accepted for GR and GB.",
    }),
]

NutsCode = Annotated[str, StringConstraints(max_length=5, pattern=r"^[A-Z]{2}[A-Z0-9]{0,3}$")]

Count = Annotated[int, Field(ge=0, le=2_147_483_647)]
Year = Annotated[int, Field(ge=1800, le=2100)]
Priority = Annotated[int, Field(ge=1, le=100, description="1 is the highest priority.")]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    """Dates come as ISO 8601 text only: pydantic would also read a number as a Unix
    timestamp, so `?starts_before=0` would silently mean 1970-01-01."""
    if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATE.fullmatch(value.strip())):
        raise ValueError("give a date as YYYY-MM-DD")
    return value


# Calendar dates the service plans with; bounded so that date arithmetic (an exclusive
# DTEND is the day after) can never overflow. JSON Schema has no bounds for dates (`ge` or
# `formatMinimum` are not keywords it knows): the pattern states the range of years.
PLAN_DATE_PATTERN = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _plannable(value: date) -> date:
    if not date(1900, 1, 1) <= value <= date(2199, 12, 31):
        raise ValueError("give a date from 1900-01-01 to 2199-12-31")
    return value


PlanDate = Annotated[
    date, BeforeValidator(_iso_date), AfterValidator(_plannable),
    WithJsonSchema({"type": "string", "format": "date", "pattern": PLAN_DATE_PATTERN,
                    "description": "A date, YYYY-MM-DD, from 1900-01-01 to 2199-12-31."}),
]


# A mission's times are wall-clock times in its `timezone`, so they carry no offset: the
# zone's offset depends on the date (daylight saving), and a time with an offset would say
# something else than the mission. They are plain strings with this pattern, the same in
# requests and answers (`format: time` would promise RFC 3339 times, offset included).
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
_LOCAL_TIME_SCHEMA = {
    "type": "string", "pattern": LOCAL_TIME_PATTERN, "examples": ["09:00"],
    "description": "Local time in `timezone`, `HH:MM` or `HH:MM:SS`, without offset.",
}


def _local_time(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(LOCAL_TIME_PATTERN, value):
        raise ValueError("give a local time as HH:MM or HH:MM:SS, without offset; the time zone goes in `timezone`")
    return value


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give a local time without offset; the time zone goes in `timezone`")
    return value


LocalTime = Annotated[time, BeforeValidator(_local_time), AfterValidator(_naive), WithJsonSchema(_LOCAL_TIME_SCHEMA)]
# Answered as HH:MM:SS, which the same pattern accepts back.
LocalTimeOut = Annotated[
    time, PlainSerializer(lambda value: value.strftime("%H:%M:%S"), return_type=str), WithJsonSchema(_LOCAL_TIME_SCHEMA),
]


def _iana_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError(f"'{value}' is not an IANA time zone name, e.g. Europe/Brussels")
    return value


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_iana_zone)]
