"""Who is asking, and what they may change.

Reads are public unless ACCESS__READS_REQUIRE_KEY is set. Writes need a key whose scope
covers them: `read` < `write` < `bulk` < `admin` (a `read` key only reads, for deployments
that keep reads private). A key bound to a cluster may change only that
cluster and what it owns; anything else answers 404, as if it did not exist, so a key cannot
probe what others hold. Services receive the principal and ask it.
"""

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from pydantic import BaseModel

from service.access import keys, repository
from service.errors import Forbidden, Unauthorized
from service.kit.app_state import primary_sessionmaker
from service.kit.http import Preconditions, PreconditionsDep
from service.models import ApiKey

LEVELS = {"read": 0, "write": 1, "bulk": 2, "admin": 3}
CHALLENGE = 'Bearer realm="partnerships"'


@dataclass(frozen=True)
class Principal:
    key_id: uuid.UUID | None = None
    scope: str | None = None
    cluster_id: uuid.UUID | None = None

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"

    @property
    def bound(self) -> bool:
        """Limited to one cluster and what it owns."""
        return self.cluster_id is not None and not self.is_admin

    def allows(self, scope: str) -> bool:
        return self.scope is not None and LEVELS[self.scope] >= LEVELS[scope]

    def owns(self, cluster_ids: Iterable[uuid.UUID | None]) -> bool:
        """Whether this principal may change something owned by any of these clusters."""
        return not self.bound or self.cluster_id in set(cluster_ids)

    def may_create(self, what: str, owners: Iterable[uuid.UUID | None]) -> None:
        """A bound key creates only what its own cluster will own."""
        if not self.owns(owners):
            raise Forbidden(f"A key bound to a cluster can only create {what} its cluster is part of.")

    def keeps(self, owners: Iterable[uuid.UUID | None], what: str) -> None:
        """A bound key may not change something so that its cluster no longer owns it."""
        if not self.owns(owners):
            raise Forbidden(f"The change would take {what} out of your cluster's hands.")

    def leaves_others_as_they_stand(
        self, before: Iterable[uuid.UUID | None], after: Iterable[uuid.UUID | None], role: str
    ) -> None:
        """A bound key gives an owning role (coordinator, organiser, party) only to its own
        cluster: naming another cluster so would let the key act and speak for it, and taking
        the role away would strip that cluster of what it holds without its consent. Other
        clusters keep exactly the roles they had (none, on a create)."""
        if not self.bound:
            return
        own = {self.cluster_id}
        if set(after) - own != set(before) - own:
            raise Forbidden(
                f"A key bound to a cluster may make only its own cluster {role}; "
                f"other clusters stay {role} exactly as they were (ask an unbound key for that change)."
            )

    def unbound_only(self, what: str) -> None:
        if self.bound:
            raise Forbidden(f"A key bound to a cluster cannot {what}.")


ANONYMOUS = Principal()
# Internal callers (demo loader, calendar sync, command line) act with full rights.
SYSTEM = Principal(scope="admin")


def _unauthorized(detail: str, error: str | None = None) -> Unauthorized:
    challenge = f'{CHALLENGE}, error="{error}"' if error else CHALLENGE
    return Unauthorized(detail, headers={"WWW-Authenticate": challenge})


async def _stored_key(request: Request, prefix: str) -> ApiKey | None:
    # A short session of its own, on the primary: a key issued or revoked a moment ago is
    # seen at once (a replica could lag), and the request's own session, if it has one,
    # is not held open for it.
    async with (await primary_sessionmaker(request))() as session:
        return await repository.by_prefix(session, prefix)


async def authenticate(request: Request) -> Principal:
    """The principal of the request's Authorization header (ANONYMOUS without one)."""
    if "principal" in request.scope.get("state", {}):
        return cast(Principal, request.scope["state"]["principal"])  # stored below, by an earlier call
    header = request.headers.get("authorization")
    principal = ANONYMOUS
    if header is not None:
        scheme, _, token = header.partition(" ")
        parsed = keys.parse(token.strip()) if scheme.lower() == "bearer" else None
        if parsed is None:
            raise _unauthorized("Send an API key as `Authorization: Bearer pop_...`.", "invalid_request")
        found = await _stored_key(request, parsed[0])
        if found is None or found.revoked_at is not None or not keys.matches(parsed[1], found.secret_hash):
            raise _unauthorized("The API key is not valid (unknown or revoked).", "invalid_token")
        principal = Principal(found.id, found.scope, found.cluster_id)
    request.scope.setdefault("state", {})["principal"] = principal
    return principal


def requires(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.scope is None:
            raise _unauthorized(f"This needs an API key with the {scope} scope.")
        if not principal.allows(scope):
            raise Forbidden(f"This needs an API key with the {scope} scope; this key has {principal.scope}.")
        return principal

    return dependency


async def read_access(request: Request, principal: Annotated[Principal, Depends(authenticate)]) -> None:
    """Every request: when reads require a key, anonymous callers are turned away."""
    if principal.scope is None and request.app.state.settings.access.reads_require_key:
        raise _unauthorized("Reading needs an API key (this deployment keeps its data private).")


Writer = Annotated[Principal, Depends(requires("write"))]
BulkLoader = Annotated[Principal, Depends(requires("bulk"))]
Admin = Annotated[Principal, Depends(requires("admin"))]


@dataclass(frozen=True)
class Write:
    """Everything a service must check before it changes something: who asks (and whether
    they own it), and whether they saw the current version (If-Match)."""

    principal: Principal
    preconditions: Preconditions

    def check(self, current: BaseModel, owners: Iterable[uuid.UUID | None], not_found: Exception) -> None:
        """Ownership first (a stranger learns nothing, not even that the ETag differs), then If-Match."""
        if not self.principal.owns(owners):
            raise not_found
        self.preconditions.check(current)


def writes(scope: str) -> Callable[[Principal, Preconditions], Awaitable[Write]]:
    async def dependency(
        principal: Annotated[Principal, Depends(requires(scope))], preconditions: PreconditionsDep
    ) -> Write:
        return Write(principal, preconditions)

    return dependency


WriteDep = Annotated[Write, Depends(writes("write"))]
AdminWriteDep = Annotated[Write, Depends(writes("admin"))]
SYSTEM_WRITE = Write(SYSTEM, Preconditions())
