"""Settings, read once from the environment.

Top-level names (DATABASE_URL, REDIS_URL) follow the usual conventions of hosting platforms;
everything else lives in a group and is set as GROUP__NAME, e.g. DB__POOL_SIZE=20.
"""

import ipaddress
import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from platformdirs import user_data_dir
from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.kit.languages import STEMMERS, LanguageCode

MIB = 1024 * 1024


class DatabaseSettings(BaseModel):
    pool_size: int = Field(10, ge=1, le=500, description="Connections kept open per process.")
    max_overflow: int = Field(10, ge=0, le=500, description="Extra connections under load.")
    pool_timeout: float = Field(5.0, gt=0, description="Seconds to wait for a free connection.")
    statement_timeout_ms: int = Field(15_000, ge=0, description="Per-statement limit; 0 disables.")
    echo: bool = Field(False, description="Log every SQL statement.")
    pre_ping: bool = Field(
        False,
        description="Test each connection before use (a round trip per request). Off: a connection lost in a "
        "database restart fails one request with 503 and the pool is renewed.",
    )
    connect_timeout: float = Field(
        2.0, gt=0, description="Seconds to wait for a new connection before answering 503."
    )
    pgbouncer: bool = Field(
        False,
        description="Connect through PgBouncer in transaction mode: no prepared-statement caches, "
        "unique statement names, statement timeout set per transaction.",
    )
    anonymous_share: float = Field(
        0.5, gt=0, le=1,
        description="Share of the process's connections (pool size plus overflow) that requests without an API key "
        "may hold at once; past it they wait up to DB__POOL_TIMEOUT, then answer 503.",
    )

    @property
    def anonymous_slots(self) -> int:
        return max(1, int((self.pool_size + self.max_overflow) * self.anonymous_share))


class EmbeddedSettings(BaseModel):
    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir("partnerships")) / "pgdata",
        description="Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset.",
    )


def _cidrs(value: list[str]) -> list[str]:
    for network in value:
        ipaddress.ip_network(network)  # raises ValueError for a bad CIDR
    return value


class CalendarSettings(BaseModel):
    fetch_timeout_seconds: float = Field(10.0, gt=0, le=300, description="Time limit for fetching one calendar feed.")
    max_feed_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="Largest calendar feed accepted, in bytes.")
    parse_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="CPU time a worker process may spend reading one feed; more rejects the feed."
    )
    parse_memory_bytes: int = Field(
        512 * 1024 * 1024, ge=256 * 1024 * 1024,
        description="Address space of the worker process that reads one feed; more rejects the feed.",
    )
    allow_networks: list[str] = Field(
        default_factory=list,
        description='Private networks calendar feeds may be fetched from, as a JSON list of CIDRs, e.g. ["10.0.0.0/8"]. '
        "Empty: only public addresses.",
    )

    _networks = field_validator("allow_networks")(_cidrs)


class WebhookSettings(BaseModel):
    allow_networks: list[str] = Field(
        default_factory=list,
        description='Private networks webhooks may deliver to, as a JSON list of CIDRs, e.g. ["10.0.0.0/8"]. '
        "Empty: only public addresses.",
    )
    timeout_seconds: float = Field(5.0, gt=0, le=60, description="Time limit for one delivery attempt (connect, send, answer).")
    max_response_bytes: int = Field(
        4096, ge=0, le=64 * 1024, description="How much of a receiver's answer is read and kept in the delivery log."
    )
    retry_delays_seconds: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0], min_length=1, max_length=20,
        description="Waits before each retry of a failed delivery, as a JSON list of seconds; when the last retry fails "
        "too, the delivery has failed and the webhook is disabled.",
    )
    retry_jitter: float = Field(
        0.1, ge=0, le=0.5, description="Each retry wait is varied at random by up to this share, either way."
    )
    retention_days: int = Field(30, ge=1, le=3650, description="Days the delivery log of finished deliveries is kept.")

    _networks = field_validator("allow_networks")(_cidrs)

    @field_validator("retry_delays_seconds")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise ValueError("retry delays cannot be negative")
        return value


class AccessSettings(BaseModel):
    reads_require_key: bool = Field(False, description="Require an API key for reads too (writes always need one).")
    if_match_required: bool = Field(
        False, description="Refuse PATCH, PUT and DELETE without If-Match (428), so no write can overwrite blindly."
    )
    idempotency_ttl_hours: int = Field(
        24, ge=1, le=24 * 365,
        description="How long the answer to a POST sent with an Idempotency-Key is kept; expired answers are purged.",
    )


class CursorSettings(BaseModel):
    secret: SecretStr | None = Field(
        None, min_length=16,
        description="Key list cursors are signed with (HMAC-SHA256), at least 16 characters; the same on every replica. "
        "Unset: a random key is generated once and kept in the database.",
    )


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
        None, description="Where bulk uploads and exports past a few MiB are spooled (uploads of `?async=true` jobs until "
        "stored in the database, and while a worker loads them); unset: the system's temporary folder.",
    )
    upload_timeout_seconds: float = Field(
        600.0, gt=0, description="Time a bulk upload may take to arrive whole; slower answers 408.",
    )
    export_send_timeout_seconds: float = Field(
        30.0, gt=0, description="Time an export's client may take to accept the next piece before it is cut off.",
    )
    max_exports: int = Field(8, ge=1, description="Exports a process runs at once; more answer 503.")
    max_exports_per_client: int = Field(2, ge=1, description="Exports one client may run at once; more answer 429.")
    max_jobs_per_key: int = Field(4, ge=1, description="`?async=true` jobs one API key may have waiting or running; more answer 429.")
    max_queued_bytes_per_key: int = Field(
        1024 * MIB, ge=1, description="Bytes of `?async=true` uploads one API key may have waiting or running; more answer 429 "
        "(413 for one upload larger than this).",
    )


class TaskSettings(BaseModel):
    in_process_worker: bool = Field(
        True, description="`partnerships serve` also runs a task worker in its own process (turn off where "
        "`partnerships worker` processes run beside it).",
    )
    concurrency: int = Field(4, ge=1, le=64, description="Tasks one worker runs at once (`partnerships worker --concurrency`).")
    stalled_after_seconds: float = Field(
        30.0, gt=0, description="A worker silent this long is taken for dead: its running tasks are retried.",
    )
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="Port on which `partnerships worker` serves its own /metrics (task counts and "
        "durations) on SERVER__HOST; unset: none (`serve`'s in-process worker reports in `serve`'s /metrics).",
    )


class MeetingSettings(BaseModel):
    schedule_seconds: float = Field(
        20.0, gt=0, le=600, description="Time the meeting scheduler may search for a better schedule of one mission.",
    )


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Interface `partnerships serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `partnerships serve` listens on.")
    graceful_timeout: float = Field(
        20.0, gt=0, description="Seconds in-flight requests get to finish after SIGTERM."
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies trusted to set X-Forwarded-For/-Proto (comma-separated, or `*`).",
    )
    workers: int = Field(
        1, ge=1, le=64, description="Processes `partnerships serve` answers requests in: one per core. Over 1, the task "
        "worker runs as one process of its own beside them, and rate limits need REDIS_URL.",
    )


class LimitSettings(BaseModel):
    reads_per_minute: int = Field(600, ge=0, description="GET/HEAD/OPTIONS requests per client per minute; 0 disables.")
    writes_per_minute: int = Field(120, ge=0, description="Other requests per client per minute; 0 disables.")
    auth_failures_per_minute: int = Field(
        20, ge=0, description="Refused credentials per client address per minute before its credentials go unchecked (429); 0 disables."
    )
    strategy: Literal["moving-window", "fixed-window", "sliding-window-counter"] = Field(
        "moving-window", description="How requests are counted against the per-minute limits."
    )
    max_json_bytes: int = Field(1 * MIB, ge=1, description="Largest request body outside /v1/bulk/.")
    max_bulk_bytes: int = Field(200 * MIB, ge=1, description="Largest request body under /v1/bulk/.")
    max_query_bytes: int = Field(8192, ge=1, description="Longest query string; longer answers 414.")
    max_query_params: int = Field(500, ge=1, description="Most query parameters; more answers 422.")
    max_json_depth: int = Field(
        64, ge=2, le=500, description="Deepest nesting of arrays and objects a JSON body may have; deeper answers 422."
    )


class LogSettings(BaseModel):
    format: Literal["json", "text"] = Field("json", description="`json`: one object per line; `text`: for people.")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Least severe level logged.")

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def _origin_list(value: object) -> object:
    """A JSON list, or the friendlier comma-separated form (origins, languages)."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if value.startswith("["):
        return json.loads(value)
    return [origin.strip() for origin in value.split(",") if origin.strip()]


class CorsSettings(BaseModel):
    allow_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins browsers may call the API from (comma-separated or a JSON list; `*` for any).",
    )

    _split = field_validator("allow_origins", mode="before")(_origin_list)


class SearchSettings(BaseModel):
    languages: Annotated[list[LanguageCode], NoDecode] = Field(
        default_factory=lambda: list(STEMMERS), min_length=1,
        description="Languages a text query is stemmed in when the request names none (neither `lang` nor "
        "Accept-Language), as a list of ISO 639-1 codes; default: every EU language PostgreSQL stems.",
    )

    reuse_facets: bool = Field(
        True, description="Reuse a search's facet counts for 30 seconds (each of its pages and sorts); false counts "
        "them afresh on every ask (what a search's first ask costs, e.g. to measure it).",
    )

    _split = field_validator("languages", mode="before")(_origin_list)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    database_url: str | None = Field(
        None, description="PostgreSQL URL; unset means an embedded PostgreSQL is started."
    )
    database_replica_url: str | None = Field(
        None, description="A read replica: GET and HEAD requests read from it when set."
    )
    redis_url: str | None = Field(
        None, description="Redis for the rate-limit counters, shared by replicas; unset: in memory."
    )
    db: DatabaseSettings = DatabaseSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    calendar: CalendarSettings = CalendarSettings()
    access: AccessSettings = AccessSettings()
    cursors: CursorSettings = CursorSettings()
    bulk: BulkSettings = BulkSettings()
    server: ServerSettings = ServerSettings()
    limits: LimitSettings = LimitSettings()
    log: LogSettings = LogSettings()
    cors: CorsSettings = CorsSettings()
    tasks: TaskSettings = TaskSettings()
    webhooks: WebhookSettings = WebhookSettings()
    meetings: MeetingSettings = MeetingSettings()
    search: SearchSettings = SearchSettings()


@lru_cache
def get_settings() -> Settings:
    return Settings()


def environment_variables(
    model: type[BaseModel] = Settings, prefix: str = ""
) -> Iterator[tuple[str, Any, str | None]]:
    """(variable, default, description) for every setting; the README documents each."""
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from environment_variables(field.annotation, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}", field.get_default(call_default_factory=True), field.description
