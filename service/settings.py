"""Settings: one record, read from the environment once at start-up and passed to `create_app`."""

from __future__ import annotations

import ipaddress
import math
import os
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from service.core.directory import GroupMap, GroupMapError, parse_group_map

PROJECT_ROOT = Path(__file__).resolve().parent.parent
Mode = Literal["demo", "production"]
SmtpTls = Literal["starttls", "tls", "none"]
DEMO_COUNCIL = "Example Borough Council"
DEMO_CONTACT = "handover-support@example.gov.uk"
DEMO_DPO = "dpo@example.gov.uk"
STATEMENT_DATE = date(2026, 12, 1)


class SettingsError(Exception):
    """Settings that the service must not start with."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    mode: Mode = "demo"
    data_dir: Path
    database: Path  # the SQLite file, used when `database_url` is empty
    secret_key: str
    # postgresql://user:password@host:port/name (PostgreSQL 15 or later): the service's data there instead of in
    # `database`, which is what lets several instances serve one council (docs/operations.md)
    database_url: str = ""
    checklists_dir: Path = PROJECT_ROOT / "checklists"
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "service" / "static"
    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookies: bool = False  # True when served over TLS (behind a TLS-terminating proxy)
    session_idle_minutes: float = 30  # a fraction only for trying the sign-out warning out quickly
    session_absolute_hours: int = 12
    synchronous: Literal["FULL", "NORMAL"] = "FULL"  # FULL: an acknowledged save survives power loss
    audit_reads: bool = True
    # false: workflow steps tell nobody (for measuring what notifications cost; a council leaves this on)
    notifications: bool = True
    metrics_token: str = ""  # a scraper sends it as a bearer token; without one /metrics is not served
    trusted_proxies: str = ""  # comma-separated addresses whose X-Forwarded-* headers are believed
    log_json: bool = False  # JSON lines (production) or readable lines (demo)
    checkpoint_minutes: float = 5.0  # how often the audit chain's end is signed and written outside the database
    max_body_bytes: int = 1_000_000
    busy_timeout_ms: int = 5000  # how long a write waits for another process's lock before giving up
    # Who runs the service, for its accessibility statement and privacy notice (the demo's council is made up)
    council_name: str = DEMO_COUNCIL
    contact_email: str = DEMO_CONTACT  # where people report a problem or ask about the service
    dpo_email: str = DEMO_DPO  # the council's data protection officer
    statement_date: date = STATEMENT_DATE  # when the accessibility statement was prepared (after the last test)
    # E-mail (service/mail.py). No host: nothing is sent, and e-mails wait in the outbox on the operator's page
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: SmtpTls = "starttls"  # starttls: upgrade a plain connection; tls: TLS from the start (port 465)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = 30.0  # the longest one e-mail's conversation with the mail server may take
    mail_from: str = ""  # the From address; required when a host is set
    base_url: str = ""  # where the service is reached, for the links in e-mails; empty: http://127.0.0.1:<port>
    # Signing in with the council's OpenID Connect provider (service/oidc.py). No issuer: passwords only
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""  # client_secret_basic; or a private key for private_key_jwt, never both
    oidc_private_key: str = ""  # the PEM text of the key read from HANDOVER_OIDC_PRIVATE_KEY (a file)
    oidc_key_id: str = ""  # the `kid` of that key as registered with the provider, if it asks for one
    oidc_scopes: str = "openid profile email"
    oidc_name: str = ""  # the button says "Sign in with <this>"; empty: the council's name
    oidc_groups_claim: str = "groups"  # Entra ID: "groups" (security groups' object ids) or "roles" (app roles)
    # a first sign-in may take over an existing account with the same provider-verified e-mail address (moving from
    # passwords to the provider); off by default, as it trusts the provider with every account's address
    oidc_match_email: bool = False
    oidc_group_map: GroupMap = GroupMap()
    passwords: bool = True  # false: the service's own passwords are refused, the council's provider is the one way in

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def oidc_redirect_uri(self) -> str:
        """Where the provider sends the browser back: registered with the provider as the redirect URI."""
        return f"{self.link_base}/sign-in/oidc/callback"

    @property
    def oidc_provider_name(self) -> str:
        return self.oidc_name or self.council_name

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def link_base(self) -> str:
        """The start of every link in an e-mail, without a trailing slash."""
        return self.base_url or f"http://127.0.0.1:{self.port}"

    @property
    def checkpoint_file(self) -> Path:
        """Signed audit checkpoints live outside the database so operations can ship them elsewhere."""
        return self.data_dir / "audit-checkpoints.jsonl"


def _flag(env: dict[str, str], name: str, default: str) -> bool:
    """A yes/no setting. Anything else stops start-up: a misspelt `false` must not switch a safeguard off."""
    value = env.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}")


def _number(env: dict[str, str], name: str, default: str, minimum: float) -> float:
    value = env.get(name, default).strip()
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise SettingsError(f"{name} must be a number, not {value!r}")
    if number < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, not {value!r}")
    return number


def _port(env: dict[str, str], name: str, default: str) -> int:
    value = env.get(name, default).strip()
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 65535:
        raise SettingsError(f"{name} must be a port number from 1 to 65535, not {value!r}")
    return int(value)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _one_line(env: dict[str, str], name: str, default: str, limit: int = 200) -> str:
    """A name shown on the service's pages: one line of printable text, not blank."""
    value = env.get(name, default).strip()
    if not value or len(value) > limit or not value.isprintable():
        raise SettingsError(f"{name} must be one line of at most {limit} characters, not {value!r}")
    return value


def _email(env: dict[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip()
    if len(value) > 254 or not value.isascii() or not _EMAIL.fullmatch(value):
        raise SettingsError(f"{name} must be an email address, not {value!r}")
    return value


def _date(env: dict[str, str], name: str, default: str) -> date:
    value = env.get(name, default).strip()
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise SettingsError(f"{name} must be a date written YYYY-MM-DD, not {value!r}")


def _council(env: dict[str, str], name: str, demo_default: str, production: bool) -> str:
    """A council detail for the legal pages. In production the demo's made-up council must not be published:
    the privacy notice would name a data controller and data protection officer that do not exist."""
    value = env.get(name, "" if production else demo_default).strip()
    if production and (not value or value.lower() == demo_default.lower()):
        raise SettingsError(f"{name} must be set to your council's own in production, not the demo's {demo_default!r}")
    return value


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _smtp_host(env: dict[str, str]) -> str:
    value = env.get("HANDOVER_SMTP_HOST", "").strip()
    if len(value) > 253 or not all(c.isascii() and (c.isalnum() or c in ".-:[]_") for c in value):
        raise SettingsError(f"HANDOVER_SMTP_HOST must be a host name or address, not {value!r}")
    return value


def _smtp_tls(env: dict[str, str], host: str, production: bool) -> SmtpTls:
    value = env.get("HANDOVER_SMTP_TLS", "starttls").strip().lower()
    if value not in ("starttls", "tls", "none"):
        raise SettingsError(f"HANDOVER_SMTP_TLS must be 'starttls', 'tls' or 'none', not {value!r}")
    # an e-mail carries a link to the service and, with credentials, the password: in clear text only to this machine
    if value == "none" and production and host and not _is_loopback(host):
        raise SettingsError(
            f"HANDOVER_SMTP_TLS may be 'none' in production only for a mail server on this machine, not {host!r}"
        )
    return value  # type: ignore[return-value]


def _smtp_credentials(env: dict[str, str]) -> tuple[str, str]:
    username = env.get("HANDOVER_SMTP_USERNAME", "")
    password = env.get("HANDOVER_SMTP_PASSWORD", "")
    if bool(username) != bool(password):
        raise SettingsError("HANDOVER_SMTP_USERNAME and HANDOVER_SMTP_PASSWORD must be set together, or neither")
    if not (username + password).isprintable() or len(username) > 254 or len(password) > 1000:
        raise SettingsError("HANDOVER_SMTP_USERNAME and HANDOVER_SMTP_PASSWORD must be one line of printable text")
    return username, password


def _mail_from(env: dict[str, str], host: str) -> str:
    if not env.get("HANDOVER_MAIL_FROM", "").strip():
        if host:
            raise SettingsError(
                "HANDOVER_MAIL_FROM must be set when HANDOVER_SMTP_HOST is: the address e-mails come from"
            )
        return ""
    return _email(env, "HANDOVER_MAIL_FROM", "")


def _base_url(env: dict[str, str], host: str, production: bool) -> str:
    value = env.get("HANDOVER_BASE_URL", "").strip()
    if not value:
        if production and host:
            # the default points at this machine, which nobody reading the e-mail can reach
            raise SettingsError(
                "HANDOVER_BASE_URL must be set in production when e-mails are sent: the service's address"
            )
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        parts = urlsplit("")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or not value.isascii()
        or not value.isprintable()
        or " " in value
    ):
        raise SettingsError(
            f"HANDOVER_BASE_URL must be an address such as https://handover.example.gov.uk, not {value!r}"
        )
    if production and parts.scheme != "https" and not _is_loopback(parts.hostname):
        raise SettingsError(f"HANDOVER_BASE_URL must start with https:// in production, not {value!r}")
    return value.rstrip("/")


class _Oidc(msgspec.Struct, frozen=True, kw_only=True):
    issuer: str = ""
    client_id: str = ""
    client_secret: str = ""
    private_key: str = ""
    key_id: str = ""
    scopes: str = "openid profile email"
    name: str = ""
    groups_claim: str = "groups"
    group_map: GroupMap = GroupMap()
    match_email: bool = False


_OIDC_NAMES = (
    "HANDOVER_OIDC_CLIENT_ID", "HANDOVER_OIDC_CLIENT_SECRET", "HANDOVER_OIDC_PRIVATE_KEY", "HANDOVER_OIDC_KEY_ID",
    "HANDOVER_OIDC_GROUP_MAP", "HANDOVER_OIDC_NAME", "HANDOVER_OIDC_SCOPES", "HANDOVER_OIDC_GROUPS_CLAIM",
    "HANDOVER_OIDC_MATCH_EMAIL",
)  # fmt: skip


def _oidc(env: dict[str, str], production: bool, council_name: str) -> _Oidc:
    """The council's OpenID Connect provider, all checked at start-up: a half-configured sign-in fails here, with
    the setting named, not at a person's first sign-in."""
    issuer = env.get("HANDOVER_OIDC_ISSUER", "").strip()
    if not issuer:
        given = [name for name in _OIDC_NAMES if env.get(name, "").strip()]
        if given:
            raise SettingsError(f"{given[0]} is set but HANDOVER_OIDC_ISSUER is not: set the provider's issuer too")
        return _Oidc()
    try:
        parts = urlsplit(issuer)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or " " in issuer:
        raise SettingsError(
            f"HANDOVER_OIDC_ISSUER must be the provider's issuer, such as "
            f"https://login.microsoftonline.com/<tenant id>/v2.0, not {issuer!r}"
        )
    if production and parts.scheme != "https":
        raise SettingsError(f"HANDOVER_OIDC_ISSUER must start with https:// in production, not {issuer!r}")
    client_id = env.get("HANDOVER_OIDC_CLIENT_ID", "").strip()
    if not client_id or not client_id.isprintable():
        raise SettingsError("HANDOVER_OIDC_CLIENT_ID must be set: the service's client (application) id")
    secret = env.get("HANDOVER_OIDC_CLIENT_SECRET", "")
    key_file = env.get("HANDOVER_OIDC_PRIVATE_KEY", "").strip()
    if bool(secret) == bool(key_file):
        raise SettingsError(
            "Set one of HANDOVER_OIDC_CLIENT_SECRET (a client secret) or HANDOVER_OIDC_PRIVATE_KEY (a PEM file, for "
            "private_key_jwt), not both or neither"
        )
    private_key = ""
    if key_file:
        try:
            private_key = Path(key_file).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"HANDOVER_OIDC_PRIVATE_KEY: cannot read {key_file}: {exc}") from exc
        if "PRIVATE KEY-----" not in private_key:
            raise SettingsError(f"HANDOVER_OIDC_PRIVATE_KEY: {key_file} holds no PEM private key")
    scopes = env.get("HANDOVER_OIDC_SCOPES", "openid profile email").split()
    if "openid" not in scopes:
        raise SettingsError("HANDOVER_OIDC_SCOPES must include openid")
    claim = env.get("HANDOVER_OIDC_GROUPS_CLAIM", "groups").strip()
    if not re.fullmatch(r"[A-Za-z0-9_:./-]{1,100}", claim):
        raise SettingsError(f"HANDOVER_OIDC_GROUPS_CLAIM must be a claim's name such as groups or roles, not {claim!r}")
    map_file = env.get("HANDOVER_OIDC_GROUP_MAP", "").strip()
    if not map_file:
        raise SettingsError("HANDOVER_OIDC_GROUP_MAP must be set: the TOML file mapping groups to teams and roles")
    try:
        group_map = parse_group_map(Path(map_file).read_text(encoding="utf-8"), f"HANDOVER_OIDC_GROUP_MAP {map_file}")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"HANDOVER_OIDC_GROUP_MAP: cannot read {map_file}: {exc}") from exc
    except GroupMapError as exc:
        raise SettingsError(str(exc)) from exc
    name = _one_line(env, "HANDOVER_OIDC_NAME", council_name) if env.get("HANDOVER_OIDC_NAME", "").strip() else ""
    return _Oidc(
        issuer=issuer.rstrip("/"), client_id=client_id, client_secret=secret, private_key=private_key,
        key_id=env.get("HANDOVER_OIDC_KEY_ID", "").strip(), scopes=" ".join(scopes), name=name, groups_claim=claim,
        group_map=group_map, match_email=_flag(env, "HANDOVER_OIDC_MATCH_EMAIL", "off"),
    )  # fmt: skip


def _kept_secret(data_dir: Path) -> str:
    """In demo mode a secret is generated once and kept, so sessions and CSRF tokens survive restarts."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def _database_url(env: dict[str, str]) -> str:
    """HANDOVER_DATABASE_URL: empty (SQLite, in HANDOVER_DATABASE), or a PostgreSQL connection URI."""
    value = env.get("HANDOVER_DATABASE_URL", "").strip()
    if value and not value.startswith(("postgresql://", "postgres://")):
        raise SettingsError(
            "HANDOVER_DATABASE_URL must be a PostgreSQL URI, postgresql://user:password@host:port/name, or empty for"
            " SQLite"
        )
    if value:
        from psycopg.conninfo import conninfo_to_dict

        # said here, without the URL's words: the driver's own messages quote the part it could not read, which may
        # be the password, into every log line of every retry
        percent_encoded = "percent-encode any space, @, : or / in the user name or password (%20, %40, %3A, %2F)"
        try:
            parts = conninfo_to_dict(value)
        except Exception:
            raise SettingsError(f"HANDOVER_DATABASE_URL cannot be read: {percent_encoded}") from None
        if "@" in str(parts.get("host", "")) or not str(parts.get("port", "5432")).replace(",", "").isdigit():
            raise SettingsError(f"HANDOVER_DATABASE_URL names no host and port it can reach: {percent_encoded}")
    return value


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    mode = env.get("HANDOVER_MODE", "demo")
    if mode not in ("demo", "production"):
        raise SettingsError(f"HANDOVER_MODE must be 'demo' or 'production', not {mode!r}")
    data_dir = Path(env.get("HANDOVER_DATA_DIR", str(PROJECT_ROOT / "data"))).resolve()
    secret = env.get("HANDOVER_SECRET_KEY", "")
    if not secret:
        if mode == "production":
            raise SettingsError("HANDOVER_SECRET_KEY must be set in production (at least 32 characters)")
        secret = _kept_secret(data_dir)
    if len(secret) < 32:
        raise SettingsError("HANDOVER_SECRET_KEY must be at least 32 characters")
    production = mode == "production"
    if production and not env.get("HANDOVER_STATEMENT_DATE", "").strip():
        # The demo's date describes the demo's checks; a council's statement carries the date of its own.
        raise SettingsError("HANDOVER_STATEMENT_DATE must be set in production: when the service was last checked")
    council_name = _council(env, "HANDOVER_COUNCIL_NAME", DEMO_COUNCIL, production)
    contact_email = _council(env, "HANDOVER_CONTACT_EMAIL", DEMO_CONTACT, production)
    dpo_email = _council(env, "HANDOVER_DPO_EMAIL", DEMO_DPO, production)
    smtp_host = _smtp_host(env)
    smtp_username, smtp_password = _smtp_credentials(env)
    oidc = _oidc(env, production, council_name)
    passwords = _flag(env, "HANDOVER_PASSWORDS", "on")
    if not passwords and not oidc.issuer:
        raise SettingsError("HANDOVER_PASSWORDS may be off only when HANDOVER_OIDC_ISSUER is set: nobody could sign in")
    if production and oidc.issuer and not env.get("HANDOVER_BASE_URL", "").strip():
        raise SettingsError(
            "HANDOVER_BASE_URL must be set in production when HANDOVER_OIDC_ISSUER is: the redirect URI is made from it"
        )
    return Settings(
        mode=mode,  # type: ignore[arg-type]
        data_dir=data_dir,
        database=Path(env.get("HANDOVER_DATABASE", str(data_dir / "handover.db"))),
        database_url=_database_url(env),
        secret_key=secret,
        checklists_dir=Path(env.get("HANDOVER_CHECKLISTS_DIR", str(PROJECT_ROOT / "checklists"))),
        host=env.get("HANDOVER_HOST", "127.0.0.1"),
        port=int(_number(env, "HANDOVER_PORT", "8000", 1)),
        secure_cookies=_flag(env, "HANDOVER_SECURE_COOKIES", "false"),
        session_idle_minutes=_number(env, "HANDOVER_SESSION_IDLE_MINUTES", "30", 0.25),
        audit_reads=_flag(env, "HANDOVER_AUDIT_READS", "true"),
        notifications=_flag(env, "HANDOVER_NOTIFICATIONS", "true"),
        checkpoint_minutes=_number(env, "HANDOVER_CHECKPOINT_MINUTES", "5", 0.1),
        busy_timeout_ms=int(_number(env, "HANDOVER_BUSY_TIMEOUT_MS", "5000", 0)),
        metrics_token=env.get("HANDOVER_METRICS_TOKEN", ""),
        trusted_proxies=env.get("HANDOVER_TRUSTED_PROXIES", ""),
        log_json=_flag(env, "HANDOVER_LOG_JSON", "true" if mode == "production" else "false"),
        council_name=_one_line(env, "HANDOVER_COUNCIL_NAME", council_name),
        contact_email=_email(env, "HANDOVER_CONTACT_EMAIL", contact_email),
        dpo_email=_email(env, "HANDOVER_DPO_EMAIL", dpo_email),
        statement_date=_date(env, "HANDOVER_STATEMENT_DATE", STATEMENT_DATE.isoformat()),
        smtp_host=smtp_host,
        smtp_port=_port(env, "HANDOVER_SMTP_PORT", "587"),
        smtp_tls=_smtp_tls(env, smtp_host, production),
        smtp_username=smtp_username,
        smtp_password=smtp_password,
        smtp_timeout_seconds=_number(env, "HANDOVER_SMTP_TIMEOUT_SECONDS", "30", 0.1),
        mail_from=_mail_from(env, smtp_host),
        base_url=_base_url(env, smtp_host, production),
        oidc_issuer=oidc.issuer,
        oidc_client_id=oidc.client_id,
        oidc_client_secret=oidc.client_secret,
        oidc_private_key=oidc.private_key,
        oidc_key_id=oidc.key_id,
        oidc_scopes=oidc.scopes,
        oidc_name=oidc.name,
        oidc_groups_claim=oidc.groups_claim,
        oidc_match_email=oidc.match_email,
        oidc_group_map=oidc.group_map,
        passwords=passwords,
    )
