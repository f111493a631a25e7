"""Who may call the staff API: token or session, and for personal data, which role and objects.

Route guards run before ninja parses the body, so a caller who may not act on
a person or case learns nothing from validation messages: 403 for the role,
404 for an object outside their visibility, before any 422.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from civicloop.core.access import Forbidden, Viewer
from civicloop.core.web import request_viewer
from civicloop.people import policy
from civicloop.staff.tokens import token_viewer

# Path parameters naming personal objects, and the check each one must pass.
GUARDED_PATH_PARAMS = {
    "person_id": policy.require_person_visible,
    "case_id": policy.require_case_visible,
    "person_need_id": policy.require_person_need_visible,
}


def guard_casework(request: HttpRequest, viewer: Viewer) -> None:
    """The role may do casework, and every person or case named in the path is visible."""
    policy.require_casework_role(viewer)
    if request.method in ("GET", "HEAD"):
        # No body to parse, and every read's selector checks visibility itself: checking
        # here too would cost each 360° view a second query for the same answer.
        return
    match = getattr(request, "resolver_match", None)
    for name, value in (match.kwargs if match else {}).items():
        check = GUARDED_PATH_PARAMS.get(name)
        try:
            object_id = int(value)
        except (TypeError, ValueError):
            continue  # not an id: the handler's own validation answers 422
        if check is not None and 0 < object_id < 2**63:
            check(viewer, object_id)


class NotStaff(Forbidden):
    """Signed in, but not an active staff member."""


def _staff_viewer(request: HttpRequest) -> Viewer:
    viewer = request_viewer(request)
    if viewer is None:
        raise NotStaff("staff")
    return viewer


class PersonalAccessToken(HttpBearer):
    """`Authorization: Bearer cl_…`. A header that is present but not a good token is a 401,
    whatever session cookie comes with it."""

    def __init__(self, *, casework: bool = False):
        super().__init__()
        self.casework = casework

    def __call__(self, request: HttpRequest) -> Viewer | None:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError()
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Viewer:
        viewer = token_viewer(token)
        if viewer is None:
            raise AuthenticationError()
        # The user row is read only if something asks for it: the viewer is what reads use.
        request.user = SimpleLazyObject(lambda: get_user_model().objects.get(pk=viewer.user_id))
        request._civicloop_viewer = viewer
        viewer = _staff_viewer(request)
        if self.casework:
            guard_casework(request, viewer)
        return viewer


class StaffSession(APIKeyCookie):
    """Django's session, for the docs page and the browser. Unsafe methods need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, *, casework: bool = False):
        super().__init__()
        self.casework = casework

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF is checked once we know the session is signed in, so an anonymous
        # request gets a 401 rather than a CSRF 403.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Viewer | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header with a session.")
        viewer = _staff_viewer(request)
        if self.casework:
            guard_casework(request, viewer)
        return viewer


def staff_auth() -> list:
    """Any active staff member (catalogue, places)."""
    return [PersonalAccessToken(), StaffSession()]


def casework_auth() -> list:
    """Caseworkers and supervisors, for objects they may see (people, cases)."""
    return [PersonalAccessToken(casework=True), StaffSession(casework=True)]
