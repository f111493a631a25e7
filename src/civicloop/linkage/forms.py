"""Forms of the review pages: they check the shape of input; the rules are the services'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from civicloop.linkage.services import ReviewDecision
from civicloop.staff.forms import MAX_TEXT, StaffForm


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


class MergeUndoForm(StaffForm):
    """Undo a merge: why, and for each row attached since, which of the two it belongs to."""

    reason = forms.CharField(
        label=_("Why are these two different people?"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Say why these are different people."),
            "max_length": _("Keep the reason under 4000 characters."),
        },
    )

    def __init__(self, *args, undo, **kwargs):
        super().__init__(*args, **kwargs)
        people = [
            (str(undo.kept.id), _("%(name)s (kept)") % {"name": undo.kept}),
            (str(undo.merged.id), _("%(name)s (merged in)") % {"name": undo.merged}),
        ]
        self.item_fields = []
        for number, line in enumerate(line for line in undo.attached if line.own):
            name = f"item_{number}"
            self.fields[name] = forms.ChoiceField(
                label=_("%(kind)s: %(label)s")
                % {"kind": line.kind.capitalize(), "label": line.label},
                widget=forms.RadioSelect,
                choices=people,
                initial=str(undo.kept.id),
                error_messages={
                    "required": _("Choose whose this is."),
                    "invalid_choice": _("Choose whose this is."),
                },
            )
            self.item_fields.append((name, line.key))

    def assignments(self) -> dict[str, int]:
        return {key: int(self.cleaned_data[name]) for name, key in self.item_fields}
