"""Who is calling: the key rate limits (and, later, ownership and idempotency) count against.

Until API keys exist, a caller that sends an Authorization header is known by the SHA-256 of
its credentials, and anyone else by network address. Authentication plugs in by setting
`scope["state"]["client_identity"]` (e.g. to `ClientIdentity("key", key_id)`) before the
rate limiter runs, or by setting `app.state.identity_resolver` to a resolver of its own;
everything downstream only ever reads `client_identity(scope)`.
"""

import hashlib
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache

from starlette.datastructures import Headers
from starlette.types import Scope

STATE_KEY = "client_identity"


@dataclass(frozen=True)
class ClientIdentity:
    kind: str  # "key" (an API key id), "token" (a credential digest) or "address"
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


IdentityResolver = Callable[[Scope], Awaitable[ClientIdentity]]


def _bearer_digest(authorization: str) -> str:
    scheme, _, credentials = authorization.partition(" ")
    secret = credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else authorization
    return hashlib.sha256(secret.encode()).hexdigest()


def client_address(scope: Scope) -> str:
    """The client's network address (an IPv6 client's /64)."""
    client = scope.get("client")
    if not client:
        return "unknown"
    return _counted_address(str(client[0]))


@lru_cache(maxsize=4096)  # parsing an address costs more than the rest of a limiter check
def _counted_address(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        # One IPv6 host usually owns a whole /64: counting per address would let it
        # rotate through billions of them.
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


async def resolve_identity(scope: Scope) -> ClientIdentity:
    """The default resolver: credentials digest if any, else the client's address."""
    authorization = Headers(scope=scope).get("authorization")
    if authorization:
        return ClientIdentity("token", _bearer_digest(authorization))
    return ClientIdentity("address", client_address(scope))


async def client_identity(scope: Scope) -> ClientIdentity:
    """The request's identity, resolved once (by the app's resolver) and kept in its state."""
    state = scope.setdefault("state", {})
    identity: ClientIdentity | None = state.get(STATE_KEY)
    if identity is None:
        app = scope.get("app")
        resolver = getattr(getattr(app, "state", None), "identity_resolver", None) or resolve_identity
        identity = state[STATE_KEY] = await resolver(scope)
    return identity
