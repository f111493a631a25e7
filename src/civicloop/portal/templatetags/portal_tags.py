"""Template tags of the portal pages."""

from django import template
from django.utils.translation import gettext_noop

from civicloop.cases.workflow import status_label as _status_label
from civicloop.portal import guard

register = template.Library()

# The default workflow's statuses, as citizens read them on every report page. Marked here
# so that the portal's own catalogue carries their translations too.
CITIZEN_STATUS_WORDS = (
    gettext_noop("New"),
    gettext_noop("In progress"),
    gettext_noop("Waiting on citizen"),
    gettext_noop("Resolved"),
    gettext_noop("Closed"),
)


@register.simple_tag
def form_started_token() -> str:
    """A fresh signed note of when the form was shown (see portal/guard.py)."""
    return guard.started_token()


@register.filter
def status_label(status: str) -> str:
    return _status_label(status or "")
