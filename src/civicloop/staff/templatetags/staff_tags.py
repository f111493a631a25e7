"""Template filters of the staff pages."""

from django import template
from django.utils.translation import get_language_info

from civicloop.cases.workflow import status_label as _status_label

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """A workflow status as people read it ("waiting_on_citizen" -> "Waiting on citizen")."""
    return _status_label(status or "")


@register.filter
def scheme_label(scheme: str) -> str:
    """An identifier scheme as people read it ("national_insurance" -> "National insurance")."""
    return (scheme or "").replace("_", " ").replace("-", " ").capitalize()


@register.filter
def language_name(code: str) -> str:
    """A language code as its name in the current language, or the code if Django does not know it."""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code
