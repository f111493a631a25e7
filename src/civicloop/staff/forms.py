"""Forms of the staff pages. They parse and check the shape of input; the rules live in
the services, whose ValidationFailed errors are put back onto these forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from civicloop.cases.models import Channel, Interaction
from civicloop.cases.workflow import DEFAULT, status_label
from civicloop.catalogue.selectors import need_list
from civicloop.core.access import Viewer

DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y", "%Y-%m-%d"]
CONTACT_CHANNELS = [Channel.PHONE, Channel.IN_PERSON, Channel.EMAIL, Channel.LETTER]
MAX_TEXT = 4000


class TelInput(forms.TextInput):
    input_type = "tel"


class StaffForm(forms.Form):
    """A form that leaves checking to the server (GOV.UK habit: the error summary, not
    the browser's own bubbles, tells people what to fix)."""

    use_required_attribute = False
    # Service errors under these names belong to a field of the form under another name.
    service_field_aliases: dict[str, str] = {}

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put a service's ValidationFailed errors onto the form's fields (or the form)."""
        for name, messages in errors.items():
            field = self.service_field_aliases.get(name, name)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)

    def error_links(self) -> list[tuple[str, str]]:
        return error_links(self)


def error_links(form: forms.Form) -> list[tuple[str, str]]:
    """(anchor, message) for the error summary of any form: each error links to its field."""
    if not form.is_bound:
        return []
    links = []
    first_field = next((bf for bf in form if not bf.is_hidden), None)
    for message in form.non_field_errors():
        links.append((f"#{field_anchor(first_field)}" if first_field else "", message))
    for bound in form:
        for message in bound.errors:
            links.append((f"#{field_anchor(bound)}" if not bound.is_hidden else "", message))
    return links


class SignInForm(AuthenticationForm):
    """Django's sign-in form without autofocus: the skip link stays the first stop for the
    keyboard, and a failed attempt moves focus to the error summary instead."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["username"].widget.attrs["spellcheck"] = "false"


def field_anchor(bound) -> str:
    """The id of the element an error summary link should move focus to."""
    widget = bound.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound.auto_id}_0"
    return bound.id_for_label or bound.auto_id


def department_field(viewer: Viewer, departments) -> forms.ModelChoiceField | None:
    """A department to act for, asked only of staff who belong to more than one."""
    if len(viewer.department_ids) <= 1:
        return None
    return forms.ModelChoiceField(
        queryset=departments,
        label=_("Department you are acting for"),
        empty_label=_("Choose a department"),
        error_messages={
            "required": _("Choose the department you are acting for."),
            "invalid_choice": _("Choose one of your departments."),
        },
    )


class PersonSearchForm(StaffForm):
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=200,
        help_text=_("Given and family name, or just the family name"),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=_("For example, 27/03/1985"),
        error_messages={
            "invalid": _("Enter the date of birth as day/month/year, for example 27/03/1985.")
        },
    )
    identifier = forms.CharField(
        label=_("Identifier"),
        required=False,
        max_length=100,
        help_text=_("For example, a tenancy or national insurance number"),
    )
    phone = forms.CharField(label=_("Phone number"), required=False, max_length=40, widget=TelInput)
    email = forms.CharField(
        label=_("Email address"), required=False, max_length=254, widget=forms.EmailInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update(autocomplete="off")
        self.fields["email"].widget.attrs.update(autocomplete="off", spellcheck="false")
        for name in ("name", "identifier", "date_of_birth"):
            self.fields[name].widget.attrs.update(autocomplete="off", spellcheck="false")


class PersonCreateForm(StaffForm):
    given_name = forms.CharField(
        label=_("Given name"), max_length=100, error_messages={"required": _("Enter a given name.")}
    )
    family_name = forms.CharField(
        label=_("Family name"),
        max_length=100,
        error_messages={"required": _("Enter a family name.")},
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=_("For example, 27/03/1985. Leave blank if not known."),
        error_messages={
            "invalid": _("Enter the date of birth as day/month/year, for example 27/03/1985.")
        },
    )
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        max_length=254,
        error_messages={"invalid": _("Enter an email address like name@example.org.")},
    )
    phone = forms.CharField(label=_("Phone number"), required=False, max_length=40, widget=TelInput)

    def __init__(self, *args, viewer: Viewer, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["given_name"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.fields["family_name"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.fields["email"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.fields["phone"].widget.attrs.update(autocomplete="off")
        if field := department_field(viewer, departments):
            self.fields["department"] = field


class NeedForm(StaffForm):
    need = forms.ModelChoiceField(
        queryset=need_list(),
        label=_("Need"),
        empty_label=_("Choose a need"),
        error_messages={
            "required": _("Choose a need from the list."),
            "invalid_choice": _("Choose a need from the list."),
        },
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the person told you about this need"),
        error_messages={"max_length": _("Keep the note under 4000 characters.")},
    )

    def __init__(self, *args, viewer: Viewer, departments, **kwargs):
        super().__init__(*args, **kwargs)
        if field := department_field(viewer, departments):
            self.fields["department"] = field


class ContactForm(StaffForm):
    channel = forms.ChoiceField(
        label=_("How was the contact made?"),
        widget=forms.RadioSelect,
        choices=[(c.value, c.label) for c in CONTACT_CHANNELS],
        error_messages={
            "required": _("Choose how the contact was made."),
            "invalid_choice": _("Choose how the contact was made."),
        },
    )
    direction = forms.ChoiceField(
        label=_("Who made contact?"),
        widget=forms.RadioSelect,
        choices=Interaction.Direction.choices,
        error_messages={
            "required": _("Choose whether the contact was from or to the citizen."),
            "invalid_choice": _("Choose whether the contact was from or to the citizen."),
        },
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What was asked or said, and what happens next"),
        error_messages={
            "required": _("Enter a summary of the contact."),
            "max_length": _("Keep the summary under 4000 characters."),
        },
    )
    is_chasing = forms.BooleanField(
        label=_("The citizen is chasing progress on something they already asked about"),
        required=False,
    )

    def __init__(self, *args, viewer: Viewer | None = None, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if viewer is not None and (field := department_field(viewer, departments)):
            self.fields["department"] = field


class TransitionForm(StaffForm):
    to_status = forms.ChoiceField(
        label=_("Move the case to"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the status to move the case to."),
            "invalid_choice": _("Choose one of the statuses listed."),
        },
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Keep the note under 4000 characters.")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
    service_field_aliases = {"status": "to_status"}

    def __init__(self, *args, allowed: tuple[str, ...], **kwargs):
        kwargs.setdefault("prefix", "transition")
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [(s, status_label(s)) for s in allowed]


class AssignForm(StaffForm):
    """Supervisors choose anyone of the department; caseworkers may only take a case."""

    assignee = forms.ChoiceField(
        label=_("Assign to"),
        required=False,
        error_messages={"invalid_choice": _("Choose a member of staff of this case's department.")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, assignable, viewer: Viewer, **kwargs):
        kwargs.setdefault("prefix", "assign")
        super().__init__(*args, **kwargs)
        if viewer.is_supervisor:
            self.fields["assignee"].choices = [("", _("Nobody (unassigned)"))] + [
                (str(s.id), s.display_name) for s in assignable
            ]
        else:
            self.fields["assignee"].choices = [(str(viewer.staff_id), _("Me"))]
            self.fields["assignee"].widget = forms.HiddenInput()
            self.initial["assignee"] = str(viewer.staff_id)

    def assignee_id(self) -> int | None:
        value = self.cleaned_data.get("assignee")
        return int(value) if value else None


class NoteForm(StaffForm):
    note = forms.CharField(
        label=_("Add a note"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Enter a note."),
            "max_length": _("Keep the note under 4000 characters."),
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "note")
        super().__init__(*args, **kwargs)


QUEUE_ASSIGNEE_CHOICES = [
    ("", _("Anyone")),
    ("me", _("Me")),
    ("unassigned", _("Nobody (unassigned)")),
]


class CaseFilterForm(StaffForm):
    department = forms.TypedChoiceField(
        label=_("Department"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    assignee = forms.ChoiceField(
        label=_("Assigned to"), required=False, choices=QUEUE_ASSIGNEE_CHOICES
    )
    overdue = forms.BooleanField(label=_("Only overdue cases"), required=False)

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All my departments"))] + [
            (d.id, d.name) for d in departments
        ]
        self.fields["status"].choices = [
            ("open", _("Open (not resolved or closed)")),
            ("", _("Any status")),
        ] + [(s, status_label(s)) for s in DEFAULT.statuses]
        for name in ("department", "status", "assignee"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "Choose an option from the list."
            )


TIMELINE_GROUPS = {"day": _("Day"), "department": _("Department")}


class TimelineFilterForm(StaffForm):
    department = forms.TypedChoiceField(
        label=_("Show entries from"), required=False, coerce=int, empty_value=None
    )
    group = forms.ChoiceField(
        label=_("Group entries by"), choices=list(TIMELINE_GROUPS.items()), required=False
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All departments"))] + [
            (d.id, d.name) for d in departments
        ]
        self.fields["department"].error_messages["invalid_choice"] = _(
            "Choose one of the departments listed."
        )


class DuplicateOfForm(StaffForm):
    """Mark the case on the page a duplicate of another case, named by its reference."""

    reference = forms.CharField(
        label=_("Mark as duplicate of case reference"),
        max_length=30,
        help_text=_("The case already open about the same problem, for example CL-7KQ2-M9XD"),
        error_messages={
            "required": _("Enter the reference of the original case."),
            "max_length": _("A case reference is shorter than that: check it and try again."),
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "duplicate")
        super().__init__(*args, **kwargs)
        self.fields["reference"].widget.attrs.update(autocomplete="off", spellcheck="false")


class Open311ClientForm(StaffForm):
    """Issue an Open311 api key for a client application."""

    name = forms.CharField(
        label=_("Name of the client application"),
        max_length=200,
        help_text=_("Who runs it and what it is, for example Riverton FixMyStreet"),
        error_messages={
            "required": _("Enter the name of the application."),
            "max_length": _("Keep the name under 200 characters."),
        },
    )
