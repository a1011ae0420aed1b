"""The authorization matrix: every write operation, tried by every kind of caller.

Callers: no key, a bad key, a revoked key, a key of the wrong scope, a key bound to another
cluster, the owner's key, and an admin key. Only the owner and the admin succeed; every other
attempt is refused with the status the README promises and changes nothing at all (the whole
database is compared before and after).
"""

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from tests import factories
from tests.conftest import issue_key, make_client
from tests.feeds import FeedServer, Route, local_feed_settings

TABLES = (
    "clusters", "partnerships", "partnership_members", "missions", "mission_organisers", "mission_participants",
    "agreements", "agreement_parties", "opportunities", "market_profiles", "sectors", "calendar_sources", "api_keys",
)
CALLERS = ("none", "bad", "revoked", "wrong-scope", "other-cluster", "owner", "admin")
FEED = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//T//EN\r\nBEGIN:VEVENT\r\nUID:matrix-1\r\n"
    b"DTSTAMP:20300101T000000Z\r\nDTSTART;VALUE=DATE:20300601\r\nDTEND;VALUE=DATE:20300603\r\n"
    b"SUMMARY:Mission to Lima\r\nLOCATION:Lima, Peru\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # formatted with the world's ids
    body: Any = None
    owner: str = "alpha"  # whose key is the owner's: a cluster slug, "unbound", "bulk" or "admin"
    other: int = 404  # what a key bound to another cluster gets
    content_type: str | None = None


OPERATIONS = [
    Operation("create cluster", "POST", "/v1/clusters", lambda w: factories.cluster(), owner="unbound", other=403),
    Operation("change cluster", "PATCH", "/v1/clusters/alpha", {"city": "Lyon"}),
    Operation("delete cluster", "DELETE", "/v1/clusters/delta", owner="delta"),
    Operation("create partnership", "POST", "/v1/partnerships",
              lambda w: factories.partnership(members=[{"cluster": "alpha", "role": "coordinator"}]), other=403),
    Operation("change partnership", "PATCH", "/v1/partnerships/pa", {"name": "Renamed"}),
    Operation("delete partnership", "DELETE", "/v1/partnerships/pa"),
    Operation("add member", "POST", "/v1/partnerships/pa/members", {"cluster": "delta"}),
    # Making another cluster a coordinator is not for a bound key, even the coordinator's.
    Operation("change member", "PATCH", "/v1/partnerships/pa/members/gamma", {"role": "coordinator"}, owner="unbound"),
    Operation("remove member", "DELETE", "/v1/partnerships/pa/members/gamma"),
    Operation("create mission", "POST", "/v1/missions",
              lambda w: factories.mission(organisers={"clusters": ["alpha"]}), other=403),
    Operation("change mission", "PATCH", "/v1/missions/{mission}", {"title": "Renamed"}),
    Operation("delete mission", "DELETE", "/v1/missions/{mission}"),
    Operation("add participant", "POST", "/v1/missions/{mission}/participants", {"cluster": "delta"}, other=403),
    Operation("change participant", "PATCH", "/v1/missions/{mission}/participants/gamma", {"smes": 9}),
    Operation("remove participant", "DELETE", "/v1/missions/{mission}/participants/gamma"),
    Operation("create agreement", "POST", "/v1/agreements", lambda w: factories.agreement(clusters=["alpha"]), other=403),
    Operation("change agreement", "PATCH", "/v1/agreements/{agreement}", {"title": "Renamed"}),
    Operation("delete agreement", "DELETE", "/v1/agreements/{agreement}"),
    Operation("create opportunity", "POST", "/v1/opportunities",
              lambda w: factories.opportunity(posted_by={"cluster": "alpha"}), other=403),
    Operation("change opportunity", "PATCH", "/v1/opportunities/{opportunity}", {"title": "Renamed"}),
    Operation("delete opportunity", "DELETE", "/v1/opportunities/{opportunity}"),
    Operation("write market study", "PUT", "/v1/target-markets/CA", {"trends": "Cleantech"}, owner="unbound"),
    Operation("change market study", "PATCH", "/v1/target-markets/US", {"growth": "Fast"}, owner="unbound"),
    Operation("delete market study", "DELETE", "/v1/target-markets/US", owner="unbound"),
    Operation("register calendar source", "POST", "/v1/calendar-sources",
              lambda w: {"url": w["feed"] + "?new", "cluster": "alpha"}, other=403),
    # A calendar source is listed publicly with its cluster: another cluster's key is refused
    # openly (403), not told it does not exist.
    Operation("change calendar source", "PATCH", "/v1/calendar-sources/{source}", {"organiser": "ECCP"}, other=403),
    Operation("delete calendar source", "DELETE", "/v1/calendar-sources/{source}", other=403),
    Operation("sync calendar source", "POST", "/v1/calendar-sources/{source}/sync", other=403),
    Operation("import calendar", "POST", "/v1/missions/import?source={source}", FEED, other=403,
              content_type="text/calendar"),
    Operation("create sector", "POST", "/v1/sectors", {"code": "quantum", "name": "Quantum"}, owner="admin", other=403),
    Operation("change sector", "PATCH", "/v1/sectors/spare", {"name": "Spare parts"}, owner="admin", other=403),
    Operation("delete sector", "DELETE", "/v1/sectors/spare", owner="admin", other=403),
    Operation("issue key", "POST", "/v1/api-keys", {"name": "new", "scope": "write"}, owner="admin", other=403),
    Operation("revoke key", "DELETE", "/v1/api-keys/{spare_key}", owner="admin", other=403),
    Operation("bulk load", "POST", "/v1/bulk/clusters", b'{"slug": "bulk-1", "name": "Bulk", "country": "FR"}\n',
              owner="bulk", other=403, content_type="application/x-ndjson"),
]


@pytest.fixture(scope="module")
def feed():
    with FeedServer() as server:
        server.routes["/feed.ics"] = Route(FEED, headers={"Content-Type": "text/calendar"})
        yield server


@pytest.fixture
def settings():
    return local_feed_settings(fetch_timeout_seconds=2)


@pytest.fixture
async def world(client, session, feed):
    """Records owned by cluster alpha, and keys of every kind."""
    for slug in ("alpha", "beta", "gamma", "delta"):
        await factories.create(client, "/v1/clusters", factories.cluster(slug=slug))
    await factories.create(client, "/v1/partnerships", factories.partnership(
        slug="pa", members=[{"cluster": "alpha", "role": "coordinator"}, {"cluster": "gamma"}]))
    mission = await factories.create(client, "/v1/missions", factories.mission(organisers={"clusters": ["alpha"]}))
    await factories.create(client, f"/v1/missions/{mission['id']}/participants", {"cluster": "gamma", "smes": 3})
    agreement = await factories.create(client, "/v1/agreements", factories.agreement(clusters=["alpha"]))
    opportunity = await factories.create(client, "/v1/opportunities", factories.opportunity(posted_by={"cluster": "alpha"}))
    assert (await client.put("/v1/target-markets/US", json={"trends": "AI"})).status_code == 201
    await factories.create(client, "/v1/sectors", {"code": "spare", "name": "Spare"})
    source = await factories.create(client, "/v1/calendar-sources", {"url": feed.url("/feed.ics"), "cluster": "alpha"})
    spare_key = await factories.create(client, "/v1/api-keys", {"name": "spare"})
    revoked = await issue_key(session, "admin")
    assert (await client.delete(f"/v1/api-keys/{revoked.split('_')[1]}")).status_code == 204
    keys = {
        "revoked": revoked,
        "bad": "pop_000000000000_" + "x" * 43,
        "read": await issue_key(session, "read"),
        "unbound": await issue_key(session, "write"),
        "bulk": await issue_key(session, "bulk"),
        "admin": await issue_key(session, "admin"),
        **{slug: await issue_key(session, "write", slug) for slug in ("alpha", "beta", "delta")},
    }
    ids = {"mission": mission["id"], "agreement": agreement["id"], "opportunity": opportunity["id"],
           "source": source["id"], "spare_key": spare_key["id"], "feed": feed.url("/feed.ics")}
    return ids, keys


def _key(operation: Operation, caller: str, keys: dict) -> str | None:
    if caller == "none":
        return None
    if caller in ("bad", "revoked", "admin"):
        return keys[caller]
    if caller == "owner":
        return keys[operation.owner]
    if caller == "other-cluster":
        return keys["beta"]
    # wrong scope: one step below what the operation needs
    return keys["unbound"] if operation.owner in ("admin", "bulk") else keys["read"]


def _expected(operation: Operation, caller: str) -> set[int]:
    if caller in ("none", "bad", "revoked"):
        return {401}
    if caller == "wrong-scope":
        return {403}
    if caller == "other-cluster":
        return {operation.other}
    return {200, 201, 204}


async def _snapshot(session) -> dict[str, str]:
    return {
        table: await session.scalar(text(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {table} x"))
        for table in TABLES
    }


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.name for o in OPERATIONS])
async def test_only_the_owner_and_admins_may_write(app, session, world, operation, caller):
    ids, keys = world
    path = operation.path.format(**ids)
    body = operation.body(ids) if callable(operation.body) else operation.body
    before = await _snapshot(session)
    async with make_client(app, _key(operation, caller, keys)) as client:
        if isinstance(body, bytes):
            response = await client.request(operation.method, path, content=body, headers={"Content-Type": operation.content_type})
        else:
            response = await client.request(operation.method, path, json=body)
    assert response.status_code in _expected(operation, caller), (caller, response.status_code, response.text)
    after = await _snapshot(session)
    if response.status_code >= 400:
        assert after == before, f"{operation.name} by {caller} answered {response.status_code} but changed data"
        assert response.headers["content-type"].startswith("application/problem+json")
        if response.status_code == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
    else:
        assert after != before, f"{operation.name} by {caller} succeeded without changing anything"


# Bound keys name other clusters only as they already stand ---------------------------------

COORDINATORS = [{"cluster": "alpha", "role": "coordinator"}, {"cluster": "delta", "role": "coordinator"}]


@dataclass(frozen=True)
class Naming:
    name: str
    method: str
    path: str
    body: Any
    bound: int  # what alpha's key gets (the admin always succeeds)


NAMINGS = [
    Naming("partnership with another coordinator", "POST", "/v1/partnerships",
           lambda w: factories.partnership(members=COORDINATORS), 403),
    Naming("partnership with another cluster as partner", "POST", "/v1/partnerships",
           lambda w: factories.partnership(members=[{"cluster": "alpha", "role": "coordinator"}, {"cluster": "delta"}]),
           201),
    Naming("PATCH members: another coordinator", "PATCH", "/v1/partnerships/pa", {"members": COORDINATORS}, 403),
    Naming("add another cluster as coordinator", "POST", "/v1/partnerships/pa/members",
           {"cluster": "delta", "role": "coordinator"}, 403),
    Naming("add another cluster as partner", "POST", "/v1/partnerships/pa/members", {"cluster": "delta"}, 201),
    Naming("promote a partner", "PATCH", "/v1/partnerships/pa/members/gamma", {"role": "coordinator"}, 403),
    Naming("demote a co-coordinator", "PATCH", "/v1/partnerships/shared/members/delta", {"role": "partner"}, 403),
    Naming("remove a co-coordinator", "DELETE", "/v1/partnerships/shared/members/delta", None, 403),
    Naming("rename a shared partnership", "PATCH", "/v1/partnerships/shared", {"name": "Renamed"}, 200),
    Naming("mission with another organiser", "POST", "/v1/missions",
           lambda w: factories.mission(organisers={"clusters": ["alpha", "delta"]}), 403),
    Naming("PATCH mission: another organiser", "PATCH", "/v1/missions/{mission}",
           {"organisers": {"clusters": ["alpha", "delta"]}}, 403),
    Naming("PATCH mission: drop a co-organiser", "PATCH", "/v1/missions/{shared_mission}",
           {"organisers": {"clusters": ["alpha"]}}, 403),
    Naming("rename a shared mission", "PATCH", "/v1/missions/{shared_mission}", {"title": "Renamed"}, 200),
    Naming("mission organised by a partnership it does not coordinate", "POST", "/v1/missions",
           lambda w: factories.mission(organisers={"clusters": ["alpha"], "partnerships": ["pd"]}), 403),
    Naming("mission organised by a partnership it coordinates", "POST", "/v1/missions",
           lambda w: factories.mission(organisers={"clusters": ["alpha"], "partnerships": ["pa"]}), 201),
    Naming("agreement with another party", "POST", "/v1/agreements",
           lambda w: factories.agreement(clusters=["alpha", "delta"]), 403),
    Naming("PATCH agreement: another party", "PATCH", "/v1/agreements/{agreement}", {"clusters": ["alpha", "delta"]}, 403),
    Naming("PATCH agreement: drop a co-party", "PATCH", "/v1/agreements/{shared_agreement}", {"clusters": ["alpha"]}, 403),
    Naming("rename a shared agreement", "PATCH", "/v1/agreements/{shared_agreement}", {"title": "Renamed"}, 200),
    Naming("opportunity posted by another cluster", "POST", "/v1/opportunities",
           lambda w: factories.opportunity(posted_by={"cluster": "delta"}), 403),
    Naming("PATCH opportunity: another poster", "PATCH", "/v1/opportunities/{opportunity}",
           {"posted_by": {"cluster": "delta"}}, 403),
]


@pytest.fixture
async def shared(client, world):
    """Besides the world: records alpha holds together with delta, set up by an admin."""
    ids, keys = world
    await factories.create(client, "/v1/partnerships", factories.partnership(slug="shared", members=COORDINATORS))
    await factories.create(client, "/v1/partnerships", factories.partnership(
        slug="pd", members=[{"cluster": "delta", "role": "coordinator"}, {"cluster": "alpha"}]))
    mission = await factories.create(client, "/v1/missions", factories.mission(organisers={"clusters": ["alpha", "delta"]}))
    agreement = await factories.create(client, "/v1/agreements", factories.agreement(clusters=["alpha", "delta"]))
    return {**ids, "shared_mission": mission["id"], "shared_agreement": agreement["id"]}, keys


@pytest.mark.parametrize("caller", ["alpha", "admin"])
@pytest.mark.parametrize("naming", NAMINGS, ids=[n.name for n in NAMINGS])
async def test_a_bound_key_never_makes_another_cluster_an_owner(app, session, shared, naming, caller):
    ids, keys = shared
    body = naming.body(ids) if callable(naming.body) else naming.body
    before = await _snapshot(session)
    async with make_client(app, keys[caller]) as client:
        response = await client.request(naming.method, naming.path.format(**ids), json=body)
    if caller == "admin":  # admin keys are unrestricted
        assert 200 <= response.status_code < 300, response.text
    else:
        assert response.status_code == naming.bound, response.text
    if response.status_code >= 400:
        assert await _snapshot(session) == before, f"{naming.name} was refused but changed data"
