"""Forged list cursors answer 422 `query.cursor` on every list, and serve nothing.

A cursor is signed for its list and sort, so one that was made up, altered by a byte, or
taken from another list is refused. Values past their column's range are refused even in a
correctly signed cursor (an older release signed whatever it issued): forged here through
the pagination helper with the app's own key.
"""

import base64
import json
import uuid
from datetime import date, datetime

import pytest
from pydantic import ValidationError

from service.agreements import repository as agreements
from service.clusters import repository as clusters
from service.config import CursorSettings
from service.kit.pagination import SortField, encode_cursor, parse_sort, signing_key
from service.markets import repository as markets
from service.matching import service as matching
from service.missions import repository as missions
from service.opportunities import search_plan as search
from service.sectors import repository as sectors
from tests import factories
from tests.feeds import local_feed_settings
from tests.problems import assert_problem


@pytest.fixture
def settings():
    # Calendar sources are registered on loopback (never fetched here): source URLs are
    # checked when registered, and a made-up host name would not resolve.
    return local_feed_settings()


@pytest.fixture
async def lists(client) -> dict[str, tuple[str, dict, str | None]]:
    """Every list that issues cursors, each with two rows or more: name -> (path, params, and
    the scope its cursors are signed for when the sort column does not name it)."""
    made = [
        await factories.create(client, "/v1/clusters", factories.cluster(
            country=country, member_count=members, founded_year=1999 + members,
            target_markets=[{"country": "US"}, {"country": "JP"}],
        ))
        for country, members in [("FR", 5), ("DE", 7), ("ES", 9)]
    ]
    await factories.create(client, "/v1/partnerships", factories.partnership())
    await factories.create(client, "/v1/partnerships", factories.partnership(target_markets=[{"country": "JP"}]))
    for _ in range(2):
        await factories.create(client, "/v1/missions", factories.mission())
        await factories.create(client, "/v1/agreements", factories.agreement())
        await factories.create(client, "/v1/calendar-sources", {
            "url": f"https://127.0.0.1/{uuid.uuid4().hex}.ics", "organiser": "EU Gateway",
            "default_kind": "business-mission", "default_sectors": ["photonics"],
        })
    opportunity = await factories.create(client, "/v1/opportunities", factories.opportunity(posted_by={"cluster": made[0]["slug"]}))
    await factories.create(client, "/v1/opportunities", factories.opportunity())
    return {
        "clusters": ("/v1/clusters", {"sort": "member_count"}, None),
        "clusters by year": ("/v1/clusters", {"sort": "founded_year"}, None),
        "clusters by creation": ("/v1/clusters", {"sort": "-created_at"}, None),
        "partnerships": ("/v1/partnerships", {}, None),
        "sectors": ("/v1/sectors", {}, None),
        "missions": ("/v1/missions", {}, None),
        "agreements": ("/v1/agreements", {}, None),
        "calendar sources": ("/v1/calendar-sources", {}, None),
        "target markets": ("/v1/target-markets", {"sort": "-cluster_count"}, None),
        "opportunities": ("/v1/opportunities", {}, search.CURSOR_SCOPE),
        "newest opportunities": ("/v1/opportunities", {"sort": "-created"}, search.CURSOR_SCOPE),
        "opportunities by relevance": ("/v1/opportunities", {"q": "partners"}, search.CURSOR_SCOPE),
        "cluster matches": (f"/v1/clusters/{made[0]['slug']}/matches", {}, matching.cursor_scope("cluster", made[0]["id"])),
        "other cluster matches": (f"/v1/clusters/{made[1]['slug']}/matches", {}, matching.cursor_scope("cluster", made[1]["id"])),
        "opportunity matches": (
            f"/v1/opportunities/{opportunity['id']}/matches", {}, matching.cursor_scope("opportunity", opportunity["id"])
        ),
    }


async def first_cursor(client, path: str, params: dict) -> str:
    page = (await client.get(path, params=params | {"limit": 1})).json()
    assert page["next_cursor"], (path, params, page)
    return page["next_cursor"]


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def flipped(cursor: str, at: int) -> str:
    """cursor with one bit of the data at character `at` flipped: the top bit of its six
    (the last character's low bits may be padding, which decodes the same)."""
    replacement = BASE64URL[BASE64URL.index(cursor[at]) ^ 0b100000]
    return cursor[:at] + replacement + cursor[at + 1:]


def unsigned(*parts) -> str:
    """A cursor as the unsigned format encoded it: base64 of a JSON list."""
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


async def assert_refused(client, path: str, params: dict, cursor: str) -> None:
    problem = assert_problem(await client.get(path, params=params | {"cursor": cursor}), 422, "query.cursor")
    assert "items" not in problem


LIST_NAMES = [
    "clusters", "clusters by year", "clusters by creation", "partnerships", "sectors", "missions", "agreements",
    "calendar sources", "target markets", "opportunities", "newest opportunities", "opportunities by relevance",
    "cluster matches", "other cluster matches", "opportunity matches",
]


@pytest.mark.parametrize("name", LIST_NAMES)
async def test_an_altered_made_up_or_foreign_cursor_is_refused(client, lists, name):
    path, params, _ = lists[name]
    cursor = await first_cursor(client, path, params)
    assert (await client.get(path, params=params | {"cursor": cursor, "limit": 1})).status_code == 200

    payload_start = 1 if cursor.startswith(".") else 0  # "." marks a compressed payload
    payload_end = cursor.rindex(".")  # then comes the signature
    for at in (payload_start, payload_end // 2, payload_end - 1, payload_end + 1, len(cursor) - 1):
        await assert_refused(client, path, params, flipped(cursor, at))
    await assert_refused(client, path, params, cursor[:-1])
    await assert_refused(client, path, params, cursor + "A")
    # The format before cursors were signed, with values that would overflow their column.
    await assert_refused(client, path, params, unsigned("member_count", 2**70, str(uuid.uuid4())))
    await assert_refused(client, path, params, unsigned("-created_at", "99999-01-01T00:00:00+00:00", str(uuid.uuid4())))
    for junk in ["!!!", ".", "a.b", "é.é", "W10", cursor.replace(".", "")]:
        await assert_refused(client, path, params, junk)
    # A genuine cursor of every other list.
    for other in LIST_NAMES:
        other_path, other_params, _ = lists[other]
        if (other_path, other_params) != (path, params):
            await assert_refused(client, path, params, await first_cursor(client, other_path, other_params))


async def test_a_cursor_of_one_sort_is_refused_for_another_sort_of_the_same_list(client, lists):
    cursor = await first_cursor(client, "/v1/clusters", {"sort": "member_count"})
    for sort in ["-member_count", "sme_count", "founded_year"]:
        await assert_refused(client, "/v1/clusters", {"sort": sort}, cursor)


def signed(app, sort_token: str, sorts: dict[str, SortField], value, row_id, scope: str | None) -> str:
    """A cursor signed with the app's key, as an older release might have issued it."""
    token = signing_key.set(app.state.cursor_key)
    try:
        return encode_cursor(parse_sort(sort_token, sorts, sort_token), value, row_id, scope)
    finally:
        signing_key.reset(token)


ANY_ID = str(uuid.uuid4())
OUT_OF_RANGE = [
    # (list, sort token, sort fields, value, id)
    ("clusters", "member_count", clusters.SORTS, 2**31, ANY_ID),  # integer column
    ("clusters", "member_count", clusters.SORTS, -(2**31) - 1, ANY_ID),
    ("clusters", "member_count", clusters.SORTS, 10**400, ANY_ID),
    ("clusters by year", "founded_year", clusters.SORTS, 2**15, ANY_ID),  # smallint column
    ("clusters", "member_count", clusters.SORTS, "many", ANY_ID),
    ("clusters", "member_count", clusters.SORTS, [1], ANY_ID),
    ("clusters", "member_count", clusters.SORTS, 5, "not-a-uuid"),
    ("clusters", "member_count", clusters.SORTS, 5, 12),
    ("clusters by creation", "-created_at", clusters.SORTS, "99999-01-01T00:00:00+00:00", ANY_ID),
    ("clusters by creation", "-created_at", clusters.SORTS, "9999-12-31T23:00:00-05:00", ANY_ID),
    ("clusters by creation", "-created_at", clusters.SORTS, "0001-01-01T00:30:00+01:00", ANY_ID),
    ("clusters by creation", "-created_at", clusters.SORTS, "2030-01-01T00:00:00", ANY_ID),  # no offset
    ("clusters by creation", "-created_at", clusters.SORTS, None, ANY_ID),  # never null
    ("missions", "starts_on", missions.SORTS, "99999-01-01", ANY_ID),
    ("missions", "starts_on", missions.SORTS, {"year": 2030}, ANY_ID),
    ("agreements", "-signed_on", agreements.SORTS, "2030-02-30", ANY_ID),
    ("sectors", "code", sectors.SORTS, "photonics", "a\x00b"),
    ("sectors", "code", sectors.SORTS, "a\x00b", "photonics"),
    ("sectors", "code", sectors.SORTS, "x" * 5000, "photonics"),
    ("target markets", "-cluster_count", markets.SORTS, 2**40, "US"),
    ("opportunities", "deadline", search.SORTS, "99999-12-31", ANY_ID),
    ("newest opportunities", "-created", search.SORTS, "9999-12-31T23:59:59-12:00", ANY_ID),
    ("opportunities by relevance", "-rank", search.SORTS, float("inf"), ANY_ID),
    ("opportunities by relevance", "-rank", search.SORTS, float("nan"), ANY_ID),
    ("cluster matches", "-score", matching.SORTS, 2**31, ANY_ID),
    ("opportunity matches", "-score", matching.SORTS, -(2**63), ANY_ID),
]


@pytest.mark.parametrize(("name", "sort", "sorts", "value", "row_id"), OUT_OF_RANGE)
async def test_a_signed_cursor_with_a_value_past_its_column_is_refused(client, app, lists, name, sort, sorts, value, row_id):
    path, params, scope = lists[name]
    await first_cursor(client, path, params)  # the app has its key by now
    await assert_refused(client, path, params, signed(app, sort, sorts, value, row_id, scope))


@pytest.mark.parametrize(
    ("name", "sort", "sorts", "value", "row_id"),
    [
        ("clusters", "member_count", clusters.SORTS, 2**31 - 1, ANY_ID),
        ("clusters by year", "founded_year", clusters.SORTS, -(2**15), ANY_ID),
        ("clusters by creation", "-created_at", clusters.SORTS, datetime(9999, 12, 31, 12).astimezone(), ANY_ID),
        ("missions", "starts_on", missions.SORTS, date(1, 1, 1), ANY_ID),
        ("target markets", "-cluster_count", markets.SORTS, 0, "ZZ"),
        ("opportunities by relevance", "-rank", search.SORTS, 1e300, ANY_ID),
        ("cluster matches", "-score", matching.SORTS, -(2**31), ANY_ID),
    ],
)
async def test_a_signed_cursor_at_the_edge_of_its_column_is_served(client, app, lists, name, sort, sorts, value, row_id):
    # The range checks refuse only what the column cannot hold.
    path, params, scope = lists[name]
    await first_cursor(client, path, params)
    response = await client.get(path, params=params | {"cursor": signed(app, sort, sorts, value, row_id, scope)})
    assert response.status_code == 200, response.text


def test_a_short_configured_secret_is_refused():
    with pytest.raises(ValidationError, match="too_short"):
        CursorSettings(secret="guessable")
