"""Bulk loading and export of whole resources.

`POST /v1/bulk/{resource}` streams an NDJSON or CSV file (optionally gzip) through the
resource's create schema, copies the valid rows into a temporary staging table and merges
them into the resource's table in one set-based statement, keyed by the natural key.
`GET /v1/export/{resource}` writes every record back in exactly the shape the loader takes.

What differs between resources (schema, columns, references, child rows, CSV columns,
export query) is declared in one module per resource under `resources/`; everything else
(reading, validation, staging, merging, reports, idempotency) is shared.
"""
