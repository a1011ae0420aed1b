"""Expressions of interest: who may send, see and answer them, each status transition, the
contacts shown once accepted, the public counts, and the events that say nothing private."""

from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text

from tests import factories
from tests.conftest import issue_key, make_client

MESSAGE = {"message": "We build photonic sensors and look for a US partner.", "contact": "ana@sender.example"}


@dataclass
class World:
    opportunity: str  # posted by cluster "poster"
    by_partnership: str  # posted by partnership "pp" (coordinator "coord", partner "member")
    keys: dict[str, str]


@pytest.fixture
async def world(client, session) -> World:
    for slug in ("poster", "sender", "other", "coord", "member"):
        await factories.create(client, "/v1/clusters", factories.cluster(slug=slug))
    members = [{"cluster": "coord", "role": "coordinator"}, {"cluster": "member", "role": "partner"}]
    await factories.create(client, "/v1/partnerships", factories.partnership(slug="pp", members=members))
    mine = await factories.create(client, "/v1/opportunities", factories.opportunity(
        posted_by={"cluster": "poster"}, contact="public@poster.example"))
    theirs = await factories.create(client, "/v1/opportunities", factories.opportunity(posted_by={"partnership": "pp"}))
    keys = {slug: await issue_key(session, "write", cluster=slug) for slug in ("poster", "sender", "other", "coord", "member")}
    keys["unbound"] = await issue_key(session, "write")
    keys["read"] = await issue_key(session, "read")
    return World(mine["id"], theirs["id"], keys)


async def as_(app, world: World, who: str, method: str, path: str, **kwargs) -> httpx.Response:
    async with make_client(app, world.keys.get(who)) as caller:
        return await caller.request(method, path, **kwargs)


def interests(opportunity: str) -> str:
    return f"/v1/opportunities/{opportunity}/interests"


async def sent(app, world: World, who: str = "sender", opportunity: str | None = None, **body) -> dict:
    response = await as_(app, world, who, "POST", interests(opportunity or world.opportunity), json=MESSAGE | body)
    assert response.status_code == 201, response.text
    return response.json()


async def answer(app, world: World, who: str, interest: dict, status: str, **body) -> httpx.Response:
    path = f"{interests(interest['opportunity_id'])}/{interest['id']}"
    return await as_(app, world, who, "PATCH", path, json={"status": status} | body)


# Sending ----------------------------------------------------------------------------------


async def test_a_bound_key_sends_for_its_cluster(app, world):
    response = await as_(app, world, "sender", "POST", interests(world.opportunity), json=MESSAGE)
    assert response.status_code == 201
    body = response.json()
    assert body["cluster"]["slug"] == "sender" and body["status"] == "pending"
    assert body["contact"] == MESSAGE["contact"] and body["poster_contact"] is None
    assert response.headers["location"] == f"{interests(world.opportunity)}/{body['id']}"
    assert response.headers["etag"]


@pytest.mark.parametrize(("who", "cluster", "status"), [
    ("sender", "sender", 201),
    ("other", "sender", 403),  # a bound key speaks only for its own cluster
    ("unbound", "sender", 201),
    ("unbound", None, 422),  # an unbound key must say for whom
    ("admin", "sender", 201),
    ("read", "sender", 403),
    ("anonymous", "sender", 401),
])
async def test_who_may_send(app, client, world, who, cluster, status):
    body = MESSAGE | ({"cluster": cluster} if cluster else {})
    if who == "admin":
        response = await client.post(interests(world.opportunity), json=body)
    else:
        response = await as_(app, world, who, "POST", interests(world.opportunity), json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json") or status == 201


async def test_one_standing_interest_per_cluster(app, world):
    first = await sent(app, world)
    again = await as_(app, world, "sender", "POST", interests(world.opportunity), json=MESSAGE)
    assert again.status_code == 409
    assert (await answer(app, world, "sender", first, "withdrawn")).status_code == 200
    await sent(app, world)  # after a withdrawal, a new one may be sent


async def test_an_accepted_interest_also_stands(app, world):
    first = await sent(app, world)
    assert (await answer(app, world, "poster", first, "accepted")).status_code == 200
    again = await as_(app, world, "sender", "POST", interests(world.opportunity), json=MESSAGE)
    assert again.status_code == 409


async def test_a_declined_interest_does_not_stand(app, world):
    first = await sent(app, world)
    assert (await answer(app, world, "poster", first, "declined")).status_code == 200
    await sent(app, world)


async def test_only_open_opportunities_take_interests(app, client, world):
    await client.patch(f"/v1/opportunities/{world.opportunity}", json={"withdrawn": True})
    response = await as_(app, world, "sender", "POST", interests(world.opportunity), json=MESSAGE)
    assert response.status_code == 409
    closed = await factories.create(client, "/v1/opportunities", factories.opportunity(deadline="2029-12-31"))
    response = await as_(app, world, "sender", "POST", interests(closed["id"]), json=MESSAGE)
    assert response.status_code == 409


async def test_no_interest_in_what_a_cluster_posts(app, world):
    own = await as_(app, world, "poster", "POST", interests(world.opportunity), json=MESSAGE)
    assert own.status_code == 422
    coordinated = await as_(app, world, "coord", "POST", interests(world.by_partnership), json=MESSAGE)
    assert coordinated.status_code == 422
    # A partner of the posting partnership is not its poster: it may answer the call.
    assert (await as_(app, world, "member", "POST", interests(world.by_partnership), json=MESSAGE)).status_code == 201


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/v1/opportunities/not-an-id/interests", MESSAGE, 404),
    ("/v1/opportunities/00000000-0000-0000-0000-000000000000/interests", MESSAGE, 404),
    (None, {"message": ""}, 422),
    (None, {"message": "x" * 5001}, 422),
    (None, {"message": "hi", "contact": "c" * 301}, 422),
    (None, {"message": "hi\x00"}, 422),
    (None, {"message": "hi", "status": "accepted"}, 422),
    (None, {"message": "hi", "cluster": "nobody"}, 422),
    (None, [], 422),
])
async def test_hostile_sends_are_refused(app, world, path, body, status):
    response = await as_(app, world, "unbound", "POST", path or interests(world.opportunity), json=body)
    assert response.status_code == status, response.text


# Answering --------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status", "expected"), [
    ("poster", "accepted", 200), ("poster", "declined", 200), ("poster", "withdrawn", 403),
    ("sender", "withdrawn", 200), ("sender", "accepted", 403), ("sender", "declined", 403),
    ("other", "accepted", 404), ("other", "withdrawn", 404),
    ("unbound", "accepted", 200), ("unbound", "withdrawn", 200),
    ("admin", "declined", 200),
    ("read", "accepted", 403), ("anonymous", "accepted", 401),
])
async def test_who_may_answer(app, client, world, who, status, expected):
    interest = await sent(app, world)
    if who == "admin":
        response = await client.patch(f"{interests(world.opportunity)}/{interest['id']}", json={"status": status})
    else:
        response = await answer(app, world, who, interest, status)
    assert response.status_code == expected, response.text
    if expected == 200:
        assert response.json()["status"] == status


@pytest.mark.parametrize(("who", "expected"), [("coord", 200), ("member", 404), ("poster", 404)])
async def test_a_coordinator_answers_for_its_partnership(app, world, who, expected):
    interest = await sent(app, world, opportunity=world.by_partnership)
    assert (await answer(app, world, who, interest, "accepted")).status_code == expected


@pytest.mark.parametrize(("first", "then"), [
    ("accepted", "withdrawn"), ("accepted", "declined"), ("accepted", "accepted"),
    ("declined", "accepted"), ("declined", "withdrawn"), ("declined", "declined"),
    ("withdrawn", "accepted"), ("withdrawn", "declined"), ("withdrawn", "withdrawn"),
    (None, "pending"),
])
async def test_invalid_transitions_conflict(app, world, first, then):
    interest = await sent(app, world)
    if first:
        assert (await answer(app, world, "unbound", interest, first)).status_code == 200
    response = await answer(app, world, "unbound", interest, then)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("body", [
    {"status": "done"}, {}, {"status": "accepted", "extra": 1}, {"status": "declined", "contact": "me"},
])
async def test_hostile_answers_are_refused(app, world, body):
    interest = await sent(app, world)
    response = await as_(app, world, "unbound", "PATCH", f"{interests(world.opportunity)}/{interest['id']}", json=body)
    assert response.status_code == 422


async def test_an_interest_belongs_to_its_opportunity(app, world):
    interest = await sent(app, world)
    for path in (f"{interests(world.by_partnership)}/{interest['id']}", f"{interests(world.opportunity)}/not-an-id"):
        assert (await as_(app, world, "unbound", "PATCH", path, json={"status": "accepted"})).status_code == 404
        assert (await as_(app, world, "unbound", "GET", path)).status_code == 404


async def test_a_stale_if_match_is_refused(app, world):
    interest = await sent(app, world)
    path = f"{interests(world.opportunity)}/{interest['id']}"
    read = await as_(app, world, "poster", "GET", path)
    etag = read.headers["etag"]
    assert (await as_(app, world, "poster", "GET", path, headers={"If-None-Match": etag})).status_code == 304
    stale = await as_(app, world, "poster", "PATCH", path, json={"status": "accepted"}, headers={"If-Match": '"x"'})
    assert stale.status_code == 412
    fresh = await as_(app, world, "poster", "PATCH", path, json={"status": "accepted"}, headers={"If-Match": etag})
    assert fresh.status_code == 200


# Seeing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "seen"), [
    ("poster", {"sender", "member"}), ("sender", {"sender"}), ("member", {"member"}), ("other", set()),
    ("coord", set()), ("unbound", {"sender", "member"}), ("admin", {"sender", "member"}),
    ("read", set()), ("anonymous", set()),
])
async def test_who_sees_which_interests(app, client, world, who, seen):
    await sent(app, world)
    await sent(app, world, "member")
    if who == "admin":
        response = await client.get(interests(world.opportunity))
    else:
        response = await as_(app, world, who, "GET", interests(world.opportunity))
    assert response.status_code == 200
    assert {i["cluster"]["slug"] for i in response.json()["items"]} == seen


@pytest.mark.parametrize(("who", "status"), [("poster", 200), ("sender", 200), ("other", 404), ("anonymous", 404)])
async def test_who_may_read_one(app, world, who, status):
    interest = await sent(app, world)
    response = await as_(app, world, who, "GET", f"{interests(world.opportunity)}/{interest['id']}")
    assert response.status_code == status


async def test_the_list_pages_and_filters(app, world):
    for who in ("sender", "member", "other"):
        await sent(app, world, who)
    first = await as_(app, world, "poster", "GET", interests(world.opportunity), params={"limit": 2})
    page = first.json()
    assert len(page["items"]) == 2 and page["next_cursor"] and 'rel="next"' in first.headers["link"]
    rest = await as_(app, world, "poster", "GET", interests(world.opportunity), params={"cursor": page["next_cursor"]})
    slugs = [i["cluster"]["slug"] for i in page["items"] + rest.json()["items"]]
    assert slugs == ["sender", "member", "other"]
    pending = await as_(app, world, "poster", "GET", interests(world.opportunity), params={"status": "accepted"})
    assert pending.json()["items"] == []
    bad = await as_(app, world, "poster", "GET", interests(world.opportunity), params={"cursor": "forged"})
    assert bad.status_code == 422


async def test_the_senders_contact_is_shown_to_the_poster_once_accepted(app, world):
    interest = await sent(app, world)
    path = f"{interests(world.opportunity)}/{interest['id']}"
    before = (await as_(app, world, "poster", "GET", path)).json()
    assert before["contact"] is None and before["message"] == MESSAGE["message"]
    listed = (await as_(app, world, "poster", "GET", interests(world.opportunity))).json()["items"]
    assert listed[0]["contact"] is None
    accepted = await answer(app, world, "poster", interest, "accepted", contact="deals@poster.example")
    assert accepted.json()["contact"] == MESSAGE["contact"]
    seen_by_sender = (await as_(app, world, "sender", "GET", path)).json()
    assert seen_by_sender["poster_contact"] == "deals@poster.example"
    assert (await as_(app, world, "poster", "GET", path)).json()["contact"] == MESSAGE["contact"]


async def test_a_declined_sender_keeps_its_contact_hidden(app, world):
    interest = await sent(app, world)
    declined = await answer(app, world, "poster", interest, "declined")
    assert declined.json()["contact"] is None and declined.json()["poster_contact"] is None


# Counts, funnel, events -------------------------------------------------------------------


async def test_counts_and_funnel_are_public(app, anonymous, world):
    statuses = {"sender": "accepted", "member": "declined", "other": "withdrawn"}
    for who, status in statuses.items():
        interest = await sent(app, world, who)
        await answer(app, world, "unbound", interest, status)
    await sent(app, world, "coord")
    summary = await anonymous.get(f"{interests(world.opportunity)}/summary")
    assert summary.status_code == 200 and summary.json() == {"total": 4, "accepted": 1}
    assert summary.headers["etag"]
    funnel = await anonymous.get(f"/v1/opportunities/{world.opportunity}/funnel")
    assert funnel.json() == {"interests": 4, "pending": 1, "accepted": 1, "declined": 1, "withdrawn": 1}
    empty = await anonymous.get(f"/v1/opportunities/{world.by_partnership}/funnel")
    assert empty.json() == {"interests": 0, "pending": 0, "accepted": 0, "declined": 0, "withdrawn": 0}
    assert (await anonymous.get("/v1/opportunities/00000000-0000-0000-0000-000000000000/funnel")).status_code == 404
    assert (await anonymous.get("/v1/opportunities/x/interests/summary")).status_code == 404


async def test_each_change_is_an_event_with_nothing_private(app, session, world):
    accepted, declined, withdrawn = [await sent(app, world, who) for who in ("sender", "member", "other")]
    await answer(app, world, "poster", accepted, "accepted", contact="deals@poster.example")
    await answer(app, world, "poster", declined, "declined")
    await answer(app, world, "other", withdrawn, "withdrawn")
    rows = (await session.execute(text(
        "SELECT type, data, resource_version FROM events WHERE type LIKE 'interest.%' ORDER BY id"
    ))).all()
    assert [r.type for r in rows] == [
        "interest.created", "interest.created", "interest.created",
        "interest.accepted", "interest.declined", "interest.withdrawn",
    ]
    for row in rows:
        assert set(row.data) == {"id", "opportunity_id", "status"}
        assert row.data["opportunity_id"] == world.opportunity
    assert [r.data["status"] for r in rows[3:]] == ["accepted", "declined", "withdrawn"]
    assert [r.resource_version for r in rows[3:]] == [2, 2, 2]


async def test_a_refused_change_writes_no_event(app, session, world):
    interest = await sent(app, world)
    await answer(app, world, "sender", interest, "accepted")
    count = await session.scalar(text("SELECT count(*) FROM events WHERE type LIKE 'interest.%'"))
    assert count == 1


async def test_deleting_an_opportunity_takes_its_interests(app, client, session, world):
    await sent(app, world)
    assert (await client.delete(f"/v1/opportunities/{world.opportunity}")).status_code == 204
    assert await session.scalar(text("SELECT count(*) FROM interests")) == 0


async def test_a_cluster_with_interests_cannot_be_deleted(app, client, world):
    await sent(app, world)
    assert (await client.delete("/v1/clusters/sender")).status_code == 409
