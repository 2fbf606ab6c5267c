"""One Settings object, read from GRIDCARE_* environment variables (and a .env file)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDCARE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///gridcare.db",
        description="SQLAlchemy URL: sqlite:///file.db (default) or postgresql+psycopg://user@host/db",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs access tokens. Unset: a random key is kept in secret_key_file.",
    )
    secret_key_file: Path = Path(".gridcare-secret")
    token_minutes: int = 8 * 60
    login_max_failures: int = 5
    login_window_seconds: int = 300
    sqlite_busy_timeout_ms: int = 5000
    db_pool_size: int = 10
    # Work orders (DOMAIN.md §4, §6)
    workday_counting: str = Field(
        default="from_next_day",
        description="from_next_day (default) or acceptance_day_is_day_one",
        pattern="^(from_next_day|acceptance_day_is_day_one)$",
    )
    repeat_window_days: int = 30
    sensitive_after_complaints: int = 3
    callback_retry_hours: float = 2.0
    callback_extra_tries: int = 3
    scan_batch_size: int = 1000
    scan_interval_seconds: int = 60
    # Analytics (reports): the DuckDB snapshot file; unset = beside a SQLite database, else
    # ./gridcare-analytics.duckdb.
    analytics_path: Path | None = None
    # Outage notices (DOMAIN.md §7, §10): who signs them, which channels reach customers and village
    # liaisons, and the gateways. Unset gateways: the "file" channel writes notices to `notice_file`.
    notice_signature: str = "供电公司"
    customer_channels: str = Field(default="file", description="comma list of sms, wechat, file")
    liaison_channel: str = Field(default="file", pattern="^(sms|wechat|email|file|none)$")
    notice_file: Path = Path("notices.jsonl")
    sms_url: str | None = None
    sms_secret: str | None = None
    wechat_url: str | None = None
    wechat_secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "noreply@gridcare.local"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # Trouble-call analysis: "no power" repair calls (these fault kinds) within the window predict
    # an outage at the 台区 (this many customers), the branch switch or the feeder (this many 台区).
    trouble_categories: str = "hv,lv"
    trouble_window_minutes: int = 30
    trouble_area_calls: int = 3
    trouble_switch_areas: int = 2
    trouble_feeder_areas: int = 3
    outbox_batch_size: int = 1000
    outbox_max_attempts: int = 8
    outbox_lease_seconds: int = 120

    def resolved_secret_key(self) -> str:
        """The token signing key: configured, or persisted beside the app so all workers share it."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key, encoding="utf-8")
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
