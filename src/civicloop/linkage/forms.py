"""Forms of the review pages: they check the shape of input; the rules are the services'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from civicloop.linkage.services import ReviewDecision
from civicloop.staff.forms import StaffForm


class ReviewDecisionForm(StaffForm):
    decision = forms.ChoiceField(
        label=_("Are these two records of the same person?"),
        widget=forms.RadioSelect,
        choices=[
            (ReviewDecision.CONFIRM, _("Yes, they are the same person")),
            (ReviewDecision.REJECT, _("No, they are different people")),
            (ReviewDecision.SKIP, _("Not sure: skip it for now")),
        ],
        help_text=_("Confirming joins their records into one person. It can be undone."),
        error_messages={
            "required": _("Choose whether these are the same person."),
            "invalid_choice": _("Choose whether these are the same person."),
        },
    )
