"""`Idempotency-Key` for the API's writes: a retried POST or PATCH is answered from
the first request's stored response instead of writing again.

The first request with a key inserts its IdempotencyRecord *before* it writes,
in the same transaction as the write, and fills in the response after. A
duplicate running at the same time waits on the (user, key) unique constraint
until the first commits, then replays its answer; if the first rolled back, the
duplicate goes ahead. Only successful answers are kept: a refused request wrote
nothing, so sending it again is already safe. The same key with a different
request is refused (422). Keys older than IDEMPOTENCY_TTL_HOURS may be reused.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Status
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel

from civicloop.core import clock
from civicloop.core.access import Conflict, ValidationFailed
from civicloop.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_FIELD = "idempotency_key"
MAX_KEY_LENGTH = 200


class _Unsaved(Exception):
    """Carries a response that must not be kept out of the transaction, rolling it back."""

    def __init__(self, response: HttpResponseBase):
        self.response = response


class _LostRace(Exception):
    """Another request with the same key committed first."""


@contextmanager
def renamed_errors(renames: Mapping[str, str] | None) -> Iterator[None]:
    """Report a service's field errors under the API's field names (`service` -> `service_id`)."""
    try:
        yield
    except ValidationFailed as exc:
        if not renames:
            raise
        raise ValidationFailed({renames.get(k, k): v for k, v in exc.errors.items()}) from exc


def render(result: Any) -> HttpResponseBase:
    """The JSON response for a handler's result (a schema, or Status(code, schema)), as ninja renders it."""
    if isinstance(result, HttpResponseBase):
        return result
    status = 200
    if isinstance(result, Status):
        status, result = result.status_code, result.value
    data = result.model_dump() if isinstance(result, BaseModel) else result
    return JsonResponse(data, status=status, safe=False, encoder=NinjaJSONEncoder)


def _fingerprint(request: HttpRequest) -> str:
    """What makes two requests 'the same': method, path with query, and the body's JSON value."""
    body: bytes = request.body or b""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), canonical):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def _clean_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationFailed(
            {
                KEY_FIELD: _("Send an Idempotency-Key of 1 to %(n)d printable ASCII characters.")
                % {"n": MAX_KEY_LENGTH}
            }
        )
    return key


def _cutoff() -> dt.datetime:
    return clock.now() - dt.timedelta(hours=settings.CIVICLOOP["IDEMPOTENCY_TTL_HOURS"])


def _live_record(user_id: int, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(
        user_id=user_id, key=key, created_at__gte=_cutoff()
    ).first()


def _replay(record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
    if not hmac.compare_digest(record.request_hash, fingerprint):
        raise ValidationFailed(
            {
                KEY_FIELD: _(
                    "This Idempotency-Key was already used for a different request. "
                    "Use a new key for a new request."
                )
            }
        )
    response = HttpResponse(
        bytes(record.response_body), status=record.status_code, content_type=record.content_type
    )
    response[REPLAYED_HEADER] = "true"
    return response


def _user_id(request: HttpRequest) -> int | None:
    auth = getattr(request, "auth", None)
    return getattr(auth, "user_id", None) or getattr(getattr(request, "user", None), "id", None)


def idempotent(
    view: Callable | None = None, *, error_fields: Mapping[str, str] | None = None
) -> Callable:
    """Wrap a POST/PATCH handler: one transaction, field errors under API names, and Idempotency-Key.

    Use below the router decorator: `@router.post(...)` then `@idempotent(error_fields={...})`.
    """

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            def run() -> HttpResponseBase:
                with renamed_errors(error_fields):
                    return render(func(request, *args, **kwargs))

            raw_key = request.headers.get(HEADER)
            user_id = _user_id(request)
            if raw_key is None or user_id is None:
                with transaction.atomic():
                    return run()
            key = _clean_key(raw_key)
            fingerprint = _fingerprint(request)
            record = _live_record(user_id, key)
            if record is not None:
                return _replay(record, fingerprint)
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.filter(
                        user_id=user_id, key=key, created_at__lt=_cutoff()
                    ).delete()
                    try:
                        with transaction.atomic():
                            record = IdempotencyRecord.objects.create(
                                key=key,
                                user_id=user_id,
                                method=request.method,
                                path=request.path[:500],
                                request_hash=fingerprint,
                                status_code=0,
                                response_body=b"",
                                created_at=clock.now(),
                            )
                    except IntegrityError:
                        raise _LostRace from None
                    response = run()
                    if not 200 <= response.status_code < 300 or not isinstance(
                        response, HttpResponse
                    ):
                        raise _Unsaved(response)
                    record.status_code = response.status_code
                    record.response_body = response.content
                    record.content_type = response.get("Content-Type", "application/json")[:100]
                    record.save(update_fields=["status_code", "response_body", "content_type"])
                    return response
            except _Unsaved as unsaved:
                return unsaved.response
            except _LostRace:
                record = _live_record(user_id, key)
                if record is None:  # pragma: no cover - the winner's key expired in between
                    raise Conflict(
                        _("Another request with this Idempotency-Key is in progress. Try again.")
                    ) from None
                return _replay(record, fingerprint)

        return wrapper

    return decorate(view) if view is not None else decorate
