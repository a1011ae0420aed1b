"""The committed OpenAPI document is the app's, and follows the API's conventions."""

import json
import re
from pathlib import Path

from openapi_spec_validator import validate

from service.cli import openapi_text
from service.main import create_app
from tests import factories
from tests.documented import assert_documented, document

COMMITTED = Path(__file__).parent.parent / "openapi" / "openapi.json"


def test_committed_openapi_document_is_current():
    assert COMMITTED.exists(), "run `partnerships openapi` and commit openapi/openapi.json"
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(create_app()), (
        "openapi/openapi.json is stale: run `partnerships openapi` and commit the result"
    )


def test_operation_ids_are_unique_and_named_for_handlers():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert {"list_clusters", "get_cluster", "create_cluster", "update_cluster", "delete_cluster"} <= set(ids)


def test_every_operation_documents_problem_responses():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "422" in operation["responses"], (method, path)
            assert "application/problem+json" in operation["responses"]["422"]["content"], (method, path)


def test_required_acronym_is_stated_as_non_empty():
    # The service refuses an empty acronym; a client generated from the document must too.
    document = create_app().openapi()
    acronym = document["components"]["schemas"]["PartnershipCreate"]["properties"]["acronym"]
    assert acronym["minLength"] == 1 and acronym["maxLength"] == 120


# What a schema object may say: JSON Schema 2020-12's keywords and OpenAPI 3.1's own. Anything
# else (pydantic's `ge` on a date, say) is not a rule any client or validator will apply.
SCHEMA_KEYWORDS = {
    "$ref", "$defs", "$schema", "$id", "$comment", "$anchor", "$dynamicRef", "$dynamicAnchor",
    "type", "enum", "const", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "items", "prefixItems", "minItems", "maxItems",
    "uniqueItems", "contains", "minContains", "maxContains", "properties", "required", "additionalProperties",
    "patternProperties", "propertyNames", "minProperties", "maxProperties", "dependentRequired",
    "dependentSchemas", "unevaluatedItems", "unevaluatedProperties", "anyOf", "oneOf", "allOf", "not", "if",
    "then", "else", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
    "contentMediaType", "contentEncoding", "contentSchema",
    "discriminator", "xml", "externalDocs", "example",
}
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SUBSCHEMAS = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
              "unevaluatedItems", "unevaluatedProperties", "contentSchema")


def _schema_keywords(schema: dict, where: str):
    for key, value in schema.items():
        yield where, key
        if key in SUBSCHEMA_MAPS:
            for name, sub in value.items():
                yield from _schema_keywords(sub, f"{where}/{key}/{name}")
        elif key in SUBSCHEMAS and isinstance(value, dict):
            yield from _schema_keywords(value, f"{where}/{key}")
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for i, sub in enumerate(value):
                yield from _schema_keywords(sub, f"{where}/{key}/{i}")


def _every_schema(document: dict):
    for name, schema in document["components"]["schemas"].items():
        yield f"components/{name}", schema
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                yield f"{method} {path} {parameter['name']}", parameter["schema"]
            bodies = [operation.get("requestBody", {})] + list(operation["responses"].values())
            for body in bodies:
                for media, content in body.get("content", {}).items():
                    yield f"{method} {path} {media}", content.get("schema", {})


def test_schemas_use_only_json_schema_keywords():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    unknown = {
        (where, key) for name, schema in _every_schema(document) for where, key in _schema_keywords(schema, name)
        if key not in SCHEMA_KEYWORDS and not key.startswith("x-")
    }
    assert not unknown, sorted(unknown)[:20]


def test_schema_names_are_readable_and_one_per_shape():
    # Clients generate type names from these: no `Page_Cluster_`, no `-Input`/`-Output` twins.
    names = json.loads(COMMITTED.read_text(encoding="utf-8"))["components"]["schemas"]
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) for name in names), sorted(names)
    assert {"ClusterPage", "TargetMarketRef", "Counterpart", "Problem"} <= set(names)


def test_the_document_is_valid_openapi_3_1():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    validate(document)  # the OpenAPI 3.1 meta-schema, JSON Schema 2020-12 dialect included


async def test_problems_are_documented_as_they_are_sent(anonymous, client):
    # A 401 has no field errors; a 422 has them. Both must validate against `Problem`, whose
    # optional members are left out when there is nothing to say, never sent as null.
    unauthorised = await anonymous.post("/v1/clusters", json={})
    invalid = await client.post("/v1/clusters", json={"slug": "x"})
    assert (unauthorised.status_code, invalid.status_code) == (401, 422)
    assert "errors" not in unauthorised.json() and invalid.json()["errors"]
    for body in (unauthorised.json(), invalid.json()):
        assert_documented(body, "Problem")
        assert None not in body.values()
    problem = document()["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}
    for member in ("detail", "instance", "errors", "request_id"):
        assert "anyOf" not in problem["properties"][member] and "default" not in problem["properties"][member], member


async def test_answers_validate_against_the_document(client):
    # What a traffic validator would check: each answer against the schema its operation names.
    cluster = await factories.create(client, "/v1/clusters", factories.cluster(region={"code": "FR10", "name": "Ile-de-France"}))
    partnership = await factories.create(
        client, "/v1/partnerships", factories.partnership(members=[{"cluster": cluster["slug"], "role": "coordinator"}]),
    )
    mission = await factories.create(client, "/v1/missions", factories.mission(start_time="09:00", end_time="17:00", timezone="America/New_York"))
    agreement = await factories.create(client, "/v1/agreements", factories.agreement(clusters=[cluster["slug"]]))
    opportunity = await factories.create(client, "/v1/opportunities", factories.opportunity())
    for path, schema in [
        (f"/v1/clusters/{cluster['id']}", "Cluster"), ("/v1/clusters", "ClusterPage"),
        (f"/v1/partnerships/{partnership['id']}", "Partnership"), ("/v1/partnerships", "PartnershipPage"),
        (f"/v1/missions/{mission['id']}", "Mission"), ("/v1/missions", "MissionPage"),
        (f"/v1/agreements/{agreement['id']}", "Agreement"), ("/v1/agreements", "AgreementPage"),
        (f"/v1/opportunities/{opportunity['id']}", "Opportunity"), ("/v1/opportunities", "SearchPage"),
        ("/v1/target-markets", "TargetMarketPage"), ("/v1/sectors", "SectorPage"),
    ]:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert_documented(response.json(), schema)
