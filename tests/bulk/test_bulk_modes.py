"""Strict, partial and dry-run loads, and exact created/updated/unchanged counts."""

from sqlalchemy import text

from tests import factories
from tests.bulk.helpers import counts, find, load, ndjson, report
from tests.ops.test_metrics import sample
from tests.problems import assert_problem


async def _versions(session, table: str, key: str) -> dict[str, int]:
    rows = await session.execute(text(f"SELECT {key}, version FROM {table}"))
    return dict(rows.all())


async def _count(session, table: str) -> int:
    return await session.scalar(text(f"SELECT count(*) FROM {table}"))


async def test_strict_mode_with_one_bad_row_at_the_end_commits_nothing(client, session):
    rows = [factories.cluster() for _ in range(50)] + [{"slug": "last", "name": "Last", "country": "XX"}]
    response = await load(client, "clusters", ndjson(*rows))
    problem = assert_problem(response, 422)
    assert problem["type"] == "/problems/rows-rejected"
    report = problem["report"]
    assert (report["received"], report["rejected"], report["committed"]) == (51, 1, False)
    assert report["errors"] == [{"line": 51, "field": "country", "message": "'XX' is not an ISO 3166-1 alpha-2 country code"}]
    assert report["created"] == 50  # what would have happened
    assert await _count(session, "clusters") == 0


async def test_partial_mode_commits_the_valid_rows(client, session):
    rows = [factories.cluster() for _ in range(10)]
    rows[3] = {"slug": "no-name", "country": "FR"}
    rows[7]["founded_year"] = "soon"
    body = await report(client, "clusters", ndjson(*rows), mode="partial")
    assert counts(body) == (8, 0, 0, 2) and body["committed"]
    assert body["created"] + body["updated"] + body["unchanged"] + body["rejected"] == body["received"] == 10
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(4, "name"), (8, "founded_year")]
    assert await _count(session, "clusters") == 8


async def test_dry_run_changes_nothing(client, session):
    existing = factories.cluster()
    await report(client, "clusters", ndjson(existing))
    versions = await _versions(session, "clusters", "slug")
    edited = existing | {"name": "Renamed"}
    body = await report(client, "clusters", ndjson(edited, factories.cluster(), {"slug": "x"}), dry_run=True, mode="partial")
    assert counts(body) == (1, 1, 0, 1) and body["dry_run"] and not body["committed"]
    # Strict dry runs answer 200 too: nothing was attempted.
    assert (await load(client, "clusters", ndjson({"slug": "x"}), dry_run=True)).status_code == 200
    assert await _versions(session, "clusters", "slug") == versions
    assert (await find(client, "clusters", existing["slug"]))["name"] == existing["name"]


async def test_reload_is_all_unchanged_and_an_edit_counts_exactly(client, session):
    clusters = [factories.cluster() for _ in range(3)]
    await report(client, "clusters", ndjson(*clusters))
    missions = [factories.mission(organisers={"clusters": [clusters[0]["slug"]]}) for _ in range(6)]
    assert counts(await report(client, "missions", ndjson(*missions))) == (6, 0, 0, 0)
    before = await _versions(session, "missions", "external_id")
    stamps = dict((await session.execute(text("SELECT external_id, updated_at FROM missions"))).all())

    assert counts(await report(client, "missions", ndjson(*missions))) == (0, 0, 6, 0)
    assert await _versions(session, "missions", "external_id") == before

    missions[0]["title"] = "Renamed"  # a column
    missions[1]["organisers"] = {"clusters": [clusters[1]["slug"], clusters[0]["slug"]]}  # only the organisers
    missions[2]["sectors"] = ["photonics", "aerospace"]
    new = factories.mission()
    assert counts(await report(client, "missions", ndjson(*missions, new))) == (1, 3, 3, 0)

    after = await _versions(session, "missions", "external_id")
    edited = {m["external_id"] for m in missions[:3]}
    for external_id, version in before.items():
        assert after[external_id] == version + (1 if external_id in edited else 0), external_id
    assert after[new["external_id"]] == 1
    later = dict((await session.execute(text("SELECT external_id, updated_at FROM missions"))).all())
    assert {k for k in stamps if later[k] != stamps[k]} == edited
    # The iCalendar SEQUENCE is the version: it grew for the edited missions only.
    assert (await find(client, "missions", missions[1]["external_id"]))["sequence"] == 1
    assert (await find(client, "missions", missions[4]["external_id"]))["sequence"] == 0
    renamed = await find(client, "missions", missions[1]["external_id"])
    assert [c["slug"] for c in renamed["organisers"]["clusters"]] == [clusters[1]["slug"], clusters[0]["slug"]]


async def test_members_are_merged_as_a_set(client, session):
    clusters = [factories.cluster() for _ in range(3)]
    await report(client, "clusters", ndjson(*clusters))
    a, b, c = (x["slug"] for x in clusters)
    partnership = factories.partnership(members=[{"cluster": a, "role": "coordinator"}, {"cluster": b}])
    assert counts(await report(client, "partnerships", ndjson(partnership))) == (1, 0, 0, 0)
    joined = dict((await session.execute(text("SELECT c.slug, m.joined_at FROM partnership_members m JOIN clusters c ON c.id = m.cluster_id"))).all())

    same_set = partnership | {"members": [{"cluster": b}, {"cluster": a, "role": "coordinator"}]}  # order differs
    assert counts(await report(client, "partnerships", ndjson(same_set))) == (0, 0, 1, 0)

    changed = partnership | {"members": [{"cluster": b, "role": "coordinator"}, {"cluster": c}]}
    assert counts(await report(client, "partnerships", ndjson(changed))) == (0, 1, 0, 0)
    stored = await find(client, "partnerships", partnership["slug"])
    assert {(m["cluster"]["slug"], m["role"]) for m in stored["members"]} == {(b, "coordinator"), (c, "partner")}
    after = dict((await session.execute(text("SELECT c.slug, m.joined_at FROM partnership_members m JOIN clusters c ON c.id = m.cluster_id"))).all())
    assert after[b] == joined[b]  # a member who stays keeps its membership
    assert (await _versions(session, "partnerships", "slug"))[partnership["slug"]] == 2


async def test_records_created_through_the_api_reload_unchanged(client):
    """Bulk stores exactly what the API stores, so loading the same record again is a no-op."""
    cluster = await factories.create(client, "/v1/clusters", factories.cluster(region={"code": "FR10"}))
    body = {k: cluster[k] for k in factories.cluster() if k in cluster} | {"region": {"code": "FR10"}}
    assert counts(await report(client, "clusters", ndjson(body))) == (0, 0, 1, 0)
    agreement = factories.agreement(clusters=[cluster["slug"]])
    await factories.create(client, "/v1/agreements", agreement)
    assert counts(await report(client, "agreements", ndjson(agreement))) == (0, 0, 1, 0)
    await client.put("/v1/target-markets/US", json={"trends": "Up", "support_organisations": [{"name": "SelectUSA"}]})
    market = {"country": "US", "trends": "Up", "support_organisations": [{"name": "SelectUSA"}]}
    assert counts(await report(client, "target-markets", ndjson(market))) == (0, 0, 1, 0)


async def test_loads_are_counted_in_the_bulk_rows_metric(client):
    before = {outcome: sample("bulk_rows_total", resource="clusters", outcome=outcome) for outcome in ("created", "rejected")}
    body = ndjson(factories.cluster(), factories.cluster(), {"slug": "bad", "name": "Bad", "country": "XX"})
    assert (await load(client, "clusters", body, mode="partial")).status_code == 200
    assert sample("bulk_rows_total", resource="clusters", outcome="created") == before["created"] + 2
    assert sample("bulk_rows_total", resource="clusters", outcome="rejected") == before["rejected"] + 1
