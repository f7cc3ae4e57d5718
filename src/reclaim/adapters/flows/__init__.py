"""Flow definitions as YAML: the defaults shipped with Reclaim and merchants' own files."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml

from reclaim.domain.cases import CaseKind
from reclaim.domain.flows import Flow, parse_flow
from reclaim.errors import InvalidInput

MAX_SOURCE = 64 * 1024


def load_flow(text: str, *, kind: str | None = None) -> Flow:
    """Parse a flow's YAML; ``InvalidInput`` names the line or the field that is wrong."""
    if len(text) > MAX_SOURCE:
        raise InvalidInput(f"a flow file is at most {MAX_SOURCE} bytes", field="flow")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "it is not valid YAML"
        raise InvalidInput(f"flow YAML{where}: {problem}", field="flow") from None
    return parse_flow(data, kind=kind)


@cache
def default_source(kind: str) -> str:
    """The YAML text of the default flow for ``kind``."""
    if kind not in {k.value for k in CaseKind}:
        raise InvalidInput(f"no default flow for {kind!r}", field="kind")
    return (files(__package__) / "defaults" / f"{kind}.yaml").read_text(encoding="utf-8")


@cache
def default_flow(kind: str) -> Flow:
    return load_flow(default_source(kind), kind=kind)
