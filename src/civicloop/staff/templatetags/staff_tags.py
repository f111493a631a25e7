"""Template filters of the staff pages."""

from django import template

from civicloop.cases.workflow import status_label as _status_label

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """A workflow status as people read it ("waiting_on_citizen" -> "Waiting on citizen")."""
    return _status_label(status or "")
