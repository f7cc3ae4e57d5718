"""Experiments (issue 15, docs/experiments.md): start an A/B/n test of the store's flow or of
one step, read where each stands, stop one and freeze its decision. Reading needs a
``cases:read`` key; starting and stopping a ``cases:write`` key."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from reclaim.domain.variants import MAX_VARIANTS, VariantSpec
from reclaim.entrypoints.api.deps import ApiActor, Operator, Reader, Rt
from reclaim.entrypoints.api.inputs import read_model, takes
from reclaim.entrypoints.edge import MAX_INT
from reclaim.services import experiments as service
from reclaim.services.experiment_view import experiment_json

router = APIRouter(tags=["experiments"])

ExperimentId = Annotated[int, Path(ge=1, le=MAX_INT)]


class VariantIn(BaseModel):
    key: str = Field(min_length=1, max_length=32, description="A, B, short_delay …")
    weight: int = Field(default=1, ge=1, le=1000)
    flow_version: int | None = Field(
        default=None, ge=1, le=MAX_INT, description="Of whole flows: the version to run"
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="Of one step: after, anchor, channel, fallback, template, incentive "
        '(as in the flow file: {"after": "2h"}, {"incentive": {"value": 15}}, '
        '{"incentive": null})',
    )


class ExperimentIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(description="abandoned_checkout | pending_order | failed_payment | …")
    step: str | None = Field(
        default=None, max_length=32, description="The step to vary; null: whole flows"
    )
    variants: list[VariantIn] = Field(
        min_length=2, max_length=MAX_VARIANTS, description="The first is the control"
    )


class VariantOut(BaseModel):
    key: str
    weight: int
    flow_id: int | None
    flow_version: int | None
    overrides: dict[str, Any]
    cases: int
    recovered: int
    rate: float | None


class ComparisonOut(BaseModel):
    variant: str
    control: str
    difference: float | None  # variant − control recovery rate
    confidence_sequence: list[float | None]  # [low, high], valid however often one looks
    p_value: float | None  # always valid
    alpha: float
    tested: bool  # the minimum sample was reached
    decision: str
    winner: str | None
    evidence: str


class Experiment(BaseModel):
    """An experiment and where it stands; a stopped one as frozen when it stopped."""

    id: int | None
    name: str
    kind: str
    target: str  # "flow", or the step's key
    status: str  # running | stopped
    started_at: str | None
    stopped_at: str | None
    as_of: str | None
    control: str
    variants: list[VariantOut]
    comparisons: list[ComparisonOut]
    srm_p_value: float | None
    decision: str  # keep running | winner | no difference | sample ratio mismatch
    winner: str | None
    evidence: str


class Experiments(BaseModel):
    experiments: list[Experiment]


@router.post(
    "/api/v1/experiments",
    summary="Start an experiment of the store's flow or of one step",
    openapi_extra=takes(ExperimentIn),
    status_code=201,
    response_model=Experiment,
    responses={409: {"description": "the name is taken, or one of the kind runs already"}},
)
async def start_experiment(
    request: Request, store_id: Operator, actor: ApiActor, rt: Rt
) -> JSONResponse:
    body = await read_model(request, ExperimentIn)
    view = await run_in_threadpool(
        service.start_experiment,
        uow=rt.uow(),
        store_id=store_id,
        name=body.name,
        kind=body.kind,
        step=body.step,
        variants=[
            VariantSpec(v.key, v.weight, v.flow_version, dict(v.overrides)) for v in body.variants
        ],
        defaults=rt.flow_defaults,
        now=actor.at,
        actor=actor,
    )
    return JSONResponse(experiment_json(view), status_code=201)


@router.get(
    "/api/v1/experiments",
    summary="The store's experiments, the newest first, with where each stands",
    response_model=Experiments,
)
async def list_experiments(store_id: Reader, rt: Rt) -> dict[str, Any]:
    views = await run_in_threadpool(
        service.experiment_status, uow=rt.reader(), store_id=store_id, now=rt.clock()
    )
    return {"experiments": [experiment_json(v) for v in views]}


@router.get(
    "/api/v1/experiments/{experiment_id}",
    summary="One experiment and where it stands",
    response_model=Experiment,
)
async def get_experiment(experiment_id: ExperimentId, store_id: Reader, rt: Rt) -> dict[str, Any]:
    views = await run_in_threadpool(
        service.experiment_status,
        uow=rt.reader(),
        store_id=store_id,
        experiment_id=experiment_id,
        now=rt.clock(),
    )
    return experiment_json(views[0])


@router.post(
    "/api/v1/experiments/{experiment_id}/stop",
    summary="Stop an experiment and freeze its decision",
    response_model=Experiment,
)
async def stop_experiment(
    experiment_id: ExperimentId, store_id: Operator, actor: ApiActor, rt: Rt
) -> dict[str, Any]:
    view = await run_in_threadpool(
        service.stop_experiment,
        uow=rt.uow(),
        store_id=store_id,
        experiment_id=experiment_id,
        now=actor.at,
        actor=actor,
    )
    return experiment_json(view)
