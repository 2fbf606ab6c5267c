"""One Settings object, read from GRIDCARE_* environment variables (and a .env file)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32


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
    token_minutes: int = Field(default=8 * 60, ge=1)
    # Sign-in limits (README, Security): wrong passwords per account and address within the window;
    # per address (all accounts) within the window; per account per hour from untrusted addresses.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    login_address_max_failures: int = Field(default=20, ge=1)
    login_account_max_failures_per_hour: int = Field(default=30, ge=1)
    # An address the user signed in from within these days (or a browser holding their device mark)
    # is trusted: it still gets in while the account is over its hourly limit.
    login_trusted_days: int = Field(default=30, ge=1)
    # Over the hourly limit, clients that are not trusted get one evaluation per this many seconds.
    login_slow_seconds: int = Field(default=60, ge=1)
    # Requests per user and minute (API and pages), with bursts up to `api_rate_burst`; 0 = no limit.
    api_rate_per_minute: int = Field(default=600, ge=0)
    api_rate_burst: int = Field(default=120, ge=1)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma list of addresses; "*"
    # is refused: the leftmost forwarded address is the client's to choose). Empty: nobody's; the
    # client address is the TCP peer.
    trusted_proxies: str = ""
    log_level: str = Field(default="info", pattern="^(critical|error|warning|info|debug)$")
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    db_pool_size: int = 10
    # PDF reports are printed by headless Chromium: at most this many at once on a host, waiting up
    # to `pdf_wait_seconds` for a turn.
    pdf_concurrency: int = Field(default=2, ge=1)
    pdf_wait_seconds: int = Field(default=60, ge=1)
    # Work orders (docs/domain.md §4, §6)
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
    # Background jobs (gridcare/jobs.py): how often notices are sent and the report snapshot refreshed.
    deliver_interval_seconds: int = 5
    snapshot_interval_seconds: int = 60
    # Analytics (reports): the DuckDB snapshot file; unset = beside a SQLite database, else
    # ./gridcare-analytics.duckdb.
    analytics_path: Path | None = None
    # Outage notices (docs/domain.md §7, §10): who signs them, which channels reach customers and village
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

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value.strip()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"GRIDCARE_SECRET_KEY 至少需要 {MIN_SECRET_LENGTH} 个字符（当前 {len(value.strip())} 个）；"
                "可用 python3 -c 'import secrets; print(secrets.token_urlsafe(48))' 生成，或不设置以自动生成"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _named_proxies(cls, value: str) -> str:
        if "*" in value:
            raise ValueError(
                "GRIDCARE_TRUSTED_PROXIES 须列出代理服务器的地址，不能用 *（否则任何客户端都能冒充地址）"
            )
        return value

    def resolved_secret_key(self) -> str:
        """The token signing key: configured, or persisted beside the app so all workers share it."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            key = path.read_text(encoding="utf-8").strip()
            if len(key) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"密钥文件 {path} 中的密钥少于 {MIN_SECRET_LENGTH} 个字符：请删除该文件（将自动重新生成）"
                    "或设置 GRIDCARE_SECRET_KEY"
                )
            return key
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key)
        return key

    def proxies(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]


class ConfigurationError(RuntimeError):
    """The configuration cannot work; the message says what to change (raised at start-up)."""


def load_settings() -> Settings:
    """Settings from the environment, with a configuration error people can read (no traceback)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "；".join(
            f"GRIDCARE_{'_'.join(str(p) for p in e['loc']).upper()}：{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ConfigurationError(f"配置有误：{problems}") from None
    return settings


@lru_cache
def get_settings() -> Settings:
    return load_settings()
