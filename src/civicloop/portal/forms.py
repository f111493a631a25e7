"""Forms of the portal, one question each. They check the shape of answers; the rules of a
report live in the intake services, whose errors are put back onto these forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from civicloop.cases.models import NotifyChannel
from civicloop.cases.services import MAX_DESCRIPTION
from civicloop.portal import guard
from civicloop.portal.services import MAX_UPDATE

REFERENCE_HINT = _("For example, CL-7KQ2-M9XD")


class TelInput(forms.TextInput):
    input_type = "tel"


class PortalForm(forms.Form):
    """A public form: checked on the server (the error summary, not the browser's bubbles,
    says what to fix), and refused when its honeypot is filled or it comes back too soon."""

    use_required_attribute = False
    # GET forms (searches, filters) carry no honeypot or timer.
    guarded = True
    service_field_aliases: dict[str, str] = {}

    def clean(self):
        cleaned = super().clean()
        if self.guarded:
            for message in guard.spam_errors(self.data):
                raise forms.ValidationError(message, code="spam")
        return cleaned

    def full_clean(self):
        super().full_clean()
        self._describe_errors()

    def _describe_errors(self) -> None:
        # Screen readers announce an error with its field: point each invalid input at it.
        for name in self.errors:
            if name in self.fields and not self.fields[name].widget.use_fieldset:
                bound = self[name]
                described = [f"{bound.auto_id}_helptext"] if self.fields[name].help_text else []
                self.fields[name].widget.attrs["aria-describedby"] = " ".join(
                    [*described, f"{bound.auto_id}_error"]
                )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put a service's ValidationFailed errors onto the fields they name (or the form)."""
        for name, messages in errors.items():
            field = self.service_field_aliases.get(name, name)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        self._describe_errors()

    def error_links(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary: each error links to its field."""
        if not self.is_bound:
            return []
        visible = [bound for bound in self if not bound.is_hidden]
        first = f"#{field_anchor(visible[0])}" if visible else "#main-content"
        links = [(first, message) for message in self.non_field_errors()]
        for bound in visible:
            links += [(f"#{field_anchor(bound)}", message) for message in bound.errors]
        return links


def field_anchor(bound) -> str:
    """The id of the element an error summary link moves focus to."""
    if isinstance(bound.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound.auto_id}_0"
    return bound.id_for_label or bound.auto_id


class ServiceSearchForm(PortalForm):
    guarded = False
    q = forms.CharField(
        label=_("Search for a service"),
        required=False,
        max_length=100,
        help_text=_("For example, pothole, street light or bins"),
    )


class AddressForm(PortalForm):
    address = forms.CharField(
        label=_("Where is the problem?"),
        max_length=200,
        help_text=_("Enter a street address or a postcode, for example 12 High Street"),
        error_messages={
            "required": _("Enter the address or postcode of the problem."),
            "max_length": _("Keep the address under %(limit_value)d characters."),
        },
    )


class AddressChoiceForm(PortalForm):
    address_id = forms.TypedChoiceField(
        label=_("Choose the address"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the address of the problem."),
            "invalid_choice": _("Choose one of the addresses listed."),
        },
    )

    def __init__(self, *args, addresses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address_id"].choices = [(a.id, str(a)) for a in addresses]


class CoordinatesForm(PortalForm):
    latitude = forms.FloatField(
        label=_("Latitude"),
        min_value=-90,
        max_value=90,
        help_text=_("In decimal degrees, for example 51.5072"),
        error_messages={
            "required": _("Enter the latitude."),
            "invalid": _("Enter the latitude as a number, for example 51.5072."),
            "min_value": _("Enter a latitude between -90 and 90."),
            "max_value": _("Enter a latitude between -90 and 90."),
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
    )
    longitude = forms.FloatField(
        label=_("Longitude"),
        min_value=-180,
        max_value=180,
        help_text=_("In decimal degrees, for example -0.1276"),
        error_messages={
            "required": _("Enter the longitude."),
            "invalid": _("Enter the longitude as a number, for example -0.1276."),
            "min_value": _("Enter a longitude between -180 and 180."),
            "max_value": _("Enter a longitude between -180 and 180."),
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
    )
    service_field_aliases = {"location": "latitude"}


NOT_A_DUPLICATE = "no"


class DuplicateForm(PortalForm):
    same_as = forms.ChoiceField(
        label=_("Is it one of these problems?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the problem you are reporting, or say it is a different one."),
            "invalid_choice": _("Choose one of the problems listed."),
        },
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (c.reference, _("Yes, it is %(ref)s") % {"ref": c.reference}) for c in candidates
        ]
        choices.append((NOT_A_DUPLICATE, _("No, it is a different problem")))
        self.fields["same_as"].choices = choices


class DescriptionForm(PortalForm):
    description = forms.CharField(
        label=_("Describe the problem"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "What is wrong, and anything that helps us find it. This description will be "
            "published on the public page of your report, so do not include your name or "
            "other personal details."
        ),
        error_messages={
            "required": _("Describe the problem."),
            "max_length": _("Keep the description under %(limit_value)d characters."),
        },
    )


class PhotoForm(PortalForm):
    photo = forms.FileField(
        label=_("Upload a photo (optional)"),
        required=False,
        help_text=_(
            "A JPEG, PNG or WebP image. We remove the location and camera details stored in "
            "the file. The photo will be published with your report."
        ),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        error_messages={
            "empty": _("The selected file is empty."),
            "invalid": _("The selected file could not be read. Choose it again."),
            "missing": _("The selected file could not be read. Choose it again."),
        },
    )


class UpdatesForm(PortalForm):
    notify_channel = forms.ChoiceField(
        label=_("Can we contact you about this report?"),
        choices=[
            (NotifyChannel.EMAIL, _("Yes, by email")),
            (NotifyChannel.SMS, _("Yes, by text message")),
            (NotifyChannel.NONE, _("No, do not contact me")),
        ],
        widget=forms.RadioSelect,
        help_text=_(
            "We will only contact you about this report: to tell you when its status changes "
            "or to ask about it. By email, we also send a link to follow and update it."
        ),
        error_messages={
            "required": _("Choose whether we may contact you about this report."),
            "invalid_choice": _("Choose one of the answers listed."),
        },
    )


class ContactForm(PortalForm):
    name = forms.CharField(
        label=_("Full name"),
        required=False,
        max_length=200,
        error_messages={"max_length": _("Keep your name under %(limit_value)d characters.")},
    )
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        max_length=254,
        error_messages={
            "invalid": _("Enter an email address in the right format, like name@example.com."),
            "max_length": _("Keep the email address under %(limit_value)d characters."),
        },
    )
    phone = forms.CharField(
        label=_("Mobile phone number"),
        required=False,
        max_length=40,
        widget=TelInput,
        error_messages={"max_length": _("Keep the phone number under %(limit_value)d characters.")},
    )
    service_field_aliases = {
        "reporter": "name",
        "reporter_email": "email",
        "reporter_phone": "phone",
    }

    def __init__(self, *args, notify_channel: str, place_based: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.notify_channel = notify_channel
        self.place_based = place_based
        self.fields["name"].widget.attrs.update(autocomplete="name", spellcheck="false")
        self.fields["email"].widget.attrs.update(autocomplete="email", spellcheck="false")
        self.fields["phone"].widget.attrs.update(autocomplete="tel")
        if notify_channel == NotifyChannel.EMAIL:
            self.fields["email"].help_text = _("We will send your reference and updates here.")
        if notify_channel == NotifyChannel.SMS:
            self.fields["phone"].help_text = _("We will send updates to this number by text.")

    def clean(self):
        cleaned = super().clean()
        name = (cleaned.get("name") or "").strip()
        email = (cleaned.get("email") or "").strip()
        phone = (cleaned.get("phone") or "").strip()
        cleaned.update(name=name, email=email, phone=phone)
        if phone and sum(ch.isdigit() for ch in phone) < 7:
            self.add_error("phone", _("Enter a phone number, like 07700 900 982."))
        if self.notify_channel == NotifyChannel.EMAIL and not email and "email" not in self.errors:
            self.add_error("email", _("Enter your email address, so that we can send you updates."))
        if self.notify_channel == NotifyChannel.SMS and not phone and "phone" not in self.errors:
            self.add_error("phone", _("Enter your mobile phone number, so that we can text you."))
        if not self.place_based:
            if not name:
                self.add_error("name", _("Enter your full name."))
            if not (email or phone) and not self.errors.get("email"):
                self.add_error("email", _("Enter an email address or a phone number."))
        return cleaned


class SubmitForm(PortalForm):
    """Nothing to answer: the check-your-answers page's button, with the guard."""


class TrackFindForm(PortalForm):
    guarded = False
    reference = forms.CharField(
        label=_("Your report's reference"),
        max_length=30,
        help_text=REFERENCE_HINT,
        error_messages={"required": _("Enter the reference of your report.")},
    )


class UpdateForm(PortalForm):
    update = forms.CharField(
        label=_("Add an update"),
        max_length=MAX_UPDATE,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Tell us anything new about the problem. Staff will read it; it is not published."
        ),
        error_messages={
            "required": _("Enter your update."),
            "max_length": _("Keep your update under %(limit_value)d characters."),
        },
    )


class FixedForm(PortalForm):
    fixed = forms.ChoiceField(
        label=_("Has the problem been fixed?"),
        choices=[("yes", _("Yes, it is fixed")), ("no", _("No, it is not fixed"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whether the problem has been fixed."),
            "invalid_choice": _("Choose one of the answers listed."),
        },
    )


class ReopenForm(PortalForm):
    reason = forms.CharField(
        label=_("What is still wrong?"),
        max_length=MAX_UPDATE,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("We will reopen your report and tell the team what you say here."),
        error_messages={
            "required": _("Tell us what is still wrong."),
            "max_length": _("Keep it under %(limit_value)d characters."),
        },
    )


class ReportFilterForm(PortalForm):
    guarded = False
    service = forms.ChoiceField(label=_("Service"), required=False)
    area = forms.ChoiceField(label=_("Area"), required=False)

    def __init__(self, *args, services=(), areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", _("All services"))] + [
            (s.code, s.name) for s in services
        ]
        self.fields["area"].choices = [("", _("All areas"))] + [(a.code, a.name) for a in areas]
        self.fields["service"].error_messages["invalid_choice"] = _(
            "Choose a service from the list."
        )
        self.fields["area"].error_messages["invalid_choice"] = _("Choose an area from the list.")
