"""Whatever a file holds, bad rows are reported by line and field, never answered with a 500;
a body that is not the declared format at all is a problem."""

import gzip

import pytest

from tests import factories
from tests.bulk.helpers import CSV, NDJSON, counts, csv_file, load, ndjson, report
from tests.problems import assert_problem


def _errors(body: dict) -> list[tuple]:
    return [(e["line"], e["field"]) for e in body["errors"]]


async def test_duplicate_keys_reject_the_later_rows_naming_the_first(client):
    a, b = factories.cluster(), factories.cluster()
    body = await report(client, "clusters", ndjson(a, b, a | {"name": "Again"}, a), mode="partial")
    assert counts(body) == (2, 0, 0, 2)
    assert body["errors"] == [
        {"line": 3, "field": "slug", "message": f"duplicate slug '{a['slug']}': line 1 has it already"},
        {"line": 4, "field": "slug", "message": f"duplicate slug '{a['slug']}': line 1 has it already"},
    ]
    # The first row wins even when it is the invalid one: a duplicate is a fault of the file.
    c = factories.cluster()
    body = await report(client, "clusters", ndjson(c | {"country": "XX"}, c), mode="partial")
    assert counts(body) == (0, 0, 0, 2) and _errors(body) == [(1, "country"), (2, "slug")]
    # EL and GR are one country: one key.
    body = await report(client, "target-markets", ndjson({"country": "GR"}, {"country": "EL"}), mode="partial")
    assert counts(body) == (1, 0, 0, 1) and body["errors"][0]["message"] == "duplicate country 'GR': line 1 has it already"


async def test_unknown_references_are_rejected_rows(client):
    cluster = factories.cluster()
    await report(client, "clusters", ndjson(cluster))
    good = factories.partnership(members=[{"cluster": cluster["slug"]}])
    bad = factories.partnership(members=[{"cluster": cluster["slug"]}, {"cluster": "nobody"}])
    body = await report(client, "partnerships", ndjson(good, bad), mode="partial")
    assert counts(body) == (1, 0, 0, 1)
    assert body["errors"] == [{"line": 2, "field": "members.1.cluster", "message": "there is no cluster 'nobody'"}]

    mission = factories.mission(organisers={"partnerships": ["nowhere"]})
    agreement = factories.agreement(mission="no-mission", partnership="no-partnership", clusters=["ghost"])
    body = await report(client, "missions", ndjson(mission), mode="partial")
    assert body["errors"][0] == {"line": 1, "field": "organisers.partnerships.0", "message": "there is no partnership 'nowhere'"}
    body = await report(client, "agreements", ndjson(agreement), mode="partial")
    assert counts(body) == (0, 0, 0, 1)
    assert {e["field"] for e in body["errors"]} == {"clusters.0", "partnership", "mission"}


async def test_references_by_id_are_resolved_too(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    by_id = factories.partnership(members=[{"cluster": cluster["id"]}])
    assert counts(await report(client, "partnerships", ndjson(by_id))) == (1, 0, 0, 0)
    twice = factories.partnership(members=[{"cluster": cluster["id"]}, {"cluster": cluster["slug"]}])
    body = await report(client, "partnerships", ndjson(twice), mode="partial")
    assert body["errors"] == [{"line": 1, "field": "members", "message": "names the same cluster twice"}]


async def test_malformed_lines_wrong_types_bad_encodings_and_nul_bytes(client):
    ok = factories.cluster()
    lines = [
        b'{"slug": "broken", ',  # 1: malformed JSON
        ndjson(ok).strip(),  # 2: fine
        b'["an", "array"]',  # 3: not an object
        ndjson(factories.cluster(member_count="many")).strip(),  # 4: wrong type
        b'{"slug": "caf\xe9", "name": "x", "country": "FR"}',  # 5: Latin-1, not UTF-8
        b'{"slug": "nul", "name": "a\x00b", "country": "FR"}',  # 6: a raw NUL byte
        b'{"slug": "nul-escaped", "name": "a\\u0000b", "country": "FR"}',  # 7: an escaped NUL
        b'{"slug": "surrogate", "name": "\\ud800", "country": "FR"}',  # 8: a lone surrogate
        b"",  # 9: blank: skipped
        b"\xff\xfe\x00garbage",  # 10: binary
    ]
    body = await report(client, "clusters", b"\n".join(lines) + b"\n", mode="partial")
    assert body["received"] == 9 and counts(body) == (1, 0, 0, 8)
    errors = {e["line"]: e for e in body["errors"]}
    assert sorted(errors) == [1, 3, 4, 5, 6, 7, 8, 10]
    assert errors[1]["field"] is None and errors[1]["message"].startswith("Invalid JSON")
    assert errors[3]["message"] == "Input should be an object"
    assert errors[4]["field"] == "member_count"
    assert "unicode" in errors[5]["message"]
    assert errors[7] == {"line": 7, "field": "name", "message": "text must not contain NUL characters"}
    assert errors[8]["message"].startswith("Invalid JSON")  # pydantic refuses lone surrogates


async def test_csv_rows_with_bad_cells(client):
    good = factories.cluster()
    body = (
        b"slug,name,country,member_count\r\n"
        + f"{good['slug']},{good['name']},FR,10\r\n".encode()
        + b"too,few\r\n"
        + b"wrong-type,X,FR,many\r\n"
        + b"latin,Caf\xe9,FR,\r\n"
        + b"nul,a\x00b,FR,\r\n"
        + b'quoted,"multi\nline, name",FR,\r\n'
        + b'open,"never closed,FR,\r\n'
    )
    body = await report(client, "clusters", body, CSV, mode="partial")
    assert body["received"] == 7 and counts(body) == (2, 0, 0, 5)
    assert _errors(body) == [(3, None), (4, "member_count"), (5, None), (6, "name"), (9, None)]
    assert body["errors"][0]["message"] == "the row has 2 values; the header has 4 columns"
    assert body["errors"][2]["message"] == "the row is not valid UTF-8"


async def test_overlong_rows_are_rejected_without_holding_them(client, app):
    app.state.settings.bulk.max_record_bytes = 2048
    huge = factories.cluster(description="x" * 100_000)
    small = factories.cluster()
    body = await report(client, "clusters", ndjson(small, huge, small | {"slug": "after"}), mode="partial")
    assert counts(body) == (2, 0, 0, 1)
    assert body["errors"] == [{"line": 2, "field": None, "message": "the row is longer than 2048 bytes"}]


async def test_errors_listed_are_capped_but_counts_stay_exact(client, app):
    app.state.settings.bulk.max_reported_errors = 5
    body = await report(client, "clusters", ndjson(*({"slug": f"x{i}"} for i in range(40))), mode="partial")
    assert body["rejected"] == 40 and len(body["errors"]) == 5 and body["errors_truncated"]
    assert [e["line"] for e in body["errors"]] == [1, 1, 2, 2, 3]


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Content-Type": NDJSON, "Content-Encoding": "gzip"}, b'{"slug": "plain"}\n', 400),
        ({"Content-Type": NDJSON, "Content-Encoding": "gzip"}, gzip.compress(b'{"slug": "a"}\n' * 1000)[:-30], 400),
        ({"Content-Type": NDJSON, "Content-Encoding": "br"}, b"", 415),
        ({"Content-Type": "application/json"}, b"[]", 415),
        ({"Content-Type": "text/csv; charset=latin-1"}, b"slug\r\n", 415),
        ({"Content-Type": CSV}, b"slug,name,country,colour\r\n", 422),
        ({"Content-Type": CSV}, b"name,country\r\n", 422),
        ({"Content-Type": CSV}, b"slug,name,country,slug\r\n", 422),
        ({"Content-Type": CSV}, b"\xff\xfe,\r\n", 422),
    ],
)
async def test_bodies_that_are_not_the_declared_format(client, session, headers, body, status):
    response = await client.post("/v1/bulk/clusters", content=body, headers=headers)
    assert_problem(response, status)


async def test_a_bad_header_names_the_columns(client):
    response = await load(client, "clusters", csv_file(["slug", "name", "country", "colour"]), CSV)
    problem = assert_problem(response, 422, "body.header")
    assert problem["errors"] == [{"location": "body.header", "message": "unknown column 'colour'"}]
    assert "region.code" in problem["detail"]


async def test_empty_files(client):
    assert counts(await report(client, "clusters", b"")) == (0, 0, 0, 0)
    assert counts(await report(client, "clusters", b"", CSV)) == (0, 0, 0, 0)
    assert counts(await report(client, "clusters", b"slug,name,country\r\n", CSV)) == (0, 0, 0, 0)
    assert counts(await report(client, "clusters", b"\n\n", gzip=True)) == (0, 0, 0, 0)


async def test_unknown_resource(client):
    response = await client.post("/v1/bulk/planets", content=b"", headers={"Content-Type": NDJSON})
    assert_problem(response, 422)
