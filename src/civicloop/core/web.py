"""Shared plumbing for pages and the API: who is asking, and auditing refusals."""

from __future__ import annotations

from django.http import HttpRequest

from civicloop.core.access import AccessError, Forbidden, Viewer, viewer_for_user
from civicloop.trust.audit import audit_record


def request_viewer(request: HttpRequest) -> Viewer | None:
    """The Viewer of this request (cached on it), None when not a signed-in staff member."""
    if not hasattr(request, "_civicloop_viewer"):
        request._civicloop_viewer = viewer_for_user(getattr(request, "user", None))
    return request._civicloop_viewer


def audit_denial(
    request: HttpRequest,
    viewer: Viewer | None,
    error: AccessError | None = None,
    *,
    object_type: str = "",
    object_ids: list[int] | None = None,
) -> None:
    """Record a refused request: who, which route, which ids — never query values."""
    match = getattr(request, "resolver_match", None)
    route = match.view_name if match and match.view_name else request.path[:100]
    if object_ids is None and match is not None:
        object_ids = [
            int(v)
            for v in match.kwargs.values()
            if isinstance(v, int) or (isinstance(v, str) and v.isdigit())
        ]
    outcome = (
        "forbidden"
        if isinstance(error, Forbidden)
        else ("not_found" if error is not None else "unauthenticated")
    )
    audit_record(
        viewer=viewer
        or Viewer(user_id=getattr(getattr(request, "user", None), "id", None), role="anonymous"),
        action="access.denied",
        object_type=object_type or (str(error.args[0]) if error and error.args else ""),
        object_ids=object_ids or [],
        fields=[route],
        outcome=outcome,
    )
