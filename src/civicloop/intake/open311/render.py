"""Open311 bodies in JSON or XML, as GeoReport v2 spells them.

A body is plain data: a list of items (most endpoints) or one mapping (discovery, a
service definition). In XML a list is wrapped in its root element, each item in the
singular of it (`services` -> `service`, `service_requests` -> `request`); None is an empty
element, booleans are `true`/`false`. Date-times are ISO 8601 with their offset.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ITEM_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "service_request_updates": "request_update",
}


def timestamp(value: dt.datetime | None) -> str | None:
    """ISO 8601 in the agency's time zone, with its offset: 2026-03-14T09:30:00+00:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timestamp(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return timestamp(value)
    # Control characters have no place in XML 1.0: a client's parser would refuse the body.
    return _NOT_XML.sub("", str(value))


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, Mapping):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, list | tuple):
        item_tag = ITEM_TAGS.get(tag, "item")
        for child in value:
            element.append(_element(item_tag, child))
    else:
        text = _text(value)
        if text is not None:
            element.text = text
    return element


def to_xml(root: str, body: Any) -> bytes:
    text = ET.tostring(_element(root, body), encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode()


def to_json(body: Any) -> bytes:
    return json.dumps(_plain(body), ensure_ascii=False).encode()


def respond(fmt: str, root: str, body: Any, *, status: int = 200) -> HttpResponse:
    """`body` as JSON, or as XML under the element `root`."""
    if fmt == "xml":
        return HttpResponse(to_xml(root, body), content_type=XML_TYPE, status=status)
    return HttpResponse(to_json(body), content_type=JSON_TYPE, status=status)


def error_response(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    """The spec's error body: a list of {code, description}, the code being the HTTP status."""
    body = [{"code": status, "description": d} for d in descriptions]
    return respond(fmt, "errors", body, status=status)
