"""Settings from the environment and an optional ``.env`` file.

settings = Settings()                      # reads the environment
settings = Settings(database_url="sqlite+aiosqlite:///:memory:")   # tests
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DB = "sqlite+aiosqlite:///./data/dxbot.sqlite3"


def _split(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    return [str(v).strip() for v in value]  # type: ignore[attr-defined]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Bot Framework names, as botbuilder and the Azure portal spell them.
    app_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "app_id"))
    app_password: str = Field("", validation_alias=AliasChoices("MicrosoftAppPassword", "app_password"))
    app_type: str = Field("MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "app_type"))
    app_tenant_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppTenantId", "app_tenant_id"))

    database_url: str = Field(DEFAULT_DB, validation_alias=AliasChoices("DXBOT_DATABASE_URL", "database_url"))
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("DXBOT_HOST", "host"))
    port: int = Field(3978, validation_alias=AliasChoices("DXBOT_PORT", "port"))
    allowed_tenants: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("DXBOT_ALLOWED_TENANTS", "allowed_tenants")
    )
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("DXBOT_ADMINS", "admins")
    )
    timezone: str = Field("Asia/Tokyo", validation_alias=AliasChoices("DXBOT_TIMEZONE", "timezone"))
    locale: str = Field("ja", validation_alias=AliasChoices("DXBOT_LOCALE", "locale"))
    public_url: str = Field(
        "http://127.0.0.1:3978", validation_alias=AliasChoices("DXBOT_PUBLIC_URL", "public_url")
    )
    secret_key: str = Field(
        "local-development-only", validation_alias=AliasChoices("DXBOT_SECRET_KEY", "secret_key")
    )
    # Microsoft Graph (dialogs/roster/graph.py): installing the app for promoters who lack it. All four
    # of tenant, client id, secret and catalog app id are needed; the URLs change only for tests.
    graph_tenant_id: str = Field(
        "", validation_alias=AliasChoices("DXBOT_GRAPH_TENANT_ID", "graph_tenant_id")
    )
    graph_client_id: str = Field(
        "", validation_alias=AliasChoices("DXBOT_GRAPH_CLIENT_ID", "graph_client_id")
    )
    graph_client_secret: str = Field(
        "", validation_alias=AliasChoices("DXBOT_GRAPH_CLIENT_SECRET", "graph_client_secret")
    )
    graph_teams_app_id: str = Field(
        "", validation_alias=AliasChoices("DXBOT_GRAPH_TEAMS_APP_ID", "graph_teams_app_id")
    )
    graph_base_url: str = Field(
        "https://graph.microsoft.com/v1.0",
        validation_alias=AliasChoices("DXBOT_GRAPH_BASE_URL", "graph_base_url"),
    )
    graph_login_url: str = Field(
        "https://login.microsoftonline.com",
        validation_alias=AliasChoices("DXBOT_GRAPH_LOGIN_URL", "graph_login_url"),
    )
    background_jobs: bool = Field(
        True, validation_alias=AliasChoices("DXBOT_BACKGROUND_JOBS", "background_jobs")
    )
    max_body_bytes: int = 256 * 1024

    # Delivery engine (dialogs/delivery): Teams' published limits by default; the app-wide rate is
    # shared between the live worker processes.
    delivery_rate: float = Field(30.0, validation_alias=AliasChoices("DXBOT_DELIVERY_RATE", "delivery_rate"))
    delivery_conversation_rate: float = Field(
        7.0, validation_alias=AliasChoices("DXBOT_DELIVERY_CONVERSATION_RATE", "delivery_conversation_rate")
    )
    delivery_concurrency: int = Field(
        8, validation_alias=AliasChoices("DXBOT_DELIVERY_CONCURRENCY", "delivery_concurrency")
    )
    delivery_max_attempts: int = Field(
        8, validation_alias=AliasChoices("DXBOT_DELIVERY_MAX_ATTEMPTS", "delivery_max_attempts")
    )
    delivery_lease_seconds: float = Field(
        60.0, validation_alias=AliasChoices("DXBOT_DELIVERY_LEASE_SECONDS", "delivery_lease_seconds")
    )
    delivery_send_timeout: float = Field(
        20.0, validation_alias=AliasChoices("DXBOT_DELIVERY_SEND_TIMEOUT", "delivery_send_timeout")
    )
    delivery_poll_seconds: float = Field(
        0.5, validation_alias=AliasChoices("DXBOT_DELIVERY_POLL_SECONDS", "delivery_poll_seconds")
    )
    delivery_progress_seconds: float = Field(
        2.0, validation_alias=AliasChoices("DXBOT_DELIVERY_PROGRESS_SECONDS", "delivery_progress_seconds")
    )
    # Roster import guard (dialogs/roster): an import that ends more than this share of the current
    # assignments, or more than this many, needs a second, explicit confirmation (CLI: --allow-mass-end).
    roster_max_end_share: float = Field(
        0.20,
        ge=0.0,
        le=1.0,
        validation_alias=AliasChoices("DXBOT_ROSTER_MAX_END_SHARE", "roster_max_end_share"),
    )
    roster_max_end_count: int = Field(
        10, ge=0, validation_alias=AliasChoices("DXBOT_ROSTER_MAX_END_COUNT", "roster_max_end_count")
    )
    # Announcements (dialogs/announce): automation API keys, reminder lead time in business days.
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("DXBOT_API_KEYS", "api_keys")
    )
    announce_reminder_days: int = Field(
        2, validation_alias=AliasChoices("DXBOT_ANNOUNCE_REMINDER_DAYS", "announce_reminder_days")
    )
    # Pulse surveys (dialogs/survey): default anonymity threshold for new surveys (3–25), how long
    # signed results/chart links stay valid, and how often the round scheduler looks at the database.
    survey_threshold: int = Field(
        5, ge=3, le=25, validation_alias=AliasChoices("DXBOT_SURVEY_THRESHOLD", "survey_threshold")
    )
    survey_link_days: int = Field(
        14, ge=1, le=365, validation_alias=AliasChoices("DXBOT_SURVEY_LINK_DAYS", "survey_link_days")
    )
    survey_poll_seconds: float = Field(
        30.0, validation_alias=AliasChoices("DXBOT_SURVEY_POLL_SECONDS", "survey_poll_seconds")
    )

    # The DX division's dashboard (dialogs/dashboard): where Entra ID publishes its signing keys (the
    # OpenID metadata names the JWKS), and in local mode an optional password for the local sign-in.
    dashboard_openid_metadata_url: str = Field(
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
        validation_alias=AliasChoices("DXBOT_DASHBOARD_OPENID_METADATA_URL", "dashboard_openid_metadata_url"),
    )
    dashboard_local_password: str = Field(
        "", validation_alias=AliasChoices("DXBOT_DASHBOARD_LOCAL_PASSWORD", "dashboard_local_password")
    )
    # Hosts besides Teams/Outlook/Microsoft 365 that may frame the dashboard tab (comma-separated
    # origins, e.g. a sovereign-cloud Teams); they are passed to the Teams JS library too.
    dashboard_tab_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("DXBOT_DASHBOARD_TAB_ORIGINS", "dashboard_tab_origins"),
    )

    @field_validator("allowed_tenants", "admins", "api_keys", "dashboard_tab_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> list[str]:
        return _split(value)

    @field_validator("admins")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [v.lower() for v in value]

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        return "en" if value.lower().startswith("en") else "ja"

    @property
    def local_mode(self) -> bool:
        """No app id: no authentication, for the Agents Playground and development."""
        return not self.app_id

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def ensure_data_dir(self) -> None:
        """Create the folder of a SQLite file database, so `make run` works on a fresh clone."""
        if self.database_url.startswith("sqlite") and ":memory:" not in self.database_url:
            path = self.database_url.split("///", 1)[-1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
