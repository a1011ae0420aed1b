from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from service.access import service
from service.access.principal import Admin
from service.access.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyInfo
from service.db import SessionDep
from service.kit.clock import ClockDep
from service.kit.pagination import Page

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.get("", summary="List API keys (admin)")
async def list_api_keys(
    session: SessionDep, admin: Admin,
    include_revoked: Annotated[bool, Query(description="Also list revoked keys.")] = False,
) -> Page[ApiKeyInfo]:
    return Page[ApiKeyInfo](items=await service.listing(session, include_revoked), next_cursor=None)


@router.post("", status_code=201, summary="Issue an API key (admin); the key is shown once")
async def create_api_key(session: SessionDep, admin: Admin, response: Response, body: ApiKeyCreate) -> ApiKeyCreated:
    created = await service.create(session, body)
    response.headers["Location"] = f"/v1/api-keys/{created.id}"
    response.headers["Cache-Control"] = "no-store"
    return created


@router.delete("/{api_key}", status_code=204, summary="Revoke an API key (admin)")
async def revoke_api_key(
    session: SessionDep, admin: Admin, clock: ClockDep,
    # Not `{key}`: that names the secret in the create answer, which never goes in a URL.
    api_key: Annotated[str, Path(min_length=1, max_length=40, description="The key's id or prefix.")],
) -> None:
    await service.revoke(session, api_key, clock)
