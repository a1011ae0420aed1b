"""Saved searches: CRUD, the query checked as the search checks it, ownership by key, results
equal to the search's own, and the Atom feed behind its token."""

import feedparser
import pytest

from tests import factories
from tests.conftest import issue_key, make_client
from tests.lists import collect
from tests.problems import assert_problem
from tests.saved_searches.conftest import PATH, save


async def test_create_get_list_patch_delete(client):
    response = await client.post(PATH, json={"name": "US photonics", "query": {"country": ["us"], "sector": ["photonics"]}})
    assert response.status_code == 201, response.text
    saved = response.json()
    assert response.headers["location"] == f"{PATH}/{saved['id']}" and response.headers["etag"]
    assert saved["query"]["country"] == ["US"] and saved["query"]["sector"] == ["photonics"]
    assert saved["results"] == f"{PATH}/{saved['id']}/results"
    assert saved["feed"]["url"] == f"{PATH}/{saved['id']}/feed.atom?token={saved['feed']['token']}"

    got = await client.get(f"{PATH}/{saved['id']}")
    assert got.json() == saved
    assert (await client.get(f"{PATH}/{saved['id']}", headers={"If-None-Match": got.headers["etag"]})).status_code == 304
    assert [s["id"] for s in await collect(client, PATH, {"limit": 1})] == [saved["id"]]

    changed = await client.patch(f"{PATH}/{saved['id']}", json={"query": {"q": "lasers"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["query"]["q"] == "lasers" and changed.json()["query"]["country"] == []
    assert changed.json()["name"] == "US photonics"
    stale = await client.patch(f"{PATH}/{saved['id']}", json={"name": "x"}, headers={"If-Match": got.headers["etag"]})
    assert_problem(stale, 412)
    assert_problem(await client.patch(f"{PATH}/{saved['id']}", json={"name": None}), 422, "body.name")
    renamed = await client.patch(f"{PATH}/{saved['id']}", json={"name": "Lasers"}, headers={"If-Match": changed.headers["etag"]})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Lasers"

    assert (await client.delete(f"{PATH}/{saved['id']}")).status_code == 204
    assert_problem(await client.get(f"{PATH}/{saved['id']}"), 404)
    assert_problem(await client.get(f"{PATH}/not-a-uuid"), 404)


@pytest.mark.parametrize(("query", "location"), [
    ({"bogus": 1}, "body.query.bogus"),
    ({"country": ["XX"]}, "body.query.country.0"),
    ({"kind": ["party"]}, "body.query.kind.0"),
    ({"limit": 0}, "body.query.limit"),
    ({"sort": "title"}, "body.query.sort"),
    ({"sort": "relevance"}, "body.query.sort"),  # relevance needs q: the search's own rule
    ({"cursor": "abc"}, "body.query.cursor"),
    ({"deadline_after": "someday"}, "body.query.deadline_after"),
])
async def test_query_is_checked_as_the_search_checks_it(client, query, location):
    assert_problem(await client.post(PATH, json={"name": "bad", "query": query}), 422, location)
    # The search answers the same parameters with the same refusal (the cursor aside: it pages).
    if "cursor" not in query and "bogus" not in query:
        params = {k: v for k, v in query.items()}
        assert_problem(await client.get("/v1/opportunities", params=params), 422, location.replace("body.query", "query"))


async def test_a_patch_is_checked_too(client):
    saved = await save(client, {"q": "lasers"})
    assert_problem(await client.patch(f"{PATH}/{saved['id']}", json={"query": {"sort": "relevance"}}), 422, "body.query.sort")
    assert_problem(await client.patch(f"{PATH}/{saved['id']}", json={"query": {"open": "maybe"}}), 422, "body.query.open")


async def test_each_key_sees_only_its_own_and_an_admin_sees_all(app, session, client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    mine_key, other_key = await issue_key(session, "write", cluster["slug"]), await issue_key(session, "write")
    reader = await issue_key(session, "read")
    async with make_client(app, mine_key) as mine, make_client(app, other_key) as other, make_client(app, reader) as read_only:
        saved = await save(mine, {"country": ["US"]})
        theirs = await save(other, {"country": ["FR"]})
        assert [s["id"] for s in (await mine.get(PATH)).json()["items"]] == [saved["id"]]
        assert [s["id"] for s in (await other.get(PATH)).json()["items"]] == [theirs["id"]]
        assert {s["id"] for s in (await client.get(PATH)).json()["items"]} == {saved["id"], theirs["id"]}
        for path in (f"{PATH}/{saved['id']}", f"{PATH}/{saved['id']}/results"):
            assert_problem(await other.get(path), 404)
        assert_problem(await other.patch(f"{PATH}/{saved['id']}", json={"name": "mine now"}), 404)
        assert_problem(await other.post(f"{PATH}/{saved['id']}/feed-token"), 404)
        assert_problem(await other.delete(f"{PATH}/{saved['id']}"), 404)
        assert (await client.get(f"{PATH}/{saved['id']}")).status_code == 200
        assert_problem(await read_only.post(PATH, json={"name": "x", "query": {}}), 403)
        assert (await read_only.get(PATH)).json()["items"] == []
    async with make_client(app) as anonymous:
        assert_problem(await anonymous.get(PATH), 401)
        assert_problem(await anonymous.get(f"{PATH}/{saved['id']}"), 401)


@pytest.mark.parametrize("query", [
    {},
    {"country": ["US"], "sector": ["photonics"]},
    {"kind": ["call", "mission"], "open": False},
    {"q": "photonics", "highlight": True},
    {"cluster": ["photon-valley"]},
    {"partnership": ["laser-go"], "facets": True},
    {"deadline_after": "2030-01-20", "deadline_before": "2030-02-15", "sort": "-created"},
])
async def test_results_are_the_searchs_own(client, world, query):
    saved = await save(client, query | {"limit": 2})
    expected = await collect(client, "/v1/opportunities", query | {"limit": 2})
    assert await collect(client, saved["results"], {}) == expected
    assert await collect(client, saved["results"], {"limit": 3}) == expected
    first = (await client.get(saved["results"])).json()
    assert first == (await client.get("/v1/opportunities", params=query | {"limit": 2})).json()
    assert_problem(await client.get(saved["results"], params={"cursor": "forged"}), 422, "query.cursor")
    assert_problem(await client.get(saved["results"], params={"limit": 0}), 422, "query.limit")


async def test_atom_feed_parses_with_stable_ids_and_an_etag(anonymous, client, world):
    saved = await save(client, {"sector": ["photonics"], "open": False})
    response = await anonymous.get(saved["feed"]["url"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10" and parsed.feed.title == "Photonics in the US"
    expected = await collect(client, "/v1/opportunities", {"sector": ["photonics"], "open": False, "sort": "-created"})
    assert [e.id for e in parsed.entries] == [f"urn:uuid:{r['id']}" for r in expected]
    assert [e.title for e in parsed.entries] == [r["title"] for r in expected]
    assert parsed.entries[0].link == f"http://test{expected[0]['link']}"
    call = next(e for e in parsed.entries if e.id == f"urn:uuid:{world['call']['id']}")
    assert call.updated.startswith(world["call"]["updated_at"][:19])

    again = await anonymous.get(saved["feed"]["url"])
    assert again.content == response.content and again.headers["etag"] == response.headers["etag"]
    not_modified = await anonymous.get(saved["feed"]["url"], headers={"If-None-Match": response.headers["etag"]})
    assert not_modified.status_code == 304 and not not_modified.content

    await client.patch(f"/v1/opportunities/{world['call']['id']}", json={"title": "Call for photonics pilots, extended"})
    changed = await anonymous.get(saved["feed"]["url"], headers={"If-None-Match": response.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != response.headers["etag"]
    assert [e.id for e in feedparser.parse(changed.content).entries] == [e.id for e in parsed.entries]


async def test_feed_needs_its_token_and_rotating_revokes_it(anonymous, client, world):
    saved = await save(client, {"country": ["US"]})
    feed = f"{PATH}/{saved['id']}/feed.atom"
    assert_problem(await anonymous.get(feed), 422, "query.token")
    assert_problem(await anonymous.get(feed, params={"token": "guess"}), 404)
    other = await save(client, {"country": ["JP"]}, name="Japan")
    assert_problem(await anonymous.get(feed, params={"token": other["feed"]["token"]}), 404)

    rotated = await client.post(f"{PATH}/{saved['id']}/feed-token")
    assert rotated.status_code == 200, rotated.text
    token = rotated.json()["feed"]["token"]
    assert token != saved["feed"]["token"]
    assert_problem(await anonymous.get(saved["feed"]["url"]), 404)
    assert (await anonymous.get(rotated.json()["feed"]["url"])).status_code == 200
    assert (await client.get(f"{PATH}/{saved['id']}")).json()["feed"]["token"] == token


async def test_empty_feed_is_valid_atom(anonymous, client):
    saved = await save(client, {"q": "nothing-matches-this"})
    parsed = feedparser.parse((await anonymous.get(saved["feed"]["url"])).content)
    assert not parsed.bozo and parsed.entries == [] and parsed.feed.updated
