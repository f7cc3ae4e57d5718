"""``reclaim demo`` and ``reclaim sim``: the store simulator through Reclaim, from the command
line (the runs themselves: ``reclaim.entrypoints.demo``)."""

from __future__ import annotations

from collections.abc import Callable

import click

from reclaim.entrypoints.cli.common import F, console, handled
from reclaim.sim.pacing import DEMO_CUSTOMERS, DEMO_HOLDOUT


def _simulation_options(holdout: float) -> Callable[[F], F]:
    """``--holdout`` (defaulting to ``holdout``) and ``--response-scale``, shared by ``reclaim
    demo`` and ``reclaim sim``."""
    return lambda command: _with_options(command, holdout)


def _with_options(command: F, holdout: float) -> F:
    command = click.option(
        "--response-scale",
        default=1.0,
        show_default=True,
        type=click.FloatRange(min=0),
        help="Multiplies how often a message persuades a customer",
    )(command)
    return click.option(
        "--holdout",
        default=holdout,
        show_default=True,
        type=click.FloatRange(0, 0.5),
        help="Share of cases held out of messages",
    )(command)


@click.command()
@click.option(
    "--dir",
    "directory",
    default="reclaim-demo",
    show_default=True,
    help="Where the demo database and report go",
)
@click.option(
    "--customers", default=DEMO_CUSTOMERS, show_default=True, type=click.IntRange(10, 100_000)
)
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--days", default=30, show_default=True, type=click.IntRange(1, 30), help="Simulated days"
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON")
@click.option("--no-serve", is_flag=True, help="Stop after the report (scripts, CI)")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="API port"
)
@_simulation_options(DEMO_HOLDOUT)
@handled
def demo(
    directory: str,
    customers: int,
    seed: int,
    days: int,
    as_json: bool,
    no_serve: bool,
    port: int,
    holdout: float,
    response_scale: float,
) -> None:
    """Simulate 30 days of four stores through Reclaim (webhooks, worker, emails, customers
    reacting), print the summary, write an HTML report, then serve the API on the data."""
    from reclaim.entrypoints.demo import run_demo

    run_demo(
        directory=directory,
        customers=customers,
        seed=seed,
        days=days,
        as_json=as_json,
        console=console,
        serve=not no_serve,
        port=port,
        holdout=holdout,
        response_scale=response_scale,
    )


@click.command()
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 90))
@click.option("--customers", default=20_000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--database-url",
    help="An empty database to run on (default: a fresh reclaim.sqlite3 in --dir)",
)
@click.option(
    "--dir",
    "directory",
    default="reclaim-sim",
    show_default=True,
    help="Where the database (unless --database-url), report and summary go",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON")
@click.option("--realtime", is_flag=True, help="Play at wall-clock pace, the API on --port")
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="With --realtime: simulated seconds per real second",
)
@click.option("--port", type=click.IntRange(1, 65535), help="API port (--realtime: 8000)")
@_simulation_options(0.10)
@handled
def sim(
    days: int,
    customers: int,
    seed: int,
    database_url: str | None,
    directory: str,
    as_json: bool,
    realtime: bool,
    speed: float,
    port: int | None,
    holdout: float,
    response_scale: float,
) -> None:
    """Run the store simulator against Reclaim, without serving afterwards."""
    from reclaim.entrypoints.demo import run_sim

    run_sim(
        directory=directory,
        database_url=database_url,
        customers=customers,
        seed=seed,
        days=days,
        as_json=as_json,
        console=console,
        realtime=realtime,
        speed=speed,
        port=port,
        holdout=holdout,
        response_scale=response_scale,
    )
