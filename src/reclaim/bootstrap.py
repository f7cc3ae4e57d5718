"""The only place that builds engines, connectors and clocks (DESIGN.md "wire at the edge")."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Engine, select

from reclaim.adapters.channels.dkim import DkimSigner
from reclaim.adapters.channels.email import SmtpEmailSender
from reclaim.adapters.channels.sms import TwilioSmsSender, normalize_e164
from reclaim.adapters.channels.webhook import WebhookSender
from reclaim.adapters.db import migrate, problems
from reclaim.adapters.db.engine import make_engine, make_session_factory
from reclaim.adapters.db.flow_repositories import read_template
from reclaim.adapters.db.tables import meta, start_mappers
from reclaim.adapters.db.uow import SqlUnitOfWork
from reclaim.adapters.flows import default_flow, default_source
from reclaim.adapters.platforms import SOURCES, connector_for
from reclaim.adapters.platforms.actions import HttpPlatformClient
from reclaim.adapters.platforms.generic import split_batch
from reclaim.adapters.templates import CompiledTemplate, TemplateRenderer
from reclaim.config import Settings
from reclaim.domain.flows import Flow
from reclaim.domain.messages import Channel, OutgoingEmail, OutgoingSms, OutgoingWebhook, SendResult
from reclaim.errors import ConfigError, DeliveryError, ReclaimError
from reclaim.services.ports import PlatformClient, PlatformConnector, Renderer, Senders
from reclaim.services.tracking import Links


def system_clock() -> datetime:
    """The wall clock. Nothing else in Reclaim reads it."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    uow: Callable[[], SqlUnitOfWork]
    reader: Callable[[], SqlUnitOfWork]  # a unit of work that never writes (nothing to commit)
    connectors: dict[str, PlatformConnector]
    split_batch: Callable[[bytes], list[bytes]]
    clock: Callable[[], datetime]
    renderer: Renderer
    senders: Callable[[], Senders]  # one per worker thread
    platform_client: PlatformClient
    _links: Links | None = None

    def schema_ready(self) -> bool:
        return migrate.current_revision(self.engine) == migrate.head_revision()

    def close(self) -> None:
        self.platform_client.close()
        self.engine.dispose()

    def links(self) -> Links:
        """Tracked-link builder; needs the secret key, so only after ``reclaim init``."""
        if self._links is None:
            derived = hashlib.sha256(b"reclaim-links\x00" + secret_key(self).encode()).digest()
            self._links = Links(base_url=self.settings.public_url, key=derived)
        return self._links

    @staticmethod
    def flow_defaults(kind: str) -> tuple[str, Flow]:
        return default_source(kind), default_flow(kind)


def bootstrap(settings: Settings, *, clock: Callable[[], datetime] = system_clock) -> Runtime:
    start_mappers()
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    factory = make_session_factory(engine)
    # Sessions that only read: on SQLite they read a WAL snapshot beside the writer instead
    # of taking the write lock (authentication on every API request).
    reading = make_session_factory(engine.execution_options(reclaim_readonly=True))
    return Runtime(
        settings=settings,
        engine=engine,
        uow=lambda: SqlUnitOfWork(factory),
        reader=lambda: SqlUnitOfWork(reading),
        connectors={s: connector_for(s) for s in SOURCES},
        split_batch=split_batch,
        clock=clock,
        renderer=TemplateRenderer(overrides=StoreTemplates(engine)),
        senders=lambda: ChannelSenders(settings),
        platform_client=HttpPlatformClient(),
    )


def init_database(rt: Runtime) -> str | None:
    """Create or upgrade the schema; make sure a secret key exists. Returns the revision."""
    return migrate_database(rt)[1]


def database_absent(database_url: str) -> ReclaimError | None:
    """A SQLite file that does not exist yet, named before anything connects to it (which
    would leave an empty file): only ``reclaim init`` creates a database."""
    return problems.absent(database_url)


def open_database(rt: Runtime) -> tuple[str | None, str | None]:
    """For a long-running process (``reclaim serve``, ``reclaim worker``): a database that
    ``reclaim init`` created is upgraded to this Reclaim's revision, as after an upgrade of
    Reclaim; one never initialised is refused, never created. Returns the revisions before
    and after (equal: nothing to do)."""
    before = migrate.current_revision(rt.engine)
    if before is None:
        raise problems.not_initialised(rt.settings.database_url)
    if before == migrate.head_revision():
        return before, before
    return migrate_database(rt)


def migrate_database(rt: Runtime) -> tuple[str | None, str | None]:
    """:func:`init_database`, returning the revisions before and after (None: empty)."""
    before = migrate.upgrade(rt.engine)
    with rt.engine.begin() as conn:
        if conn.execute(select(meta.c.value).where(meta.c.key == "secret_key")).first() is None:
            conn.execute(meta.insert().values(key="secret_key", value=secrets.token_hex(32)))
    return before, migrate.current_revision(rt.engine)


def explain_database_error(exc: BaseException, database_url: str) -> ReclaimError | None:
    """A database failure an operator can fix (not reachable, not initialised, a SQLite
    folder that does not exist …) as a Reclaim error naming the problem and the fix; None
    for anything else."""
    return problems.explain(exc, database_url)


def secret_key(rt: Runtime) -> str:
    """``RECLAIM_SECRET_KEY``, else the key generated into the database by ``reclaim init``."""
    if rt.settings.secret_key:
        return rt.settings.secret_key
    with rt.engine.connect() as conn:
        value = conn.execute(select(meta.c.value).where(meta.c.key == "secret_key")).scalar()
    if value is None:
        raise ConfigError(
            "RECLAIM_SECRET_KEY is not set and the database has none: run `reclaim init`"
        )
    return str(value)


class StoreTemplates:
    """Merchants' own templates for the renderer, read from the database and kept for
    ``ttl`` seconds (a saved template reaches every worker within that time).

    The cache's clock is ``time.monotonic``: it only ages cached rows, it never decides
    anything about customers or messages.
    """

    def __init__(self, engine: Engine, *, ttl: float = 10.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, str, str], tuple[float, CompiledTemplate | None]] = {}

    def __call__(
        self, store_id: str, key: str, channel: str, locale: str
    ) -> CompiledTemplate | None:
        at = time.monotonic()
        slot = (store_id, key, str(channel), locale)
        with self._lock:
            hit = self._cache.get(slot)
        if hit is not None and at - hit[0] < self._ttl:
            return hit[1]
        data = read_template(self._engine, store_id, key, str(channel), locale)
        found = None if data is None else CompiledTemplate.from_json(data)
        with self._lock:
            self._cache[slot] = (at, found)
        return found

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


class ChannelSenders:
    """The channels configured by ``RECLAIM_SMTP_URL`` / ``RECLAIM_SMS_*`` for one worker
    thread (it keeps one SMTP connection open across messages). Implements ``Senders``."""

    def __init__(self, settings: Settings) -> None:
        dkim = None
        if settings.dkim_key_file and settings.dkim_domain and settings.dkim_selector:
            dkim = DkimSigner.from_files(
                settings.dkim_domain, settings.dkim_selector, Path(settings.dkim_key_file)
            )
        # EHLO with our public name: smtplib would otherwise look this machine's name up
        # in DNS on every connection.
        helo = urlsplit(settings.public_url).hostname or "localhost"
        self._email = (
            SmtpEmailSender(settings.smtp_url, dkim=dkim, local_hostname=helo)
            if settings.smtp_url
            else None
        )
        self._sms = None
        if settings.sms_url and settings.sms_account and settings.sms_token and settings.sms_from:
            self._sms = TwilioSmsSender(
                base_url=settings.sms_url,
                account_sid=settings.sms_account,
                auth_token=settings.sms_token,
                sender=settings.sms_from,
            )
        self._webhook: WebhookSender | None = None  # made on first use: its TLS setup costs ~40 ms

    def available(self, channel: Channel) -> bool:
        if channel is Channel.EMAIL:
            return self._email is not None
        if channel is Channel.SMS:
            return self._sms is not None
        return True  # per store: its webhook URL decides

    def send_email(self, email: OutgoingEmail, *, now: datetime) -> SendResult:
        if self._email is None:
            raise DeliveryError("no SMTP server configured (RECLAIM_SMTP_URL)", permanent=True)
        return self._email.send(email, now=now)

    def send_sms(self, sms: OutgoingSms) -> SendResult:
        if self._sms is None:
            raise DeliveryError("no SMS provider configured (RECLAIM_SMS_URL)", permanent=True)
        return self._sms.send(replace(sms, to=normalize_e164(sms.to, default_region=None)))

    def send_webhook(self, hook: OutgoingWebhook, *, now: datetime) -> SendResult:
        if self._webhook is None:
            self._webhook = WebhookSender()
        return self._webhook.send(hook, now=now)

    def close(self) -> None:
        for sender in (self._email, self._sms, self._webhook):
            if sender is not None:
                sender.close()
