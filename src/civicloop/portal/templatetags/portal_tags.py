"""Template tags of the portal pages."""

from django import template

from civicloop.cases.workflow import status_label as _status_label
from civicloop.portal import guard

register = template.Library()


@register.simple_tag
def form_started_token() -> str:
    """A fresh signed note of when the form was shown (see portal/guard.py)."""
    return guard.started_token()


@register.filter
def status_label(status: str) -> str:
    return _status_label(status or "")
