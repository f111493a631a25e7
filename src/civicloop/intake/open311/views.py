"""Open311 GeoReport v2 endpoints. Each parses the request, calls one intake service or
selector, and renders the answer in the format its extension names (.json or .xml).

Errors follow the spec: 403 for a missing or unknown api_key, 404 for what does not exist
(or is not public), 400 for anything else wrong with the request, each as a list of
{code, description}; 429 (with Retry-After) when a client sends too much.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from civicloop.catalogue.models import Service
from civicloop.core import clock
from civicloop.core.access import NotVisible, ValidationFailed
from civicloop.core.ratelimit import RateLimited, rate_limit, rate_limit_all
from civicloop.intake.keys import open311_client_for_key
from civicloop.intake.models import Open311Client, ServiceRequestToken
from civicloop.intake.open311.render import error_response, respond
from civicloop.intake.selectors import PublicReport, public_report, public_reports
from civicloop.intake.services import ReportIn, report_submit
from civicloop.intake.updates import UpdateOut, public_updates, request_update_post

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API last changed in a way clients would notice.
CHANGESET = "2026-12-05T00:00:00+00:00"
MAX_SPAN = dt.timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 200
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,60})\](\[\])?$")


class BadRequest(Exception):
    def __init__(self, *descriptions: str):
        self.descriptions = list(descriptions)


def jurisdiction_id() -> str:
    configured = settings.CIVICLOOP.get("OPEN311_JURISDICTION_ID")
    return configured or slugify(settings.CIVICLOOP.get("AGENCY_NAME", "civicloop"))


def _params(request: HttpRequest):
    return request.POST if request.method == "POST" else request.GET


def open311_view(*, methods: tuple[str, ...], scope: str = "open311.read"):
    """Method check, rate limit, jurisdiction and control-character checks, and errors
    raised by the view turned into the spec's bodies."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = error_response(
                    fmt, 405, [_("Use %(methods)s here.") % {"methods": " or ".join(methods)}]
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if request.method == "POST":
                    # A report counts against its address and its key, in one statement.
                    given = request.POST.get("api_key", "").strip()
                    rate_limit_all(
                        request,
                        [("open311.write", "")] + ([("open311.client", given)] if given else []),
                    )
                else:
                    rate_limit(request, scope)
                params = _params(request)
                bad = [k for k, values in params.lists() for v in [k, *values] if "\x00" in v]
                if bad or any("\x00" in str(v) for v in kwargs.values()):
                    raise BadRequest(_("Remove the control characters from the request."))
                given = params.get("jurisdiction_id", "").strip()
                if given and given != jurisdiction_id():
                    return error_response(fmt, 404, [_("jurisdiction_id not found.")])
                response = view(request, fmt, **kwargs)
            except RateLimited as limited:
                response = error_response(
                    fmt,
                    429,
                    [
                        _("Too many requests: try again in %(n)d seconds.")
                        % {"n": limited.retry_after}
                    ],
                )
                response["Retry-After"] = str(limited.retry_after)
                return response
            except BadRequest as bad_request:
                return error_response(fmt, 400, bad_request.descriptions)
            except ValidationFailed as failure:
                return error_response(fmt, 400, _describe(failure))
            except NotVisible:
                return error_response(fmt, 404, [_("Not found.")])
            if request.method == "GET":
                # Public data: a web page on another site may show it.
                response["Access-Control-Allow-Origin"] = "*"
            return response

        return wrapper

    return decorate


def _describe(failure: ValidationFailed) -> list[str]:
    return [
        f"{name}: {message}" for name, messages in failure.errors.items() for message in messages
    ]


def _client(request: HttpRequest) -> Open311Client:
    """The client application of the request's api_key; raises a 403 answer if none."""
    key = _params(request).get("api_key", "").strip()
    client = open311_client_for_key(key) if key else None
    if client is None:
        raise _Forbidden()
    return client


class _Forbidden(Exception):
    pass


def _with_key(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
        try:
            client = _client(request)
        except _Forbidden:
            return error_response(
                fmt, 403, [_("api_key missing or not valid: ask the city for a key.")]
            )
        return view(request, fmt, client, **kwargs)

    return wrapper


# -- discovery and services ---------------------------------------------------------------


@open311_view(methods=("GET",))
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:discovery", args=["json"]))
    body = {
        "changeset": CHANGESET,
        "contact": settings.CIVICLOOP.get("OPEN311_CONTACT")
        or settings.CIVICLOOP.get("AGENCY_NAME", ""),
        "key_service": settings.CIVICLOOP.get("OPEN311_KEY_SERVICE")
        or _("Ask the city's administrators for an api_key for your application."),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base.rsplit("/", 1)[0],
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", body)


def open311_services():
    """The services Open311 offers: public, active, never sensitive."""
    return Service.objects.filter(active=True, public=True, sensitive=False).order_by("code")


@open311_view(methods=("GET",))
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    with_questions = set(
        Service.objects.filter(attributes__isnull=False).values_list("id", flat=True)
    )
    body = [
        {
            "service_code": s.code,
            "service_name": s.name,
            "description": s.description,
            "metadata": s.id in with_questions,
            "type": s.kind,
            "keywords": s.keywords,
            "group": s.group,
        }
        for s in open311_services()
    ]
    return respond(fmt, "services", body)


@open311_view(methods=("GET",))
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    service = open311_services().filter(code=service_code).first()
    if service is None:
        return error_response(fmt, 404, [_("service_code not found.")])
    attributes = []
    for a in service.attributes.order_by("order", "code"):
        attribute = {
            "variable": a.variable,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": a.datatype_description or None,
            "order": a.order,
            "description": a.description,
        }
        if a.is_list:
            attribute["values"] = [
                {"key": str(v["key"]), "name": str(v["name"])} for v in a.values or []
            ]
        attributes.append(attribute)
    return respond(
        fmt, "service_definition", {"service_code": service.code, "attributes": attributes}
    )


# -- requests ----------------------------------------------------------------------------------


def _number(params, name: str) -> float | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(_("%(name)s: give a number.") % {"name": name}) from None
    if not math.isfinite(value):
        raise BadRequest(_("%(name)s: give a number.") % {"name": name})
    return value


def _answers(params) -> dict[str, str | list[str]]:
    answers: dict[str, str | list[str]] = {}
    for key, values in params.lists():
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        code, is_list = match.group(1), bool(match.group(2))
        if is_list or len(values) > 1:
            previous = answers.get(code, [])
            answers[code] = [*(previous if isinstance(previous, list) else [previous]), *values]
        else:
            answers[code] = values[0]
    return answers


def _report_in(params) -> ReportIn:
    latitude, longitude = _number(params, "lat"), _number(params, "long")
    if not (
        (latitude is not None and longitude is not None)
        or params.get("address_string", "").strip()
        or params.get("address_id", "").strip()
    ):
        raise BadRequest(_("location: give lat and long, address_string or address_id."))
    if not params.get("service_code", "").strip():
        raise BadRequest(_("service_code: give the code of a service."))
    return ReportIn(
        service_code=params.get("service_code", "").strip(),
        description=params.get("description", ""),
        latitude=latitude,
        longitude=longitude,
        address_id=params.get("address_id", ""),
        address_string=params.get("address_string", ""),
        attributes=_answers(params),
        first_name=params.get("first_name", ""),
        last_name=params.get("last_name", ""),
        email=params.get("email", ""),
        phone=params.get("phone", ""),
        media_url=params.get("media_url", ""),
        device_id=params.get("device_id", ""),
        account_id=params.get("account_id", ""),
    )


def _service_notice(service: Service) -> str | None:
    if not service.sla_days:
        return None
    return _("%(department)s aims to deal with reports like this within %(n)d days.") % {
        "department": service.department.name,
        "n": service.sla_days,
    }


@_with_key
def _request_create(request: HttpRequest, fmt: str, client: Open311Client) -> HttpResponse:
    params = request.POST
    report = _report_in(params)
    receipt = report_submit(report=report, channel="open311", client=client)
    item: dict = (
        {"token": receipt.token}
        if receipt.token
        else {"service_request_id": receipt.case.reference}
    )
    item["service_notice"] = _service_notice(receipt.case.service)
    item["account_id"] = report.account_id.strip() or None
    return respond(fmt, "service_requests", [item])


def _date(params, name: str) -> dt.datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        parsed = parse_datetime(raw)
    except ValueError:
        parsed = None
    if parsed is None:
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise BadRequest(
                _("%(name)s: give a date and time in ISO 8601, like 2026-03-14T09:30:00Z.")
                % {"name": name}
            ) from None
        parsed = dt.datetime(day.year, day.month, day.day)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def date_range(params) -> tuple[dt.datetime, dt.datetime]:
    """start_date and end_date: at most 90 days apart; the most recent 90 days by default."""
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start is not None and end is not None:
        if end < start:
            raise BadRequest(_("end_date: give a date after start_date."))
        if end - start > MAX_SPAN:
            raise BadRequest(_("start_date and end_date may be at most 90 days apart."))
        return start, end
    if start is not None:
        return start, start + MAX_SPAN
    if end is not None:
        return end - MAX_SPAN, end
    end = clock.now()
    return end - MAX_SPAN, end


def _comma_list(params, name: str) -> list[str]:
    return [v.strip() for v in params.get(name, "").split(",") if v.strip()][:MAX_IDS]


def request_item(report: PublicReport) -> dict:
    """A request as the spec lists its fields, public fields only."""
    return {
        "service_request_id": report.reference,
        "status": report.status,
        "status_notes": report.status_notes or None,
        "service_name": report.service_name,
        "service_code": report.service_code,
        "description": report.description or None,
        "agency_responsible": report.agency_responsible,
        "service_notice": None,
        "requested_datetime": report.requested_at,
        "updated_datetime": report.updated_at,
        "expected_datetime": report.expected_at,
        "address": report.address or None,
        "address_id": report.address_id or None,
        "zipcode": report.postcode or None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": report.media_url or None,
    }


def _request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.GET
    references = _comma_list(params, "service_request_id")
    if references:
        # The spec: asking for ids ignores every other filter.
        found = public_reports(references=references, limit=MAX_RESULTS)
        return respond(fmt, "service_requests", [request_item(r) for r in found])
    statuses = set(_comma_list(params, "status"))
    if statuses - {"open", "closed"}:
        raise BadRequest(_("status: give open, closed, or both."))
    start, end = date_range(params)
    found = public_reports(
        service_codes=_comma_list(params, "service_code"),
        status=statuses.pop() if len(statuses) == 1 else None,
        start=start,
        end=end,
        limit=MAX_RESULTS,
    )
    return respond(fmt, "service_requests", [request_item(r) for r in found])


@open311_view(methods=("GET", "POST"))
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _request_create(request, fmt)
    return _request_list(request, fmt)


@open311_view(methods=("GET",))
def request_detail(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    try:
        report = public_report(reference=service_request_id)
    except NotVisible:
        return error_response(fmt, 404, [_("service_request_id not found.")])
    return respond(fmt, "service_requests", [request_item(report)])


@open311_view(methods=("GET",))
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    found = ServiceRequestToken.objects.select_related("case").filter(token=token).first()
    if found is None:
        return error_response(fmt, 404, [_("token not found.")])
    item = {
        "service_request_id": found.case.reference if found.case else None,
        "token": found.token,
    }
    return respond(fmt, "service_requests", [item])


# -- updates (the servicerequestupdates extension) ---------------------------------------------


def update_item(update: UpdateOut) -> dict:
    return {
        "update_id": update.update_id,
        "service_request_id": update.service_request_id,
        "status": update.status,
        "updated_datetime": update.updated_at,
        "description": update.description,
        "media_url": update.media_url or None,
    }


@_with_key
def _updates_list(request: HttpRequest, fmt: str, client: Open311Client) -> HttpResponse:
    start, end = date_range(request.GET)
    found = public_updates(start=start, end=end, limit=MAX_RESULTS)
    return respond(fmt, "service_request_updates", [update_item(u) for u in found])


@_with_key
def _update_create(request: HttpRequest, fmt: str, client: Open311Client) -> HttpResponse:
    params = request.POST
    if not params.get("service_request_id", "").strip():
        raise BadRequest(_("service_request_id: give the id of the request."))
    update = request_update_post(
        client=client,
        service_request_id=params.get("service_request_id", ""),
        status=params.get("status", ""),
        description=params.get("description", ""),
        update_id=params.get("update_id", ""),
        updated_at=_date(params, "updated_datetime"),
    )
    return respond(fmt, "service_request_updates", [{"update_id": f"u{update.id}"}])


@open311_view(methods=("GET", "POST"))
def updates(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _update_create(request, fmt)
    return _updates_list(request, fmt)


def not_found(request: HttpRequest, path: str) -> HttpResponse:
    """Anything else under /open311/v2/: the spec's 404, in XML if the path asks for it."""
    return error_response("xml" if path.endswith(".xml") else "json", 404, [_("Not found.")])
