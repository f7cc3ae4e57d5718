"""The only place that builds engines, connectors and clocks (DESIGN.md "wire at the edge")."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from reclaim.adapters.channels.dkim import DkimSigner
from reclaim.adapters.channels.email import SmtpEmailSender
from reclaim.adapters.channels.senders import ChannelSenders
from reclaim.adapters.channels.sms_providers import sms_sender
from reclaim.adapters.db import migrate, problems
from reclaim.adapters.db.engine import make_engine, make_session_factory
from reclaim.adapters.db.erasure_key import ErasureKey
from reclaim.adapters.db.repos.privacy import compact
from reclaim.adapters.db.store_templates import StoreTemplates
from reclaim.adapters.db.tables import meta, start_mappers
from reclaim.adapters.db.uow import SqlUnitOfWork
from reclaim.adapters.flows import default_flow, default_source, load_flow
from reclaim.adapters.logistics_files import read_lanes, read_stock, read_warehouses
from reclaim.adapters.passwords import Argon2Passwords
from reclaim.adapters.platforms import SOURCES, connector_for
from reclaim.adapters.platforms.actions import HttpPlatformClient
from reclaim.adapters.platforms.generic import split_batch
from reclaim.adapters.reports import ReportPages, render_html, render_pdf
from reclaim.adapters.reports.fonts import missing_font_warning
from reclaim.adapters.templates import CompiledTemplate, TemplateRenderer, compile_template, pages
from reclaim.adapters.templates.compiled import normalise_locale
from reclaim.adapters.templates.duties import check_duties
from reclaim.adapters.templates.renderer import check_cost
from reclaim.config import Settings
from reclaim.domain.flows import Flow
from reclaim.domain.fulfilment import Lane, Warehouse
from reclaim.domain.messages import Channel, MessageContext
from reclaim.errors import ConfigError, ReclaimError
from reclaim.services.ports import (
    PasswordHasher,
    PlatformClient,
    PlatformConnector,
    Renderer,
    Senders,
)
from reclaim.services.reports import Report
from reclaim.services.reports.mail import ReportRenderer
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
    passwords: PasswordHasher = field(default_factory=Argon2Passwords)  # console sign-in
    _links: Links | None = None

    def schema_ready(self) -> bool:
        return migrate.current_revision(self.engine) == migrate.head_revision()

    def not_ready(self) -> str | None:
        """Why the API cannot serve requests yet (``/readyz``): the database does not answer
        or its schema is not current; None when ready."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
            return (
                None
                if self.schema_ready()
                else "database schema is not current: run `reclaim init`"
            )
        except Exception as exc:
            return f"database unavailable: {type(exc).__name__}"

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
    erasure = ErasureKey(settings.secret_key)  # erased customers' hashes: read once
    return Runtime(
        settings=settings,
        engine=engine,
        uow=lambda: SqlUnitOfWork(factory, erasure),
        reader=lambda: SqlUnitOfWork(reading, erasure),
        connectors={s: connector_for(s) for s in SOURCES},
        split_batch=split_batch,
        clock=clock,
        renderer=TemplateRenderer(overrides=StoreTemplates(engine)),
        senders=lambda: channel_senders(settings),
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


# What the database driver raises, as SQLAlchemy wraps it: the API answers those that
# :func:`explain_database_error` explains with 503 or 507 instead of a 500.
DatabaseError = DBAPIError


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


def compact_tables(rt: Runtime, tables: Collection[str]) -> None:
    """After a customer's erasure: clear what the database files keep of the deleted rows
    as far as the database allows (``adapters.db.repos.privacy.compact``)."""
    compact(rt.engine, sorted(tables))


def channel_senders(settings: Settings) -> ChannelSenders:
    """The channels configured by ``RECLAIM_SMTP_URL``, ``RECLAIM_DKIM_*`` and
    ``RECLAIM_SMS_*`` (the provider named by ``RECLAIM_SMS_PROVIDER``), for one worker
    thread: it keeps one SMTP connection open across messages."""
    dkim = None
    if settings.dkim_key_file and settings.dkim_domain and settings.dkim_selector:
        dkim = DkimSigner.from_files(
            settings.dkim_domain, settings.dkim_selector, Path(settings.dkim_key_file)
        )
    # EHLO with our public name: smtplib would otherwise look this machine's name up
    # in DNS on every connection.
    helo = urlsplit(settings.public_url).hostname or "localhost"
    email = (
        SmtpEmailSender(settings.smtp_url, dkim=dkim, local_hostname=helo)
        if settings.smtp_url
        else None
    )
    sms = None
    if settings.sms_url and settings.sms_account and settings.sms_token and settings.sms_from:
        sms = sms_sender(
            settings.sms_provider,
            base_url=settings.sms_url,
            account_sid=settings.sms_account,
            auth_token=settings.sms_token,
            sender=settings.sms_from,
        )
    return ChannelSenders(email=email, sms=sms)


# -- for the command line: the files and templates it reads, through their adapters ----------


def default_flow_source(kind: str) -> str:
    """The default flow of ``kind`` as YAML, to copy and edit (``reclaim flows default``)."""
    return default_source(kind)


def read_flow(source: str) -> Flow:
    """A flow from its YAML, checked (``reclaim flows set``)."""
    return load_flow(source)


def read_warehouse_file(path: Path) -> list[Warehouse]:
    """Warehouses from a CSV (``reclaim warehouse import``); messages name the file."""
    return read_warehouses(path)


def read_stock_file(path: Path, *, warehouses: Collection[str]) -> dict[tuple[str, str], int]:
    """On-hand levels per (warehouse, SKU) from a CSV (``reclaim stock import``)."""
    return read_stock(path, warehouses=warehouses)


def read_lane_file(path: Path, *, warehouses: Collection[str]) -> list[Lane]:
    """Shipping lanes from a CSV or YAML file (``reclaim lanes import``)."""
    return read_lanes(path, warehouses=warehouses)


def default_templates() -> TemplateRenderer:
    """The default templates alone, no store's own (``reclaim templates list``)."""
    return TemplateRenderer()


def compile_store_template(
    *, key: str, locale: str, channel: Channel, subject: str, html: str | None, text: str
) -> CompiledTemplate:
    """A store's own template checked and its CSS inlined, once (``reclaim templates set``)."""
    return compile_template(
        key=key, locale=locale, channel=channel, subject=subject, html=html, text=text
    )


def check_template_cost(compiled: Mapping[str, Any], context: MessageContext) -> None:
    """Refuse a store's template that costs too much to render for a sample cart, or whose
    e-mail, rendered for it, shows no unsubscribe link or postal address (the sender's
    duties): the save-time check ``reclaim templates set`` gives the service."""
    check_cost(compiled, context)
    check_duties(compiled, context)


def fresh_renderer(rt: Runtime) -> Renderer:
    """The renderer the step engine uses, reading stores' templates without its few
    seconds' cache: the console's preview shows what was saved a moment ago."""
    return TemplateRenderer(overrides=StoreTemplates(rt.engine, ttl=0))


def template_locale(tag: str) -> str:
    """``de_at`` → ``de-AT``; refuses tags Babel does not know (InvalidInput, field locale)."""
    return normalise_locale(tag)


def page_words(tag: str | None) -> pages.PageWords:
    """The words, ``lang`` and ``dir`` of a public page (unsubscribe) for a message in locale
    ``tag``: the tracking routes reach the templates through here."""
    return pages.page_words(tag)


def report_html(report: Report) -> str:
    """A report as one self-contained HTML page (``reclaim report --format html``)."""
    return render_html(report)


def report_pdf(report: Report) -> bytes:
    """The same page printed to PDF by WeasyPrint (``reclaim report --format pdf``)."""
    return render_pdf(report)


def report_font_warning(locale: str) -> str | None:
    """A line to show when a PDF in ``locale`` would print as boxes (no CJK font)."""
    return missing_font_warning(locale)


def report_renderer() -> ReportRenderer:
    """Reports drawn for email: the page, its PDF, a subject and a plain-text summary
    (the worker's scheduled reports, ``reclaim report send``)."""
    return ReportPages()
