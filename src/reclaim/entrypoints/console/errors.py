"""Errors on console pages answered as pages, in the operator's language: the sign-in form
for a missing session (htmx requests are told to go there with ``HX-Redirect``), and an
error page for a refusal (403), a missing or hidden thing (404) or unreadable input (422)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from reclaim.entrypoints.console.auth import SAFE_METHODS, BadCsrf, SignInFirst, login_url
from reclaim.entrypoints.console.render import page
from reclaim.errors import AuthError, Conflict, Forbidden, InvalidInput, NotFound

PREFIX = "/console"


def is_console(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def console_error(request: Request, exc: Exception) -> Response | None:
    """The page answering ``exc`` on a console route; None where the API's JSON answer
    is right (not a console path, or an error this does not word)."""
    if not is_console(request):
        return None
    who = getattr(request.state, "who", None)
    if isinstance(exc, SignInFirst | AuthError):
        target = login_url(request)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        if request.method in SAFE_METHODS:
            return RedirectResponse(target, status_code=303)
        # A change sent without a session (it ended, or never was) is refused, not followed
        # to the sign-in form: 401 with a page that links to it.
        return page(
            request,
            None,
            "error.html",
            {"status": 401, "key": "error.session", "detail": ""},
            status_code=401,
        )
    if isinstance(exc, BadCsrf):
        status, key = 403, "error.csrf"
    elif isinstance(exc, Forbidden):
        status, key = 403, "error.forbidden"
    elif isinstance(exc, NotFound):
        status, key = 404, "error.not_found"
    elif isinstance(exc, Conflict):
        status, key = 409, "error.conflict"
    elif isinstance(exc, InvalidInput):
        status, key = 422, "error.invalid"
    else:
        return None
    return page(
        request,
        who,
        "error.html",
        {"status": status, "key": key, "detail": str(exc)},
        status_code=status,
    )
