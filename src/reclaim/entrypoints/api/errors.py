"""What the API answers when it refuses, documented: the error body every refusal carries
(``{"detail": …}``, with ``field`` or ``problems`` for bad input) and which of them each route
may answer, so that ``/openapi.json`` lists every status a client can meet (issue 16:
schemathesis checks each answer against it, tests/integration/test_schemathesis.py)."""

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """A refusal in words (``detail``), never echoing the input: ``field`` names the input at
    fault where there is one; ``problems`` lists each field of a request that could not be
    read."""

    detail: str
    field: str | None = None
    problems: list[FieldProblem] | None = None


WORDS: dict[int, str] = {
    400: "Refused at the edge: a NUL character in the address, or a Content-Length that is "
    "not a number of bytes",
    401: "No API key, or one unknown, revoked or expired (webhooks: a signature missing or wrong)",
    403: "The API key lacks the scope this needs",
    404: "No such thing for this store",
    409: "It conflicts with what is there (a name taken, a state that does not allow it)",
    413: "The body is larger than this route takes",
    422: "The input is not valid: detail says why, field or problems where",
    429: "Too many requests: Retry-After says when to try again",
    503: "The database is not available right now (restarting, out of reach or locked by "
    "another process): Retry-After says when to try again",
    507: "The database's disk is full: nothing more is stored until it has room",
}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_responses(path: str, methods: Collection[str] | None) -> dict[int | str, dict[str, Any]]:
    """The refusals a route at ``path`` may answer. The edge may refuse any request (400, 429);
    the API and the webhooks read keys or signatures (401), inputs (404, 422) and the database
    (503, 507); a route taking a body may find it too large (413) or in conflict (409); only
    an API key has scopes (403)."""
    codes = [400, 429]
    if path.startswith(("/api/", "/webhooks/")):
        codes += [401, 404, 422, 503, 507]
        if path.startswith("/api/"):
            codes.append(403)
        if _BODY_METHODS & set(methods or ()):
            codes += [409, 413]
    return {code: {"model": Problem, "description": WORDS[code]} for code in sorted(codes)}
