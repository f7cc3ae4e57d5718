"""``reclaim experiment``: A/B/n tests of a store's flow or of one of its steps (issue 15,
docs/experiments.md): start one, read where it stands (the always-valid test, the split
check, the decision and its evidence), stop it and freeze its decision."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from rich.markup import escape

from reclaim.domain.cases import CaseKind
from reclaim.domain.variants import parse_variant
from reclaim.entrypoints.cli.common import actor, console, handled, runtime
from reclaim.entrypoints.tables import print_table
from reclaim.errors import InvalidInput
from reclaim.services.experiment_view import ExperimentView, experiment_json

KINDS = click.Choice([k.value for k in CaseKind])


def _as_cli(call: Callable[[], Any]) -> Any:
    """The service's field names as this command's options: what it says of one variant
    ("variant 'B': after must be …") is said of ``--variant 'B'``, the rest of ``--variant``."""
    try:
        return call()
    except InvalidInput as exc:
        if not (exc.field and exc.field.startswith("variants")):
            raise
        said = str(exc)
        if said.startswith("variant "):
            raise InvalidInput(f"--{said}") from None
        raise InvalidInput(said, field="variant") from None


def _pts(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:+.1f}"


def _share(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f} %"


def _decision(view: ExperimentView) -> str:
    if view.decision == "winner":
        return f"{view.winner} wins"
    return str(view.decision)


def _show(view: ExperimentView) -> None:
    e = view.experiment
    what = "whole flows" if e.target == "flow" else f"step {e.target}"
    since = e.started_at.strftime("%Y-%m-%d %H:%M UTC")
    until = "" if e.stopped_at is None else f", stopped {e.stopped_at:%Y-%m-%d %H:%M} UTC"
    console.print(
        f"[bold]{escape(e.name)}[/bold] (#{e.id}) · {e.kind} · {what} · {e.status} "
        f"since {since}{until}",
        highlight=False,
    )
    against = {c.variant: c for c in view.comparisons}
    rows = []
    for arm in view.arms:
        c = against.get(arm.key)
        changes = ", ".join(f"{k}={v}" for k, v in arm.overrides.items()) or (
            "control" if arm.key == view.control else "as it is"
        )
        rows.append(
            (
                arm.key,
                str(arm.weight),
                "–" if arm.flow_version is None else f"v{arm.flow_version}",
                changes,
                str(arm.cases),
                str(arm.recovered),
                _share(arm.rate),
                "–" if c is None else _pts(c.result.difference),
                "–" if c is None else f"{_pts(c.result.low)} … {_pts(c.result.high)}",
                "–" if c is None else f"{c.result.p_value:.3g}",
            )
        )
    level = f"{1 - view.alpha:.1%}".replace("%", " %")
    headers = ("variant", "weight", "flow", "changes", "cases", "recovered", "rate")
    print_table(
        console,
        (*headers, "vs control, pts", f"{level} conf. sequence", "p (always valid)"),
        rows,
        keys=("variant",),
    )
    srm = "ok" if view.decision != "sample ratio mismatch" else "BROKEN"
    console.print(f"split between variants: p = {view.srm_p:.3g} ({srm})", highlight=False)
    console.print(
        f"decision: [bold]{escape(_decision(view))}[/bold] — {escape(view.evidence)}",
        highlight=False,
        soft_wrap=True,
    )


def _emit(views: list[ExperimentView], as_json: bool, *, one: bool) -> None:
    if as_json:
        data = [experiment_json(v) for v in views]
        click.echo(json.dumps(data[0] if one else {"experiments": data}, ensure_ascii=False))
        return
    if not views:
        console.print("no experiments yet (reclaim experiment start …)")
    for n, view in enumerate(views):
        if n:
            console.print()
        _show(view)


@click.group("experiment")
def experiment() -> None:
    """A/B/n experiments of a store's flow or of one step (docs/experiments.md)."""


@experiment.command("start")
@click.option("--store", "store_id", required=True)
@click.option("--kind", type=KINDS, required=True, help="The case kind whose flow is tested")
@click.option("--name", required=True, help="A name of your own, unique in the store")
@click.option("--step", help="The step to vary (its key); leave out to test whole flows")
@click.option(
    "--variant",
    "variants",
    multiple=True,
    required=True,
    metavar="KEY[:WEIGHT][=FIELD=VALUE,…]",
    help="A variant, the first the control: A, B:2=after=2h, C=template=…, "
    "D=incentive.value=15, E=incentive=none, F=channel=sms; of whole flows: old=flow=3",
)
@click.option("--json", "as_json", is_flag=True)
@handled
def experiment_start(
    store_id: str,
    kind: str,
    name: str,
    step: str | None,
    variants: tuple[str, ...],
    as_json: bool,
) -> None:
    """Start an experiment: from now on, each new case of KIND that is not held out gets a
    variant by hashing the case, and runs that variant's flow."""
    from reclaim.services.experiments import start_experiment

    specs = [parse_variant(v, said="--variant") for v in variants]
    rt = runtime()
    try:
        view = _as_cli(
            lambda: start_experiment(
                uow=rt.uow(),
                store_id=store_id,
                name=name,
                kind=kind,
                variants=specs,
                step=step,
                defaults=rt.flow_defaults,
                now=rt.clock(),
                actor=actor(rt),
            )
        )
    finally:
        rt.close()
    _emit([view], as_json, one=True)


@experiment.command("status")
@click.option("--store", "store_id", required=True)
@click.option("--name", help="One experiment (default: every one, the newest first)")
@click.option("--json", "as_json", is_flag=True)
@handled
def experiment_status(store_id: str, name: str | None, as_json: bool) -> None:
    """Where the store's experiments stand: cases and recoveries per variant, each against
    the control with its always-valid p-value and confidence sequence, the split check, and
    the decision with its evidence (a stopped one: as frozen when it stopped)."""
    from reclaim.services import experiments as service

    rt = runtime()
    try:
        views = service.experiment_status(
            uow=rt.reader(), store_id=store_id, name=name, now=rt.clock()
        )
    finally:
        rt.close()
    _emit(views, as_json, one=name is not None)


@experiment.command("stop")
@click.option("--store", "store_id", required=True)
@click.option("--name", required=True)
@click.option("--json", "as_json", is_flag=True)
@handled
def experiment_stop(store_id: str, name: str, as_json: bool) -> None:
    """Stop an experiment and freeze its decision; new cases run the store's current flow."""
    from reclaim.services.experiments import stop_experiment

    rt = runtime()
    try:
        view = stop_experiment(
            uow=rt.uow(), store_id=store_id, name=name, now=rt.clock(), actor=actor(rt)
        )
    finally:
        rt.close()
    _emit([view], as_json, one=True)
