"""Settings, read once from the environment.

Top-level names (DATABASE_URL, REDIS_URL) follow the usual conventions of hosting platforms;
everything else lives in a group and is set as GROUP__NAME, e.g. DB__POOL_SIZE=20.
"""

import ipaddress
from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseModel):
    pool_size: int = Field(10, ge=1, le=500, description="Connections kept open per process.")
    max_overflow: int = Field(10, ge=0, le=500, description="Extra connections under load.")
    pool_timeout: float = Field(5.0, gt=0, description="Seconds to wait for a free connection.")
    statement_timeout_ms: int = Field(15_000, ge=0, description="Per-statement limit; 0 disables.")
    echo: bool = Field(False, description="Log every SQL statement.")


class EmbeddedSettings(BaseModel):
    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir("partnerships")) / "pgdata",
        description="Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset.",
    )


class CalendarSettings(BaseModel):
    fetch_timeout_seconds: float = Field(10.0, gt=0, le=300, description="Time limit for fetching one calendar feed.")
    max_feed_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="Largest calendar feed accepted, in bytes.")
    allow_networks: list[str] = Field(
        default_factory=list,
        description='Private networks calendar feeds may be fetched from, as a JSON list of CIDRs, e.g. ["10.0.0.0/8"]. '
        "Empty: only public addresses.",
    )

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network)  # raises ValueError for a bad CIDR
        return value


class BulkSettings(BaseModel):
    batch_rows: int = Field(5000, ge=100, le=100_000, description="Rows validated and copied to PostgreSQL per batch during a bulk load.")
    max_record_bytes: int = Field(
        1024 * 1024, ge=1024, le=64 * 1024 * 1024,
        description="Longest line (NDJSON) or record (CSV) a bulk load accepts, in bytes; a longer one is a rejected row.",
    )
    max_reported_errors: int = Field(1000, ge=1, le=100_000, description="Row errors a bulk report lists (its counts stay exact).")
    statement_timeout_ms: int = Field(
        3_600_000, ge=0,
        description="Per-statement limit during bulk loads and exports, replacing DB__STATEMENT_TIMEOUT_MS (merging a large file takes longer); 0 disables.",
    )
    idempotency_ttl_hours: int = Field(24, ge=1, le=24 * 365, description="How long a bulk load's Idempotency-Key and report are kept.")
    job_dir: Path | None = Field(
        None, description="Where uploads of `?async=true` bulk jobs are kept until processed; unset: the system's temporary folder.",
    )


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Interface `partnerships serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `partnerships serve` listens on.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    database_url: str | None = Field(
        None, description="PostgreSQL URL; unset means an embedded PostgreSQL is started."
    )
    db: DatabaseSettings = DatabaseSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    calendar: CalendarSettings = CalendarSettings()
    bulk: BulkSettings = BulkSettings()
    server: ServerSettings = ServerSettings()


@lru_cache
def get_settings() -> Settings:
    return Settings()


def environment_variables(model: type[BaseModel] = Settings, prefix: str = ""):
    """(variable, default, description) for every setting; the README documents each."""
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from environment_variables(field.annotation, f"{prefix}{name.upper()}__")
        else:
            default = field.default_factory() if field.default_factory else field.default
            yield f"{prefix}{name.upper()}", default, field.description
