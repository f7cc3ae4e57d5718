"""Settings from the environment (``RECLAIM_*``) and an optional ``reclaim.toml``.

Read once, at the edge (CLI start-up); everything below receives narrow values. A bad value
stops start-up with the variable's name and what is wrong with it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from reclaim.errors import ConfigError

DEFAULT_DB = "sqlite:///reclaim.sqlite3"
# The SMS providers Reclaim can send through: the names of
# reclaim.adapters.channels.sms_providers.SMS_PROVIDERS.
SMS_PROVIDERS = ("twilio",)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECLAIM_", extra="ignore")

    database_url: str = Field(default=DEFAULT_DB)
    # PostgreSQL connections kept per process: as many as the API serves requests at once (32
    # clients), so none waits for a connection and none is opened and closed per request.
    database_pool_size: int = Field(default=32, ge=1, le=500)
    secret_key: str | None = Field(default=None)
    public_url: str = Field(default="http://127.0.0.1:8000")
    log_level: str = Field(default="INFO")
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=300)
    # Channels (SPEC S4). Unset: the channel is not available and its steps are skipped.
    smtp_url: str | None = Field(default=None)
    dkim_domain: str | None = Field(default=None)
    dkim_selector: str | None = Field(default=None)
    dkim_key_file: str | None = Field(default=None)
    sms_provider: str = Field(default="twilio")  # which API sms_url speaks: SMS_PROVIDERS
    sms_url: str | None = Field(default=None)  # a Twilio-compatible API base URL
    sms_account: str | None = Field(default=None)
    sms_token: str | None = Field(default=None)
    sms_from: str | None = Field(default=None)
    # The HTTP edge (docs/security.md). Limits are "N/second|minute|hour" per client address
    # and, where a store is named (webhooks) or a key is sent (API), per store or key too.
    rate_limit_enabled: bool = Field(default=True)
    rate_limit_webhooks: str = Field(default="1200/minute")
    rate_limit_api: str = Field(default="600/minute")
    rate_limit_public: str = Field(default="300/minute")  # tracking links, unsubscribe, answers
    rate_limit_login: str = Field(default="10/minute")
    # Where the counts live: memory:// (one process) or a shared store that the `limits`
    # library reads, such as redis://host:6379 (several server processes).
    rate_limit_storage: str = Field(default="memory://")
    # Proxies whose X-Forwarded-For names the real client (addresses or CIDR networks,
    # comma-separated). Empty: the peer's address is the client, whatever headers say.
    trusted_proxies: str = Field(default="")
    # Swagger UI and ReDoc at /docs and /redoc (off: public pages of a private service).
    api_docs: bool = Field(default=False)

    @field_validator("database_url")
    @classmethod
    def _db(cls, v: str) -> str:
        if not v.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite://, postgresql:// or postgresql+psycopg://")
        return v

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        if v is not None and len(v) < 32:
            raise ValueError("must be at least 32 characters (try: openssl rand -hex 32)")
        return v

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL such as https://reclaim.example.com")
        return v.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, v: str | None) -> str | None:
        if v is not None and urlsplit(v).scheme not in ("smtp", "smtps"):
            raise ValueError("must look like smtp://host:port or smtps://user:pass@host:465")
        return v

    @field_validator("sms_url")
    @classmethod
    def _sms(cls, v: str | None) -> str | None:
        if v is not None:
            parts = urlsplit(v)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("must be the provider's API base URL, e.g. https://api.twilio.com")
        return v.rstrip("/") if v else v

    @field_validator("sms_provider")
    @classmethod
    def _sms_provider(cls, v: str) -> str:
        if v.strip().lower() not in SMS_PROVIDERS:
            raise ValueError(f"must be one of {', '.join(SMS_PROVIDERS)} (not {v!r})")
        return v.strip().lower()

    @field_validator("dkim_key_file")
    @classmethod
    def _dkim(cls, v: str | None) -> str | None:
        if v is not None and not Path(v).is_file():
            raise ValueError(f"no such file: {v}")
        return v

    @field_validator(
        "rate_limit_webhooks", "rate_limit_api", "rate_limit_public", "rate_limit_login"
    )
    @classmethod
    def _rate(cls, v: str) -> str:
        if not re.fullmatch(r"\s*\d{1,9}\s*/\s*(second|minute|hour|day)\s*", v):
            raise ValueError("must look like 600/minute (per second, minute, hour or day)")
        return v.replace(" ", "")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: str) -> str:
        for part in filter(None, (p.strip() for p in v.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not an address or network such as 10.0.0.0/8"
                ) from None
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return v.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = Path(os.environ.get("RECLAIM_CONFIG", "reclaim.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)


def load_settings(**overrides: object) -> Settings:
    """Read the settings or raise :class:`ConfigError` naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "RECLAIM_" + str(first["loc"][0]).upper() if first["loc"] else "RECLAIM_*"
        raise ConfigError(f"{name}: {first['msg'].removeprefix('Value error, ')}") from None
    except ValueError as exc:  # malformed TOML
        raise ConfigError(f"reclaim.toml: {exc}") from None
