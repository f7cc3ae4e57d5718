"""The ``reclaim`` command: the ``main`` group, with every command group attached. Each group
is in a module of its own (``store``, ``flows``, ``inbox`` …); what they share is in
``common``."""

from __future__ import annotations

import click

from reclaim import __version__
from reclaim.entrypoints.cli import (
    coupons,
    customer,
    demo,
    experiments,
    flows,
    inbox,
    prune,
    report,
    serve,
    stock,
    store,
    suppressions,
    templates,
    users,
)
from reclaim.entrypoints.cli.common import State


@click.group()
@click.version_option(__version__, prog_name="reclaim")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
def main(verbose: bool) -> None:
    """Reclaim wins back abandoned checkouts, pending orders and failed payments."""
    State.verbose = verbose


for command in (
    serve.init,
    store.store,
    flows.flows,
    serve.serve,
    serve.worker,
    inbox.inbox,
    demo.demo,
    demo.sim,
    report.report,
    experiments.experiment,
    coupons.coupons,
    stock.warehouse,
    stock.stock,
    stock.holds_group,
    stock.lanes,
    stock.products,
    suppressions.suppressions,
    templates.templates,
    customer.customer,
    customer.audit,
    prune.prune,
    users.user,
):
    main.add_command(command)
