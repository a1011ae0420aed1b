"""Checks an answer against the schema the OpenAPI document gives for it, as a client
generated from the document (or a traffic validator) would read it."""

from functools import cache

import jsonschema

from service.main import create_app


@cache
def document() -> dict:
    return create_app().openapi()


def assert_documented(body, schema_name: str) -> None:
    """body validates against components/schemas/{schema_name}, formats included."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document()["components"]}
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors
