"""One settings object, read from the environment and `.env`.

The original API's variable names (`POSTGRES_*`, `REDIS_*`, `RATE_LIMIT_*`, `CORS_ORIGINS`,
`LOG_LEVEL`, `UVICORN_WORKERS`, `DB_POOL_SIZE`) keep their meaning; the platform's own settings are
prefixed `ORDERS_`. When neither a database nor a Redis is configured, `orders.embedded` starts
local ones in `data_dir`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _cores() -> int:
    """The cores this process may run on (Linux knows its affinity; elsewhere, the machine's)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    postgres_host: str | None = Field(default=None, alias="POSTGRES_HOST")
    postgres_port: int = Field(default=5432, alias="POSTGRES_PORT")
    postgres_db: str = Field(default="postgres", alias="POSTGRES_DB")
    postgres_user: str = Field(default="postgres", alias="POSTGRES_USER")
    postgres_password: SecretStr = Field(default=SecretStr(""), alias="POSTGRES_PASSWORD")
    db_pool_size: int = Field(default=20, ge=1, le=500, alias="DB_POOL_SIZE")

    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    redis_host: str | None = Field(default=None, alias="REDIS_HOST")
    redis_port: int = Field(default=6379, alias="REDIS_PORT")
    redis_db: int = Field(default=0, ge=0, alias="REDIS_DB")
    # the queue's Redis (RQ jobs, the wake-up flag, erasure notices, rate limits): one Redis,
    # apart from the read models' when those are on a cluster (default: the read models' Redis)
    redis_queue_url: str | None = Field(default=None, alias="REDIS_QUEUE_URL")

    data_dir: Path = Field(default=Path(".data"), alias="ORDERS_DATA_DIR")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    # FastAPI's native OpenTelemetry spans, metrics and logs (for a configured OTel collector)
    opentelemetry: bool = Field(default=False, alias="ORDERS_OPENTELEMETRY")
    # text, or json for log shippers: one object per line with time, level, service, logger,
    # request id, message and exception
    log_format: Literal["text", "json"] = Field(default="text", alias="LOG_FORMAT")

    rate_limit_enabled: bool = Field(default=True, alias="RATE_LIMIT_ENABLED")
    rate_limit_calls: int = Field(default=100, ge=1, alias="RATE_LIMIT_CALLS")
    rate_limit_period: int = Field(default=60, ge=1, alias="RATE_LIMIT_PERIOD")
    # Only these peers may set X-Forwarded-For / X-Real-IP (comma-separated addresses or CIDRs).
    trusted_proxies: str = Field(default="", alias="ORDERS_TRUSTED_PROXIES")
    cors_origins: str = Field(default="*", alias="CORS_ORIGINS")

    uvicorn_workers: int = Field(default=1, ge=1, alias="UVICORN_WORKERS")
    command_port: int = Field(default=8000, alias="ORDERS_COMMAND_PORT")
    command_workers: int | None = Field(default=None, ge=1, alias="ORDERS_COMMAND_WORKERS")
    query_workers: int | None = Field(default=None, ge=1, alias="ORDERS_QUERY_WORKERS")
    query_port: int = Field(default=8001, alias="ORDERS_QUERY_PORT")
    # how long a read carrying X-Consistency-Token may wait for its projection before a 503
    consistency_wait: float = Field(default=2.0, gt=0, le=60, alias="ORDERS_CONSISTENCY_WAIT")
    audit_token: SecretStr | None = Field(default=None, alias="ORDERS_AUDIT_TOKEN")
    # seals personal data (base64 of 32 bytes; `orders up` makes one once in development)
    master_key: SecretStr | None = Field(default=None, alias="ORDERS_MASTER_KEY")
    # the previous master key, while `orders keys rewrap` moves the data keys to the new one
    previous_master_key: SecretStr | None = Field(default=None, alias="ORDERS_PREVIOUS_MASTER_KEY")
    # false only to measure what sealing costs (orders bench): personal data then stays plain
    seal_personal_data: bool = Field(default=True, alias="ORDERS_SEAL_PERSONAL_DATA")
    # where erasures are registered, outside the database (default: <data dir>/erasures)
    erasure_register: Path | None = Field(default=None, alias="ORDERS_ERASURE_REGISTER")
    admin_token: SecretStr | None = Field(default=None, alias="ORDERS_ADMIN_TOKEN")
    # signed checkpoints of the feed head (`orders checkpoints sign`): the Ed25519 key, where the
    # checkpoints go (default: <data folder>/checkpoints), every N seconds or sooner after M events
    checkpoint_key: SecretStr | None = Field(default=None, alias="ORDERS_CHECKPOINT_KEY")
    checkpoint_dir: Path | None = Field(default=None, alias="ORDERS_CHECKPOINT_DIR")
    checkpoint_seconds: float = Field(
        default=10.0, gt=0, le=86_400, alias="ORDERS_CHECKPOINT_SECONDS"
    )
    checkpoint_events: int = Field(default=10_000, ge=1, alias="ORDERS_CHECKPOINT_EVENTS")
    # what a rebuild's loader processes may hold in all (bytes): it sets how many events each
    # reads at a time and how many run at once, never the result (streams are not kept)
    rebuild_memory: int = Field(default=1 << 30, ge=256 << 20, alias="ORDERS_REBUILD_MEMORY")
    # a rebuild's loader processes: one per core folds on every core (each part of a projection
    # is Python, one core per process); fewer leaves cores to the live services meanwhile. The
    # cores this process may run on, not the machine's (a container pinned to a few of them);
    # the memory budget caps them too (`projector.loaders.plan`)
    rebuild_workers: int = Field(default_factory=_cores, ge=1, alias="ORDERS_REBUILD_WORKERS")

    @property
    def checkpoints_path(self) -> Path:
        """The signed checkpoints' directory: the signer appends to it, the query API reads it."""
        return self.checkpoint_dir or self.data_dir / "checkpoints"

    @property
    def configured_database_url(self) -> str | None:
        """The database the operator configured, or None when the embedded one should be used."""
        if self.database_url:
            return self.database_url
        if self.postgres_host:
            password = self.postgres_password.get_secret_value()
            auth = quote(self.postgres_user) + (f":{quote(password)}" if password else "")
            return (
                f"postgresql://{auth}@{self.postgres_host}:{self.postgres_port}/{self.postgres_db}"
            )
        return None

    @property
    def configured_redis_url(self) -> str | None:
        """The Redis the operator configured, or None when the embedded one should be used."""
        if self.redis_url:
            return self.redis_url
        if self.redis_host:
            return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"
        return None
