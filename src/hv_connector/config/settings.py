"""Settings: ``HVC_…`` environment variables over a TOML file over the defaults.

The file is ``hvc.toml`` in the platform's config directory
(``~/.config/hv-connector/hvc.toml`` on Linux), or the file ``--config PATH``
or ``HVC_CONFIG`` names. Nested settings use ``__`` in the environment:
``HVC_WONDE__TOKEN`` is ``token`` under ``[wonde]``. Lists and tables can be
given in the environment as JSON (``HVC_SCHOOLS='{"potton": {...}}'``).

Tokens and passwords are :class:`~pydantic.SecretStr`: they print as
``**********``. Never log a settings object; :func:`redacted` gives a dump
safe to show. Every error names the setting, where to set it, and what to do.

The docstring under each field documents it for people reading this file; it
is not copied into the field's ``description`` (pydantic's
``use_attribute_docstrings``): nothing reads those, and finding each class's
source to parse them was most of what building these models cost every
``hvc`` run that reads settings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hv_connector.config.environment import deep_merge
from hv_connector.errors import ConfigError, excerpt
from hv_connector.models import StaffMember
from hv_connector.store.engine import APP_NAME, default_database_url

log = logging.getLogger("hv_connector.config")

CONFIG_FILE_NAME = "hvc.toml"
CONFIG_ENV = "HVC_CONFIG"
ENV_PREFIX = "HVC_"
REDACTED = "**********"
MAX_VISIT_HOURS = 8.0
"""The core default for ``max_visit_hours``: a school day's worth of visit."""


def default_config_path() -> Path:
    """``hvc.toml`` in the platform's user config directory."""
    from platformdirs import user_config_dir  # only when no file is named: --config and HVC_CONFIG skip its import

    return Path(user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


class Section(BaseModel):
    """A settings table: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as https://api.example/v1")
    if parts.username or parts.password:
        raise ValueError("must not hold a user name or password (it would be shown and logged): put the token in `token`")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("must use https (the token travels with every request); plain http is for loopback only")
    return value.rstrip("/")


ApiUrl = Annotated[str, AfterValidator(_http_url)]
"""An API root: https, or http on loopback only (the fake servers)."""


class DatabaseSettings(Section):
    """``[database]``: where the store lives."""

    url: str = Field(default_factory=default_database_url)
    """SQLAlchemy URL of the store: ``sqlite:////path/hvc.db`` (the default, in the platform's data
    directory) or ``postgresql+psycopg://user@host:5432/db`` for a trust sharing one store."""

    def __repr_args__(self) -> Iterator[tuple[str, Any]]:
        yield "url", masked_url(self.url)  # a PostgreSQL URL may hold a password


class WondeSettings(Section):
    """``[wonde]``: the installation's Wonde app (one token for every school)."""

    token: SecretStr | None = None
    """The Wonde app token. One per installation; each school approves the app in its Wonde portal."""
    base_url: ApiUrl = "https://api.wonde.com/v1.0"
    """Wonde API root. Change only for the fake server in tests and the demo."""
    requests_per_second: float = Field(default=5.0, gt=0)
    """Requests per second the client keeps under, across all schools (Wonde publishes no limit)."""
    concurrency: int = Field(default=4, ge=1, le=64)
    """How many requests may be in flight at once."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for one response before retrying."""


class SinkSettings(BaseModel):
    """``[schools.ID.sink]``: where the school's finished records and concerns go, and that sink's own settings.

    ``name`` picks a sink registered through the ``report_sinks`` hook: ``manual`` (the default: each record
    written as a paste block and a PDF for the DSL team to enter in CPOMS), ``cpoms-api`` (the HTTP client for
    the proposed CPOMS contract), or a plugin's. Every other key is the sink's own setting, checked by the sink
    (``hvc config check``); values under a secret's name (``token``, ``api_key`` …) are kept secret.
    """

    model_config = ConfigDict(extra="allow")

    name: str = Field(default="manual", min_length=1)
    """The sink's registered name: ``manual``, ``cpoms-api`` or an installed plugin's (an unknown name is refused,
    listing the installed ones)."""
    confirm_within_minutes: int = Field(default=30, ge=1)
    """For a sink a person completes (``manual``), or a receiver that leaves a record in its Incident Tray
    (``cpoms-api``): a concern not confirmed as entered (or attached to the pupil) within this many minutes of
    school hours raises an alarm to the DSL on the watch."""
    school_day: str = Field(default="08:00-17:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$")
    """School hours (UK time, Monday to Friday) in which ``confirm_within_minutes`` runs, as ``HH:MM-HH:MM``."""

    @model_validator(mode="before")
    @classmethod
    def _secrets_kept_secret(cls, data: Any) -> Any:
        return _secret_values(data) if isinstance(data, Mapping) else data

    @field_validator("school_day")
    @classmethod
    def _day_runs_forwards(cls, value: str) -> str:
        opens, closes = value.split("-")
        if not "00:00" <= opens < closes <= "23:59":
            raise ValueError(f"must be opening-closing times in one day, e.g. 08:00-17:00, not {value!r}")
        return value

    def options(self) -> dict[str, Any]:
        """The sink's own settings: every key but the core's (secrets stay :class:`SecretStr`)."""
        return dict(self.model_extra or {})


class SchoolSettings(Section):
    """``[schools.ID]``: one school the installation serves."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    """Short id used everywhere (``potton``); lower case, digits and hyphens. Taken from the table name."""
    name: str = Field(min_length=1)
    """The school's full name, for screens and reports."""
    policy: str = Field(min_length=1)
    """The entry-point name of the school's policy plugin (``hvc plugins`` lists them), e.g. ``potton``."""
    mis: str = Field(default="wonde", min_length=1)
    """The MIS adapter ``hvc sync`` uses for this school: a name registered by an ``mis_adapters`` plugin
    (``wonde`` is built in)."""
    mis_school_id: str | None = None
    """The school's id in its MIS, e.g. in Wonde (Wonde's adapter needs it for ``hvc sync``)."""
    mis_options: dict[str, Any] = {}
    """The MIS adapter's own settings for this school (``[schools.ID.mis_options]``): what the adapter named
    in ``mis`` reads, and checks in ``hvc config check`` (a folder, a URL, a user name …). A value whose key
    names a secret (a key containing ``token``, ``password``, ``secret`` or ``key``) is kept as a secret:
    shown as ``**********`` and never logged. Wonde's adapter needs none."""
    sink: SinkSettings = Field(default_factory=SinkSettings)
    """Where the school's records go (``[schools.ID.sink]``); the ``manual`` sink when unset."""
    max_visit_hours: float = Field(default=MAX_VISIT_HOURS, gt=0, le=24)
    """The longest a visit may be planned (or extended) to last, start to expected return, in hours. The watch
    raises "not back" only after the expected return, so this bounds how long staff can be out unwatched."""
    options: dict[str, Any] = {}
    """Options the policy's rules read, e.g. ``evening_from = "17:30"``."""
    triggers: dict[str, Any] = {}
    """Thresholds of the school's attendance triggers (``[schools.ID.triggers]``), by the option name each trigger
    gives (``hvc propose triggers`` lists them), e.g. ``persistent_absence_percent = 12`` or ``missing_days = 2``.
    ``hvc config check`` refuses a name no trigger reads and a value that is not a number."""
    recent_visit_days: int = Field(default=14, ge=0, le=365)
    """A pupil with a visit planned in the last this many days (or still to come) is shown on the proposals list
    as visited, beside the proposal, rather than proposed as if nobody had been."""

    @model_validator(mode="before")
    @classmethod
    def _cpoms_table_is_the_cpoms_api_sink(cls, data: Any) -> Any:
        # Earlier releases had one sink, set under [schools.ID.cpoms]: read it as the cpoms-api sink, and say so.
        if not isinstance(data, Mapping) or data.get("cpoms") is None:
            return data
        school = data.get("id", "ID")
        if data.get("sink") is not None:
            raise ValueError(f"has both [schools.{school}.cpoms] and [schools.{school}.sink]: move the CPOMS settings "
                             f'under [schools.{school}.sink] with name = "cpoms-api" and remove [schools.{school}.cpoms]')
        log.warning("[schools.%s.cpoms] is deprecated: rename the table to [schools.%s.sink] and add "
                    'name = "cpoms-api" (its keys stay the same)', school, school)
        rest = {key: value for key, value in data.items() if key != "cpoms"}
        return {**rest, "sink": {"name": "cpoms-api", **data["cpoms"]}}

    @field_validator("mis_options")
    @classmethod
    def _secrets_kept_secret(cls, options: dict[str, Any]) -> dict[str, Any]:
        return _secret_values(options)

    @property
    def syncs(self) -> bool:
        """Whether ``hvc sync`` (with no ``--school``) syncs this school: it has an MIS id, or names its adapter
        or the adapter's settings."""
        return bool(self.mis_school_id or self.mis_options) or "mis" in self.model_fields_set


SECRET_WORDS = ("token", "password", "secret", "key")
"""A setting whose name ends in one of these words holds a secret (in a section the core does not model)."""


def is_secret_name(name: str) -> bool:
    """Whether a setting called ``name`` holds a secret (``api_key``, ``client_secret``, ``token`` …)."""
    return re.split(r"[_\-. ]", name.lower())[-1] in SECRET_WORDS


def _secret_values(table: Mapping[str, Any]) -> dict[str, Any]:
    """``table`` with each text value under a secret's name made a :class:`SecretStr`, nested tables too."""
    return {key: SecretStr(value) if isinstance(value, str) and is_secret_name(key)
            else _secret_values(value) if isinstance(value, Mapping) else value
            for key, value in table.items()}


class EmailNotifierSettings(Section):
    """``[watch.notifiers.email]``: send escalations by SMTP, e.g. through the school's Microsoft 365 or Google relay."""

    host: str = Field(min_length=1)
    """SMTP server, e.g. ``smtp.office365.com`` or ``smtp-relay.gmail.com``."""
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    """How the connection is encrypted: ``starttls`` (upgrade a plain connection, port 587: Microsoft 365,
    Google), ``implicit`` (TLS from the first byte, port 465), or ``none`` (an unencrypted relay on the
    school's own network; refused with a password, which would cross the network in clear)."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """SMTP port; unset means the usual one for ``tls``: 587 for starttls, 465 for implicit, 25 for none."""
    sender: str = Field(min_length=1)
    """The From address, e.g. ``hv-connector@school.example`` (the relay must allow this login to send as it)."""
    username: str | None = None
    """SMTP login (often the sender's address), used with ``password``; unset for a relay that accepts this
    server by its IP address."""
    password: SecretStr | None = None
    """SMTP password (Google: an app password). Set it in the environment as
    ``HVC_WATCH__NOTIFIERS__EMAIL__PASSWORD`` rather than in the file."""
    ca_file: Path | None = None
    """PEM file of the certificate authorities to trust instead of the system's, for a relay whose
    certificate comes from the school's own CA."""
    timeout: float = Field(default=10.0, gt=0)
    """Seconds to wait for each answer from the server; a server that takes longer fails this send,
    which is retried on a later tick."""
    always_to: list[str] = []
    """Addresses that get every escalation, besides the people the chain names."""

    @property
    def effective_port(self) -> int:
        """``port``, or the usual port for ``tls``."""
        return self.port or {"starttls": 587, "implicit": 465, "none": 25}[self.tls]

    @field_validator("password")
    @classmethod
    def _password_needs_a_login_and_tls(cls, password: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if password is None:
            return None
        if not info.data.get("username"):
            raise ValueError("needs `username` set as well, the login it goes with")
        if info.data.get("tls") == "none":
            raise ValueError('would cross the network in clear with tls = "none": set `tls` to "starttls" or '
                             '"implicit"')
        return password


class CommandNotifierSettings(Section):
    """``[watch.notifiers.command]``: run a program (e.g. an SMS gateway's CLI) for each escalation."""

    argv: list[str] = Field(min_length=1)
    """The program and its arguments; ``{to}`` is replaced by the recipient's mobile. Keep its keys out of
    argv (pass them in the program's own config): argv is shown by ``hvc config show``."""
    timeout: float = Field(default=20.0, gt=0)
    """Seconds one run may take; a run still going then is killed (with anything it started) and the
    send is retried on a later tick."""
    always_to: list[str] = []
    """Numbers that get every escalation, besides the people the chain names."""


class NotifiersSettings(BaseModel):
    """``[watch.notifiers]``: how escalations reach people. Plugins may add their own tables here."""

    model_config = ConfigDict(extra="allow")

    email: EmailNotifierSettings | None = None
    """E-mail by SMTP."""
    command: CommandNotifierSettings | None = None
    """Run a command per recipient."""

    def configured(self) -> dict[str, dict[str, Any]]:
        """Notifier name → its options, for the notifiers that are set (secrets stay :class:`SecretStr`)."""
        chosen: dict[str, dict[str, Any]] = {}
        for name in self.model_fields_set | set(self.model_extra or {}):
            value = getattr(self, name)
            if isinstance(value, BaseModel):
                chosen[name] = value.model_dump(exclude_unset=True)
            elif value is not None:
                chosen[name] = dict(value or {})
        return chosen


class RetentionSettings(Section):
    """How long records are kept: the school's schedule, applied nightly by ``hvc retention run``.

    The defaults follow the IRMS Information Management Toolkit for Schools and the DfE data protection
    toolkit for schools; a record under a hold (``hvc retention hold``) is kept whatever they say.
    """

    child_protection_years: int = Field(default=25, ge=1, le=120)
    """A visit that concerned safeguarding (a concern raised, a safeguarding or child-protection visit) is kept
    until the pupil's date of birth plus this many years, then removed (review it first: hold what must stay)."""
    routine_visit_years: int = Field(default=6, ge=0, le=120)
    """A finished visit with no concern is kept this many years after it finished."""
    leaver_data_years: int = Field(default=1, ge=0, le=120)
    """A pupil who left (archived by sync) keeps contacts, medical needs, SEN, alerts and attendance this long;
    the MIS and the pupil file, transferred to the new school, are the records that last."""
    quarantine_days: int = Field(default=30, ge=0, le=3650)
    """A quarantined MIS record (kept only to fix a sync problem) is removed this many days after it was resolved."""


class AuditSettings(Section):
    """The audit log's anchor: where ``hvc audit anchor --mail`` sends the chain's tip for keeping."""

    anchor_to: list[str] = []
    """E-mail addresses (the DPO, a governor) sent the tip, through the ``[watch.notifiers.email]`` relay."""


class WatchSettings(Section):
    """``[watch]``: the lone-worker watch."""

    tick_seconds: float = Field(default=30.0, gt=0)
    """How often ``hvc watch`` looks for what has fallen due."""
    heartbeat_stale_minutes: int = Field(default=5, ge=1)
    """``hvc status`` raises the alarm when the watch has not run for this long."""
    notifiers: NotifiersSettings = Field(default_factory=NotifiersSettings)
    """How escalations reach people (the dashboard and the log always do)."""


class AccessSettings(Section):
    """``[access]``: who may name someone else with ``--as``."""

    service_account: str = "hvc"
    """The OS account the services run as and staff sign in to over SSH (``deploy/install`` creates it)."""
    act_for_others: list[str] = ["hvc"]
    """OS logins or staff ids that may act as anyone with ``--as`` (the service account's scheduled jobs; the
    demo; the tests). Everyone else acts as themselves; a directory entry with the ``admin`` role may too."""


class Settings(BaseModel):
    """Everything an installation is configured with.

    :func:`~hv_connector.config.loading.load_settings` reads them from the environment and the file;
    built directly (in tests), the model holds just what it is given.
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    """Where the store lives."""
    wonde: WondeSettings = Field(default_factory=WondeSettings)
    """The Wonde app that reads the schools' MIS."""
    schools: list[SchoolSettings] = []
    """The schools served: ``[schools.ID]`` tables in hvc.toml."""
    staff: dict[str, list[StaffMember]] = {}
    """Each school's staff directory: ``[[staff.ID]]`` entries with id, name, roles, mobile, DBS and training."""
    watch: WatchSettings = Field(default_factory=WatchSettings)
    """The lone-worker watch and its notifiers."""
    access: AccessSettings = Field(default_factory=AccessSettings)
    """Who acts: staff are known by their SSH key or OS login; who may name someone else."""
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    """How long records are kept (``[retention]``)."""
    audit: AuditSettings = Field(default_factory=AuditSettings)
    """The audit log's anchor (``[audit]``)."""

    @field_validator("schools", mode="before")
    @classmethod
    def _schools_by_id(cls, value: Any) -> Any:
        # `[schools.potton]` tables read best; the id is the table's name. Environment names cannot hold
        # hyphens, so HVC_SCHOOLS__OAK_HILL__… lands on "oak_hill" and is merged into [schools.oak-hill].
        if isinstance(value, list):
            return value  # entries with their own `id`, as HVC_SCHOOLS may give them
        if not isinstance(value, Mapping):
            raise ValueError(f"must be one [schools.ID] table per school (e.g. [schools.potton] with `name` and "
                             f"`policy`), not {type(value).__name__}")
        bad = next((key for key, entry in value.items() if not isinstance(entry, Mapping | None)), None)
        if bad is not None:
            raise ValueError(f"entry {excerpt(bad)} must be a [schools.ID] table with `name` and `policy`, "
                             f"not {type(value[bad]).__name__}")
        merged: dict[str, Any] = {}
        for key in sorted(value, key=lambda k: "_" in k):  # underscored (environment) keys last: they win
            merged[key.replace("_", "-")] = deep_merge(merged.get(key.replace("_", "-"), {}), value[key] or {})
        return [{"id": key, **entry} for key, entry in merged.items()]

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        ids = [school.id for school in self.schools]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"school id(s) {', '.join(twice)} are configured twice; keep one [schools.ID] each")
        return self

    def school(self, school_id: str) -> SchoolSettings:
        """The configured school ``school_id``, or a :class:`ConfigError` naming the configured ones."""
        for school in self.schools:
            if school.id == school_id:
                return school
        known = ", ".join(s.id for s in self.schools) or "none"
        raise ConfigError(
            f"school {school_id!r} is not configured (configured: {known}); add [schools.{school_id}] to hvc.toml"
        )

    def staff_of(self, school_id: str) -> dict[str, StaffMember]:
        """``school_id``'s staff directory, by staff id."""
        return {member.id: member for member in self.staff.get(school_id, [])}


def masked_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return REDACTED  # unparseable: it might be anything, so show none of it
    if parsed.password is None:
        return url
    return parsed.render_as_string(hide_password=True).replace(":***@", f":{REDACTED}@", 1)


def url_password(url: str) -> str | None:
    try:
        password = make_url(url).password
    except ArgumentError:
        return None
    return str(password) if password else None
