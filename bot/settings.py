"""Settings from the environment and an optional ``.env`` file.

settings = Settings()                      # reads the environment
settings = Settings(database_url="sqlite+aiosqlite:///:memory:")   # tests
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DB = "sqlite+aiosqlite:///./data/dxbot.sqlite3"
DEV_SECRET_KEY = "local-development-only"
MIN_SECRET_KEY_BYTES = 32
APP_TYPES = ("SingleTenant", "MultiTenant", "UserAssignedMSI")


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
    # SingleTenant is what Azure Bot offers new registrations (multi-tenant ones are deprecated).
    app_type: str = Field("SingleTenant", validation_alias=AliasChoices("MicrosoftAppType", "app_type"))
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
    # Empty: http://127.0.0.1:<port>, so a bot moved to another port still links to itself.
    public_url: str = Field("", validation_alias=AliasChoices("DXBOT_PUBLIC_URL", "public_url"))
    # Signs dashboard links and sign-in cookies, survey result links and announcement exports.
    # `dxbot secret-key` prints a new one; production refuses the default (see problems()).
    secret_key: str = Field(DEV_SECRET_KEY, validation_alias=AliasChoices("DXBOT_SECRET_KEY", "secret_key"))
    # Local mode has no authentication: it listens only on loopback unless this is set on purpose.
    allow_local_mode_on_network: bool = Field(
        False,
        validation_alias=AliasChoices("DXBOT_ALLOW_LOCAL_MODE_ON_NETWORK", "allow_local_mode_on_network"),
    )
    # How long a client may take to send a request body before it gets 408 (slow-loris guard).
    body_timeout_seconds: float = Field(
        15.0, gt=0, validation_alias=AliasChoices("DXBOT_BODY_TIMEOUT_SECONDS", "body_timeout_seconds")
    )
    # How long fetching the Bot Framework's signing keys may take before the request is refused.
    signing_keys_timeout_seconds: float = Field(
        10.0,
        gt=0,
        validation_alias=AliasChoices("DXBOT_SIGNING_KEYS_TIMEOUT_SECONDS", "signing_keys_timeout_seconds"),
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

    # Delivery engine (dialogs/engines/delivery). Teams limits a bot per app per tenant (50 requests a second,
    # counting every call: sends, updates, deletes, roster fetches) and per conversation (7/s, 8 in 2 s,
    # 60 in 30 s). DXBOT_DELIVERY_RATE is the app-wide budget all worker processes draw from together
    # (one row in the database); 45 leaves room for the replies the bot sends inside turns. A city whose
    # tenant hosts this app only once sets at most 50; never more than Teams' published limit.
    delivery_rate: float = Field(45.0, validation_alias=AliasChoices("DXBOT_DELIVERY_RATE", "delivery_rate"))
    delivery_conversation_rate: float = Field(
        7.0, validation_alias=AliasChoices("DXBOT_DELIVERY_CONVERSATION_RATE", "delivery_conversation_rate")
    )
    # Sends in flight per worker process: at least rate × (Teams' answer time + 0.1 s), e.g. 45 × 0.4.
    delivery_concurrency: int = Field(
        24, validation_alias=AliasChoices("DXBOT_DELIVERY_CONCURRENCY", "delivery_concurrency")
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

    @model_validator(mode="after")
    def _public_url_follows_port(self) -> Settings:
        if not self.public_url.strip():
            self.public_url = f"http://127.0.0.1:{self.port}"
        return self

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
    def tenants(self) -> list[str]:
        """The tenants whose activities are served: DXBOT_ALLOWED_TENANTS, else the bot's own tenant."""
        if self.allowed_tenants:
            return self.allowed_tenants
        return [self.app_tenant_id] if self.app_tenant_id else []

    @property
    def on_loopback(self) -> bool:
        if self.host.strip().lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip().strip("[]")).is_loopback
        except ValueError:  # a host name, or "" (every interface)
            return False

    def problems(self) -> list[Problem]:
        """Why these settings are unsafe to serve with; empty when the bot may start.

        `dxbot run` prints them and exits non-zero; create_app raises InsecureSettings.
        """
        found: list[Problem] = []
        if self.local_mode:
            if not self.on_loopback and not self.allow_local_mode_on_network:
                found.append(_LOCAL_ON_NETWORK.format(host=self.host or "(all)"))
            return found
        if self.app_type.lower() not in {a.lower() for a in APP_TYPES}:
            found.append(_APP_TYPE.format(value=self.app_type))
        if self.app_type.lower() != "userassignedmsi" and not self.app_password:
            found.append(_PASSWORD)
        if self.app_type.lower() in ("singletenant", "userassignedmsi") and not self.app_tenant_id:
            found.append(_TENANT_ID.format(app_type=self.app_type))
        elif not self.tenants:
            found.append(_TENANTS)
        if self.secret_key == DEV_SECRET_KEY:
            found.append(_SECRET_DEFAULT)
        elif len(self.secret_key.encode("utf-8")) < MIN_SECRET_KEY_BYTES:
            found.append(_SECRET_SHORT.format(length=len(self.secret_key.encode("utf-8"))))
        return found

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def ensure_data_dir(self) -> None:
        """Create the folder of a SQLite file database, so `make run` works on a fresh clone."""
        if self.database_url.startswith("sqlite") and ":memory:" not in self.database_url:
            path = self.database_url.split("///", 1)[-1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class Problem:
    """One reason not to start, in Japanese and English, naming the variable to set."""

    variable: str
    ja: str
    en: str

    def format(self, **values: object) -> Problem:
        return Problem(self.variable, self.ja.format(**values), self.en.format(**values))

    def __str__(self) -> str:
        return f"[{self.variable}] {self.ja}\n    {self.en}"


class InsecureSettings(ValueError):
    """Raised by create_app for settings that must not serve requests."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_LOCAL_ON_NETWORK = Problem(
    "MicrosoftAppId",
    "MicrosoftAppId が空のため認証なし(ローカルモード)ですが、DXBOT_HOST={host} はループバック以外からも"
    "接続できます。本番では MicrosoftAppId・MicrosoftAppPassword・MicrosoftAppTenantId・DXBOT_SECRET_KEY を"
    "設定してください。開発で DXBOT_HOST=127.0.0.1 にできない場合に限り、"
    "DXBOT_ALLOW_LOCAL_MODE_ON_NETWORK=true で起動できます(誰でも管理者を名乗れます)。",
    "MicrosoftAppId is empty, so nothing is authenticated (local mode), but DXBOT_HOST={host} accepts "
    "connections from other machines. For production set MicrosoftAppId, MicrosoftAppPassword, "
    "MicrosoftAppTenantId and DXBOT_SECRET_KEY. Only for development that cannot use "
    "DXBOT_HOST=127.0.0.1, DXBOT_ALLOW_LOCAL_MODE_ON_NETWORK=true starts anyway (anyone can claim to be "
    "an admin).",
)
_APP_TYPE = Problem(
    "MicrosoftAppType",
    "MicrosoftAppType={value} は使えません。SingleTenant(既定)・MultiTenant・UserAssignedMSI の"
    "いずれかを設定してください。",
    "MicrosoftAppType={value} is not supported. Set SingleTenant (the default), MultiTenant or "
    "UserAssignedMSI.",
)
_PASSWORD = Problem(
    "MicrosoftAppPassword",
    "MicrosoftAppPassword が空です。Azure Bot のアプリ登録で作ったクライアント シークレットを設定してください。",
    "MicrosoftAppPassword is empty. Set the client secret of the Azure Bot's app registration.",
)
_TENANT_ID = Problem(
    "MicrosoftAppTenantId",
    "MicrosoftAppType={app_type} には MicrosoftAppTenantId が必要です。市の Microsoft Entra テナント ID "
    "(ディレクトリ ID)を設定してください。",
    "MicrosoftAppType={app_type} needs MicrosoftAppTenantId. Set the city's Microsoft Entra tenant "
    "(directory) ID.",
)
_TENANTS = Problem(
    "DXBOT_ALLOWED_TENANTS",
    "MultiTenant のボットでは、どのテナントから使えるかを DXBOT_ALLOWED_TENANTS(カンマ区切りのテナント ID)"
    "で指定してください。新しいボットは SingleTenant と MicrosoftAppTenantId をお勧めします。",
    "A MultiTenant bot needs DXBOT_ALLOWED_TENANTS (comma-separated tenant IDs) to say which tenants may "
    "use it. New bots should use SingleTenant with MicrosoftAppTenantId.",
)
_SECRET_DEFAULT = Problem(
    "DXBOT_SECRET_KEY",
    "DXBOT_SECRET_KEY が開発用の既定値のままです。このままでは誰でもダッシュボードやサーベイ結果のリンクを"
    "偽造できます。`dxbot secret-key` で新しい鍵を作って設定してください。",
    "DXBOT_SECRET_KEY is still the public development default, so anyone could forge dashboard and survey "
    "result links. Run `dxbot secret-key` and set the key it prints.",
)
_SECRET_SHORT = Problem(
    "DXBOT_SECRET_KEY",
    f"DXBOT_SECRET_KEY が短すぎます({{length}} バイト)。{MIN_SECRET_KEY_BYTES} バイト以上必要です。"
    "`dxbot secret-key` で新しい鍵を作って設定してください。",
    f"DXBOT_SECRET_KEY is too short ({{length}} bytes); it needs at least {MIN_SECRET_KEY_BYTES}. "
    "Run `dxbot secret-key` and set the key it prints.",
)
