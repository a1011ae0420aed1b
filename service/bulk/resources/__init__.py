"""The resources bulk loading and export know, by their name in URLs.

Adding one is one module here declaring its `Resource` (schema, table,
natural key, columns, references, child rows, CSV columns, export query) and one line below;
the endpoints, the CLI and the OpenAPI document pick it up from this registry.
"""

from service.bulk.resources import (
    agreements,
    clusters,
    markets,
    meeting_availability,
    meeting_requests,
    meeting_sessions,
    missions,
    opportunities,
    partnerships,
)
from service.bulk.spec import Resource

RESOURCES: dict[str, Resource] = {
    module.RESOURCE.name: module.RESOURCE
    for module in (clusters, partnerships, markets, missions, agreements, opportunities,
                   meeting_sessions, meeting_availability, meeting_requests)
}
