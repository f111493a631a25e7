"""A service's own questions (its Open311 attributes) as one-question forms, and their
answers as the session keeps them and the check page shows them."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from civicloop.catalogue.models import ServiceAttribute
from civicloop.intake.attributes import MAX_STRING, MAX_TEXT
from civicloop.portal.forms import PortalForm

DATETIME_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]

Datatype = ServiceAttribute.Datatype


def _choices(attribute: ServiceAttribute) -> list[tuple[str, str]]:
    return [
        (str(v.get("key", "")), str(v.get("name", "")))
        for v in attribute.values or []
        if isinstance(v, dict) and v.get("key")
    ]


def question_form(attribute: ServiceAttribute, *args, **kwargs) -> PortalForm:
    """A form with one field, `answer`, asking the attribute's question."""
    required = attribute.required
    common = {
        "label": attribute.description,
        "required": required,
        "help_text": attribute.datatype_description,
    }
    choose = _("Choose an answer.") if required else ""
    if attribute.datatype == Datatype.NUMBER:
        field = forms.DecimalField(
            **common,
            max_digits=18,
            decimal_places=6,
            error_messages={
                "required": _("Enter a number."),
                "invalid": _("Enter a number, like 3 or 2.5."),
                "max_digits": _("Enter a smaller number."),
                "max_decimal_places": _("Enter a number with at most 6 decimal places."),
                "max_whole_digits": _("Enter a smaller number."),
            },
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        )
    elif attribute.datatype == Datatype.DATETIME:
        field = forms.DateTimeField(
            **{**common, "help_text": common["help_text"] or _("For example, 27/03/2026 14:30")},
            input_formats=DATETIME_FORMATS,
            error_messages={
                "required": _("Enter a date, and a time if you know it."),
                "invalid": _(
                    "Enter a date like 27/03/2026, or a date and time like 27/03/2026 14:30."
                ),
            },
        )
    elif attribute.datatype == Datatype.TEXT:
        field = forms.CharField(
            **common,
            max_length=MAX_TEXT,
            widget=forms.Textarea(attrs={"rows": 5}),
            error_messages={
                "required": _("Enter an answer."),
                "max_length": _("Keep your answer under %(limit_value)d characters."),
            },
        )
    elif attribute.datatype == Datatype.SINGLE:
        field = forms.ChoiceField(
            **common,
            choices=_choices(attribute),
            widget=forms.RadioSelect,
            error_messages={
                "required": choose,
                "invalid_choice": _("Choose one of the answers listed."),
            },
        )
    elif attribute.datatype == Datatype.MULTI:
        field = forms.MultipleChoiceField(
            **common,
            choices=_choices(attribute),
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "required": _("Choose at least one answer."),
                "invalid_choice": _("Choose from the answers listed."),
            },
        )
    else:
        field = forms.CharField(
            **common,
            max_length=MAX_STRING,
            error_messages={
                "required": _("Enter an answer."),
                "max_length": _("Keep your answer under %(limit_value)d characters."),
            },
        )
    form = PortalForm(*args, **kwargs)
    form.fields["answer"] = field
    return form


def answer_for_session(attribute: ServiceAttribute, value) -> str | list[str]:
    """An answer as the session (JSON) keeps it and report_submit takes it."""
    if value is None:
        return [] if attribute.datatype == Datatype.MULTI else ""
    if attribute.datatype == Datatype.MULTI:
        return [str(v) for v in value]
    if attribute.datatype == Datatype.DATETIME and isinstance(value, dt.datetime):
        return value.isoformat()
    if attribute.datatype == Datatype.NUMBER:
        return format(value.normalize(), "f")
    return str(value).strip()


def answer_initial(attribute: ServiceAttribute, stored):
    """A kept answer as the form shows it again."""
    if attribute.datatype == Datatype.DATETIME and stored:
        try:
            return timezone.localtime(dt.datetime.fromisoformat(stored)).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            return stored
    return stored


def answer_text(attribute: ServiceAttribute, stored) -> str:
    """A kept answer as people read it on the check page ('' when none was given)."""
    names = dict(_choices(attribute))
    if attribute.datatype == Datatype.MULTI:
        return ", ".join(names.get(k, k) for k in stored or [])
    if attribute.datatype == Datatype.SINGLE:
        return names.get(stored, stored or "")
    if attribute.datatype == Datatype.DATETIME and stored:
        try:
            return formats.date_format(
                timezone.localtime(dt.datetime.fromisoformat(stored)), "DATETIME_FORMAT"
            )
        except ValueError:
            return stored
    return stored or ""
