"""The staff API at /api/v1/ (django-ninja). Routers live in each app's api.py.

Who may call: staff with a personal access token (`Authorization: Bearer cl_…`)
or a signed-in session (writes then need the CSRF token). Every handler gets
the caller's Viewer as `request.auth`.

Errors share one body: `{"detail": "…"}`, and for 422 also
`"errors": {"field": ["message", …]}` — for the service's rules and for
malformed input alike. 401 is an unknown caller, 403 an action the role may
not take, 404 anything outside what the caller may see (audited, like 401/403),
409 a change based on a stale version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template import Context, Template
from django.urls import reverse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import DocsBase
from ninja.parser import Parser

from civicloop.cases.api import router as cases_router
from civicloop.catalogue.api import router as catalogue_router
from civicloop.core.access import Conflict, Forbidden, NotVisible, ValidationFailed
from civicloop.core.idempotency import HEADER as IDEMPOTENCY_HEADER
from civicloop.core.idempotency import MAX_KEY_LENGTH
from civicloop.core.web import audit_denial, request_viewer
from civicloop.people.api import router as people_router
from civicloop.places.api import router as places_router
from civicloop.staff.api_auth import NotStaff, staff_auth

# --- Error bodies ----------------------------------------------------------------------------

VALIDATION_DETAIL = "Some of the input is not valid: see errors."
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_name(loc: list[Any] | tuple[Any, ...], param_names: set[str]) -> str:
    """`["body", "payload", "to_status"]` -> "to_status"; `["query", "page"]` -> "page"."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in param_names:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def _validation_response(request: HttpRequest, errors: dict[str, list[str]]) -> HttpResponse:
    return api.create_response(request, {"detail": VALIDATION_DETAIL, "errors": errors}, status=422)


IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": (
        "A key you choose for this request (e.g. a UUID). Sending the same request again with "
        "the same key returns the first answer, with `Idempotent-Replayed: true`, and writes nothing."
    ),
}


def _unstorable(text: str) -> bool:
    """NUL and lone surrogates: no database column can hold them."""
    if "\x00" in text:
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _has_unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return _unstorable(value)
    if isinstance(value, dict):
        return any(_has_unstorable(k) or _has_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unstorable(v) for v in value)
    return False


class StorableInput(Parser):
    """Ninja's JSON parser, refusing text no database can store rather than failing on it later."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if _has_unstorable(data):
            raise ValueError("NUL or unpaired surrogate in the body")  # ninja answers 400
        return data

    def parse_querydict(self, data, list_fields, request):
        bad = [
            key
            for key, values in data.lists()
            if _unstorable(key) or any(_unstorable(v) for v in values)
        ]
        if bad:
            raise NinjaValidationError(
                [{"loc": ("query", key), "msg": "Remove the control characters."} for key in bad]
            )
        return super().parse_querydict(data, list_fields, request)


class CivicLoopAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict | None = None
    ):
        """Ninja's schema, plus the error answers every operation may give."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Error"] = {
            "title": "Error",
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"title": "Detail", "type": "string"}},
        }
        components["ValidationError"] = {
            "title": "ValidationError",
            "type": "object",
            "required": ["detail", "errors"],
            "properties": {
                "detail": {"title": "Detail", "type": "string"},
                "errors": {
                    "title": "Errors",
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Messages for each field, by field name.",
                },
            },
        }
        answers = {
            "401": ("Not signed in, or the token is unknown, expired or revoked.", "Error"),
            "403": ("Your role may not take this action.", "Error"),
            "404": ("Not found, or outside what you may see.", "Error"),
            "422": ("Input that breaks a rule: messages by field.", "ValidationError"),
        }
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if not operation.get("security"):
                    continue
                responses = operation.setdefault("responses", {})
                codes = dict(answers)
                if method in {"post", "patch", "put"}:
                    codes["409"] = (
                        "A change based on a stale version: reload and try again.",
                        "Error",
                    )
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                for code, (description, component) in codes.items():
                    responses.setdefault(
                        code,
                        {
                            "description": description,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{component}"}
                                }
                            },
                        },
                    )
        return schema


# --- Docs that work offline -------------------------------------------------------------------

DOCS_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
    "favicon.png": "image/png",
}
_ASSET_DIR = Path(ninja.__file__).parent / "static" / "ninja"
_DOCS_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<link rel="stylesheet" href="{{ css }}">
<link rel="icon" href="{{ favicon }}" type="image/svg+xml">
</head>
<body data-csrf-token="{{ csrf_token }}" data-api-csrf="true">
<script type="application/json" id="swagger-settings">{{ settings_json|safe }}</script>
<div id="swagger-ui"></div>
<script src="{{ bundle }}"></script>
<script src="{{ init }}"></script>
</body>
</html>
""")


class OfflineSwagger(DocsBase):
    """Swagger UI from the copy ninja ships, served by the API itself: no CDN, and no
    'ninja' in INSTALLED_APPS needed. The online validator badge is switched off."""

    settings = {
        "layout": "BaseLayout",
        "deepLinking": True,
        "validatorUrl": None,
        "persistAuthorization": False,
    }

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        swagger_settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}

        def asset(name: str) -> str:
            return reverse(f"{api.urls_namespace}:docs_asset", kwargs={**kwargs, "name": name})

        html = _DOCS_PAGE.render(
            Context(
                {
                    "title": api.title,
                    "css": asset("swagger-ui.css"),
                    "favicon": asset("favicon.svg"),
                    "bundle": asset("swagger-ui-bundle.js"),
                    "init": asset("swagger-ui-init.js"),
                    "csrf_token": get_token(request),
                    # Escaped so that no value can close the script element.
                    "settings_json": json.dumps(swagger_settings).replace("<", "\\u003c"),
                }
            )
        )
        return HttpResponse(html)


api = CivicLoopAPI(
    title="CivicLoop staff API",
    version="1",
    description=(
        "The staff API of CivicLoop. Authenticate with a personal access token "
        "(`Authorization: Bearer cl_…`, made with `civicloop token create`) or a signed-in session. "
        "Send an `Idempotency-Key` header with a POST or PATCH to make a retry safe. "
        'Errors: `{"detail": …}`, and for 422 `"errors": {field: [messages]}`.'
    ),
    urls_namespace="api",
    auth=staff_auth(),
    docs=OfflineSwagger(),
    parser=StorableInput(),
)


@api.get("/docs/assets/{name}", auth=None, include_in_schema=False, url_name="docs_asset")
def docs_asset(request: HttpRequest, name: str):
    if name not in DOCS_ASSETS:
        raise Http404(name)
    response = FileResponse((_ASSET_DIR / name).open("rb"), content_type=DOCS_ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- Exception handlers ------------------------------------------------------------------------


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    audit_denial(request, None)
    response = api.create_response(
        request,
        {"detail": "Authentication required: send a valid personal access token or sign in."},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="civicloop"'
    return response


@api.exception_handler(Http404)
def on_unknown(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(NotVisible)
def on_not_visible(request: HttpRequest, exc: NotVisible) -> HttpResponse:
    audit_denial(request, request_viewer(request), exc)
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(Forbidden)
def on_forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
    audit_denial(request, request_viewer(request), exc)
    detail = (
        "Only active staff members may use the API."
        if isinstance(exc, NotStaff)
        else "Your role does not allow this action."
    )
    return api.create_response(request, {"detail": detail}, status=403)


@api.exception_handler(Conflict)
def on_conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(ValidationFailed)
def on_validation_failed(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    return _validation_response(request, {k: [str(m) for m in v] for k, v in exc.errors.items()})


@api.exception_handler(NinjaValidationError)
def on_invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    match = getattr(request, "resolver_match", None)
    param_names = {"payload", "query", "filters", "body"} | set(match.kwargs if match else ())
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field_name(error.get("loc", ()), param_names), []).append(
            str(error.get("msg", ""))
        )
    return _validation_response(request, errors)


api.add_router("", people_router)
api.add_router("", cases_router)
api.add_router("", catalogue_router)
api.add_router("", places_router)

# Last: any other path under /api/v1/ is a JSON 404, not Django's HTML page.
unknown = Router()


@unknown.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def unknown_route(request: HttpRequest, rest: str):
    raise Http404(rest)


api.add_router("", unknown)
