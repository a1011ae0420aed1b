"""A JSON operation sent another media type answers 415 naming the one it reads."""

import re

import pytest

from tests import factories
from tests.documented import document
from tests.problems import assert_problem


def json_body_operations() -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, operations in document()["paths"].items()
        for method, operation in operations.items()
        if list(operation.get("requestBody", {}).get("content", {})) == ["application/json"]
    ]


def test_every_body_documents_415():
    operations = [op for ops in document()["paths"].values() for op in ops.values() if "requestBody" in op]
    assert len(json_body_operations()) >= 20
    assert all("415" in op["responses"] for op in operations)


async def test_a_form_is_refused_with_415_and_nothing_changes(client):
    body = factories.cluster()
    response = await client.post("/v1/clusters", data={"slug": body["slug"], "name": body["name"]})
    problem = assert_problem(response, 415)
    assert response.headers["accept"] == "application/json" and "application/json" in problem["detail"]
    assert_problem(await client.get(f"/v1/clusters/{body['slug']}"), 404)


@pytest.mark.parametrize(
    "headers", [{"content-type": "text/plain"}, {"content-type": "application/xml"}, {"content-type": "multipart/form-data; boundary=x"}, {}],
    ids=["text", "xml", "multipart", "no content type"],
)
async def test_other_media_types_are_415(client, headers):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    response = await client.patch(f"/v1/clusters/{cluster['id']}", content=b'{"city": "Paris"}', headers=headers)
    assert_problem(response, 415)
    assert (await client.get(f"/v1/clusters/{cluster['id']}")).json()["city"] == cluster["city"]


async def test_json_media_types_are_read(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    for media in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.patch(f"/v1/clusters/{cluster['id']}", content=b'{"city": "Paris"}', headers={"content-type": media})
        assert response.status_code == 200, (media, response.text)
    # Malformed JSON and a missing body stay what they are: invalid input.
    assert_problem(await client.post("/v1/clusters", content=b"{", headers={"content-type": "application/json"}), 422)
    assert_problem(await client.post("/v1/clusters"), 422)


@pytest.mark.parametrize(("method", "path"), json_body_operations(), ids=lambda v: v)
async def test_every_json_operation_answers_415_to_a_form(client, method, path):
    url = re.sub(r"\{[^}]+\}", "nothing-here", path)
    response = await client.request(method.upper(), url, data={"a": "b"})
    assert_problem(response, 415)
