"""``reclaim templates``: a store's own message templates (SPEC S4).

A template is checked and its CSS inlined when it is saved (never per send), and refused
when rendering it for a sample cart costs too much; a preview renders it for a sample
customer in any locale; a test send delivers it over the configured SMTP server.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from reclaim.bootstrap import (
    check_template_cost,
    compile_store_template,
    default_templates,
    template_locale,
)
from reclaim.domain.messages import Channel, OutgoingEmail, StoreView
from reclaim.entrypoints.cli.common import actor, console, handled, runtime
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.stores import list_stores
from reclaim.services.templates import (
    delete_template,
    sample_context,
    save_template,
    store_view,
)

CHANNELS = click.Choice([c.value for c in Channel])


@click.group()
def templates() -> None:
    """Message templates: defaults in en, de, fr, es, zh-CN and ja, or a store's own."""


@templates.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print {keys, locales} as JSON")
def templates_list(as_json: bool) -> None:
    """The default template keys and locales."""
    renderer = default_templates()
    if as_json:
        keys = list(renderer.keys())
        click.echo(json.dumps({"keys": keys, "locales": list(renderer.locales())}))
        return
    for key in renderer.keys():  # noqa: SIM118 - a method, not a dict
        console.print(key)
    console.print(f"locales: {', '.join(renderer.locales())}")


@templates.command("set")
@click.option("--store", "store_id", required=True)
@click.option("--key", required=True, help="e.g. abandoned_checkout/reminder")
@click.option("--locale", required=True, help="e.g. de, de-AT, zh-CN")
@click.option("--channel", type=CHANNELS, default="email", show_default=True)
@click.option("--subject", default="", help="Email subject (a template too)")
@click.option("--html", "html_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--text", "text_file", type=click.Path(exists=True, dir_okay=False), required=True)
@handled
def templates_set(
    store_id: str,
    key: str,
    locale: str,
    channel: str,
    subject: str,
    html_file: str | None,
    text_file: str,
) -> None:
    """Check a store's own template (syntax, and its cost for a sample cart), inline its CSS
    and save it."""
    html = Path(html_file).read_text(encoding="utf-8") if html_file else None
    compiled = compile_store_template(
        key=key,
        locale=locale,
        channel=Channel(channel),
        subject=subject,
        html=html,
        text=Path(text_file).read_text(encoding="utf-8"),
    )
    rt = runtime()
    save_template(
        uow=rt.uow(),
        store_id=store_id,
        key=compiled.key,
        channel=compiled.channel.value,
        locale=compiled.locale,
        compiled=json.loads(compiled.to_json()),
        now=rt.clock(),
        cost_check=check_template_cost,
        actor=actor(rt),
    )
    console.print(f"saved {compiled.key} ({compiled.channel.value}, {compiled.locale})")


@templates.command("reset")
@click.option("--store", "store_id", required=True)
@click.option("--key", required=True)
@click.option("--locale", required=True)
@click.option("--channel", type=CHANNELS, default="email", show_default=True)
@handled
def templates_reset(store_id: str, key: str, locale: str, channel: str) -> None:
    """Go back to the default template."""
    rt = runtime()
    if not delete_template(
        uow=rt.uow(),
        store_id=store_id,
        key=key,
        channel=channel,
        locale=template_locale(locale),
        actor=actor(rt),
    ):
        raise NotFound(f"store {store_id} has no template of its own for {key} in {locale}")
    console.print(f"{key} ({channel}, {locale}) is the default again")


def _store_view(store_id: str) -> StoreView:
    rt = runtime()
    for s in list_stores(uow=rt.uow()):
        if s.id == store_id:
            return store_view(s)
    raise NotFound(f"no store {store_id[:40]!r}")


@templates.command("preview")
@click.option("--store", "store_id", required=True)
@click.option("--key", required=True)
@click.option("--locale", default="en", show_default=True)
@click.option("--channel", type=CHANNELS, default="email", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the HTML part here")
@handled
def templates_preview(store_id: str, key: str, locale: str, channel: str, out: str | None) -> None:
    """Render a template (the store's own, else the default) for a sample customer."""
    rt = runtime()
    context = sample_context(
        key=key,
        locale=locale,
        store=_store_view(store_id),
        public_url=rt.settings.public_url,
        now=rt.clock(),
    )
    rendered = rt.renderer.render(
        key=key, channel=Channel(channel), context=context, store_id=store_id
    )
    if rendered.subject:
        console.print(f"[bold]Subject:[/bold] {rendered.subject}", highlight=False)
    console.print(rendered.text, highlight=False, markup=False)
    if out and rendered.html:
        Path(out).write_text(rendered.html, encoding="utf-8")
        console.print(f"HTML written to {out}")


@templates.command("send-test")
@click.option("--store", "store_id", required=True)
@click.option("--key", required=True)
@click.option("--locale", default="en", show_default=True)
@click.option("--to", "to", required=True, help="Your own address")
@handled
def templates_send_test(store_id: str, key: str, locale: str, to: str) -> None:
    """Send a sample of a template by email (needs RECLAIM_SMTP_URL)."""
    rt = runtime()
    store = _store_view(store_id)
    context = sample_context(
        key=key, locale=locale, store=store, public_url=rt.settings.public_url, now=rt.clock()
    )
    rendered = rt.renderer.render(
        key=key, channel=Channel.EMAIL, context=context, store_id=store_id
    )
    senders = rt.senders()
    if not senders.available(Channel.EMAIL):
        raise InvalidInput("no SMTP server configured", field="RECLAIM_SMTP_URL")
    try:
        senders.send_email(
            OutgoingEmail(
                to=to,
                from_address=f"{store.name} <shop@{store.domain}>",
                subject=f"[test] {rendered.subject}",
                text=rendered.text,
                html=rendered.html or "",
                message_id=f"<test.{rt.clock().timestamp():.0f}@{store.domain}>",
                list_unsubscribe_url=context.unsubscribe_url,
            ),
            now=rt.clock(),
        )
    finally:
        senders.close()
    console.print(f"sent a test of {key} ({locale}) to {to}")
