"""Staff pages of assisted intake (phone, in person, or an email from the triage queue) and
of the triage queue. Views parse, call one service or a few audited reads, and render.

Intake is one page in two steps that work without JavaScript: a GET search for the person
(or "add a new person"), then one form that records the need, opens the case and logs the
contact in a single submit. A new person is first checked against the people already
known (the duplicate check of person intake); the caseworker picks one or adds anyway.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlencode

from django import forms as django_forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from civicloop.cases import services as case_services
from civicloop.cases.models import Priority
from civicloop.catalogue.selectors import department_list, need_list
from civicloop.core.access import CASEWORK_ROLES, Conflict, NotVisible, ValidationFailed, Viewer
from civicloop.intake import assisted, triage
from civicloop.intake.models import TriageItem
from civicloop.people import selectors as people_selectors
from civicloop.staff import forms
from civicloop.staff.decorators import staff_view
from civicloop.staff.views import CONFLICT, UNPROCESSABLE, _match_candidates, _pagination
from civicloop.trust.audit import audit_as_one

PERSON_FIELDS = ("given_name", "family_name", "date_of_birth", "email", "phone")

# -- forms ---------------------------------------------------------------------------------


class IntakeForm(forms.StaffForm):
    """The case, the need and the contact; and the person's details when they are new."""

    service = django_forms.TypedChoiceField(
        label=gettext_lazy("Service"),
        coerce=int,
        empty_value=None,
        error_messages={
            "required": gettext_lazy("Choose a service from the list."),
            "invalid_choice": gettext_lazy("Choose a service from the list."),
        },
    )
    need = django_forms.ModelChoiceField(
        queryset=need_list(),
        label=gettext_lazy("The person's need"),
        empty_label=gettext_lazy("Choose a need"),
        error_messages={
            "required": gettext_lazy("Choose the person's need from the list."),
            "invalid_choice": gettext_lazy("Choose the person's need from the list."),
        },
    )
    description = django_forms.CharField(
        label=gettext_lazy("What do they need help with?"),
        max_length=forms.MAX_TEXT,
        widget=django_forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("This becomes the case description."),
        error_messages={
            "required": gettext_lazy("Describe what the person needs help with."),
            "max_length": gettext_lazy("Keep the description under 4000 characters."),
        },
    )
    priority = django_forms.ChoiceField(
        label=gettext_lazy("Priority"),
        choices=Priority.choices,
        initial=Priority.NORMAL,
        error_messages={"invalid_choice": gettext_lazy("Choose a priority from the list.")},
    )
    channel = django_forms.ChoiceField(
        label=gettext_lazy("How did the person get in touch?"),
        widget=django_forms.RadioSelect,
        choices=[(c.value, c.label) for c in assisted.ASSISTED_CHANNELS],
        error_messages={
            "required": gettext_lazy("Choose how the person got in touch."),
            "invalid_choice": gettext_lazy("Choose how the person got in touch."),
        },
    )
    summary = django_forms.CharField(
        label=gettext_lazy("Summary of the conversation"),
        max_length=forms.MAX_TEXT,
        widget=django_forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What was asked or said, and what happens next"),
        error_messages={
            "required": gettext_lazy("Enter a summary of the conversation."),
            "max_length": gettext_lazy("Keep the summary under 4000 characters."),
        },
    )
    person = django_forms.IntegerField(widget=django_forms.HiddenInput, required=False)
    triage = django_forms.IntegerField(widget=django_forms.HiddenInput, required=False)
    triage_version = django_forms.CharField(widget=django_forms.HiddenInput, required=False)

    def __init__(self, *args, viewer: Viewer, new_person: bool, from_email: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if new_person:
            # The same questions, checks and messages as adding a person on its own.
            for name in PERSON_FIELDS:
                self.fields[name] = copy.deepcopy(forms.PersonCreateForm.base_fields[name])
                self.fields[name].widget.attrs.update(autocomplete="off", spellcheck="false")
            # Shown back as the hint asks for it (day/month/year), not as ISO.
            self.fields["date_of_birth"].widget.format = "%d/%m/%Y"
        if from_email:
            del self.fields["channel"], self.fields["summary"]
        self.order_fields([*PERSON_FIELDS, "service", "need", "description", "priority"])
        services = list(assisted.intake_services(viewer))
        self.fields["service"].choices = [("", _("Choose a service"))] + _grouped(services)

    def details(self) -> assisted.PersonDetails | None:
        """The new person's details as typed, or None when an existing person was chosen."""
        if "given_name" not in self.fields:
            return None
        data = self.cleaned_data
        return assisted.PersonDetails(
            given_name=data["given_name"],
            family_name=data["family_name"],
            date_of_birth=data["date_of_birth"],
            email=data["email"] or "",
            phone=data["phone"] or "",
        )


def _grouped(services) -> list:
    """Service choices, under their department's name when there is more than one."""
    departments: dict[str, list] = {}
    for service in services:
        departments.setdefault(service.department.name, []).append((service.id, service.name))
    if len(departments) == 1:
        return next(iter(departments.values()))
    return list(departments.items())


class AttachForm(forms.StaffForm):
    reference = django_forms.CharField(
        label=gettext_lazy("Case reference"),
        max_length=30,
        help_text=gettext_lazy("For example, CL-7KQ2-M9XD"),
        error_messages={"required": gettext_lazy("Enter the reference of the case.")},
    )
    version = django_forms.CharField(widget=django_forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "attach")
        super().__init__(*args, **kwargs)
        self.fields["reference"].widget.attrs.update(autocomplete="off", spellcheck="false")


class RouteForm(forms.StaffForm):
    department = django_forms.ModelChoiceField(
        queryset=department_list(),
        label=gettext_lazy("Department"),
        empty_label=gettext_lazy("Choose a department"),
        error_messages={
            "required": gettext_lazy("Choose a department from the list."),
            "invalid_choice": gettext_lazy("Choose a department from the list."),
        },
    )
    version = django_forms.CharField(widget=django_forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "route")
        super().__init__(*args, **kwargs)


class CloseForm(forms.StaffForm):
    reason = django_forms.ChoiceField(
        label=gettext_lazy("Why does it need no case?"),
        widget=django_forms.RadioSelect,
        choices=list(triage.CLOSE_REASONS.items()),
        error_messages={
            "required": gettext_lazy("Choose why the message needs no case."),
            "invalid_choice": gettext_lazy("Choose why the message needs no case."),
        },
    )
    version = django_forms.CharField(widget=django_forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "close")
        super().__init__(*args, **kwargs)


class TriageFilterForm(forms.StaffForm):
    state = django_forms.ChoiceField(
        label=gettext_lazy("Messages"),
        required=False,
        choices=list(triage.STATES.items()),
        error_messages={"invalid_choice": gettext_lazy("Choose one of the options listed.")},
    )
    department = django_forms.ChoiceField(label=gettext_lazy("Show"), required=False)

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [
            ("", _("Everything I can see")),
            (triage.UNROUTED, _("Not yet routed to a department")),
        ] + [(str(d.id), _("Routed to %(name)s") % {"name": d.name}) for d in departments]
        self.fields["department"].error_messages["invalid_choice"] = _(
            "Choose one of the options listed."
        )


# -- assisted intake -------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _intake_url(**params) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return reverse("staff:intake") + (f"?{urlencode(kept)}" if kept else "")


def _split_name(name: str) -> tuple[str, str]:
    """Split "Alice Mary Okafor" into ("Alice Mary", "Okafor"): a guess the caseworker checks."""
    parts = name.split()
    return (" ".join(parts[:-1]), parts[-1]) if parts else ("", "")


def _new_person_initial(params: QueryDict, item: TriageItem | None) -> dict:
    """What is already known of a new person: the search typed, or the email's sender."""
    if item is not None:
        given, family = _split_name(item.sender_name)
        return {"given_name": given, "family_name": family, "email": item.sender_email}
    search = forms.PersonSearchForm(params)
    if not search.is_valid():
        return {}
    data = search.cleaned_data
    given, family = _split_name(data["name"])
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": data["date_of_birth"],
        "email": data["email"],
        "phone": data["phone"],
    }


def _read_item(viewer: Viewer, item_id: int | None) -> triage.TriageItemDetail | None:
    return triage.triage_item_get(viewer=viewer, item_id=item_id) if item_id else None


@staff_view(roles=CASEWORK_ROLES)
def intake(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    if request.method == "POST":
        return _intake_submit(request, viewer)
    params = request.GET
    item_id, person_id = _int(params.get("triage")), _int(params.get("person"))
    new_person = params.get("new") == "1"
    searched = (
        person_id is None
        and not new_person
        and any(name in params for name in people_selectors.SEARCH_FIELDS)
    )
    context: dict = {"new_person": new_person}
    status = 200
    with audit_as_one(viewer=viewer, action="intake.read", object_type="person"):
        detail = _read_item(viewer, item_id)
        person = (
            people_selectors.person_get(viewer=viewer, person_id=person_id) if person_id else None
        )
        if person is None and not new_person:
            search = forms.PersonSearchForm(
                params if searched else None,
                initial={"email": detail.item.sender_email} if detail else None,
            )
            context.update(step="find", search_form=search)
            if searched and search.is_valid():
                answers: dict[str, Any] = {
                    k: v.strip() if isinstance(v, str) else v
                    for k, v in search.cleaned_data.items()
                }
                criteria = people_selectors.PersonSearchCriteria(**answers)
                try:
                    results = people_selectors.person_search(
                        viewer=viewer, criteria=criteria, page=_int(params.get("page")) or 1
                    )
                except ValidationFailed as error:
                    search.add_service_errors(error.errors)
                else:
                    context.update(results=results, pagination=_pagination(request, results))
            if searched and not search.is_valid():
                status = UNPROCESSABLE
            context["error_links"] = search.error_links()
    if person is not None or new_person:
        initial: dict[str, Any] = {
            "triage": item_id,
            "person": person_id,
            "priority": Priority.NORMAL,
        }
        if detail is not None:
            initial.update(
                triage_version=detail.version,
                description=detail.item.body[: case_services.MAX_DESCRIPTION],
            )
        if new_person:
            initial.update(_new_person_initial(params, detail.item if detail else None))
        form = IntakeForm(
            initial=initial, viewer=viewer, new_person=new_person, from_email=detail is not None
        )
        context.update(step="form", form=form, person=person)
    return _intake_render(request, context, detail, status)


def _intake_render(request, context: dict, detail, status: int) -> HttpResponse:
    item_id = detail.item.id if detail else None
    search_params = {
        k: request.GET.get(k, "") for k in people_selectors.SEARCH_FIELDS if k in request.GET
    }
    context.update(
        triage=detail,
        item_open=detail is None or detail.item.status == TriageItem.Status.OPEN,
        new_url=_intake_url(new="1", triage=item_id, **search_params),
        find_url=_intake_url(triage=item_id),
        # The person's id is added in the template.
        choose_url=f"{reverse('staff:intake')}?{urlencode({'triage': item_id or ''})}&person=",
    )
    return render(request, "staff/intake.html", context, status=status)


def _intake_submit(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    post = request.POST
    item_id, person_id = _int(post.get("triage")), _int(post.get("person"))
    new_person = person_id is None
    form = IntakeForm(post, viewer=viewer, new_person=new_person, from_email=item_id is not None)
    match = post.get("match", "")
    candidates: list[dict] = []
    conflict = ""
    # The duplicate check, the writes and the reads for showing the form again: one event.
    with audit_as_one(viewer=viewer, action="intake.submit", object_type="person"):
        if form.is_valid():
            data = form.cleaned_data
            if new_person and match.isdigit():
                person_id = int(match)  # the duplicate check found them: use that person
            elif new_person and match != "new":
                candidates = _match_candidates(viewer, data)
            if not candidates:
                try:
                    result = assisted.intake_assisted(
                        viewer=viewer,
                        service_id=data["service"],
                        need_id=data["need"].id,
                        description=data["description"],
                        priority=data["priority"],
                        channel=data.get("channel", ""),
                        summary=data.get("summary", ""),
                        person_id=person_id,
                        details=form.details(),
                        triage_item_id=item_id,
                        triage_version=data["triage_version"] or "",
                    )
                except ValidationFailed as error:
                    form.add_service_errors(error.errors)
                except Conflict as error:
                    conflict = str(error)
                else:
                    messages.success(request, _success_message(result))
                    return redirect("staff:case_detail", case_id=result.case.id)
        try:
            detail = _read_item(viewer, item_id)
        except NotVisible:
            if not conflict:
                raise
            detail = None  # routed to another department meanwhile: the conflict says so
        shown_id = person_id if not new_person else (int(match) if match.isdigit() else None)
        person = (
            people_selectors.person_get(viewer=viewer, person_id=shown_id) if shown_id else None
        )
    error_links = [("", conflict)] if conflict else []
    error_links += form.error_links()
    if candidates and post.get("step") == "matches":
        error_links.append(("#match-choice", _("Choose one of these people or add a new one.")))
    context: dict = {
        "step": "form",
        "form": form,
        "candidates": candidates,
        "match": "" if candidates else match,
        "person": person,
        "new_person": new_person,
        "error_links": error_links,
        "item_gone": item_id is not None and detail is None,
    }
    status = CONFLICT if conflict else (UNPROCESSABLE if error_links else 200)
    return _intake_render(request, context, detail, status)


def _success_message(result: assisted.AssistedIntake) -> str:
    parts = [
        _("Case %(ref)s opened for %(name)s.")
        % {"ref": result.case.reference, "name": str(result.person)}
    ]
    if result.need_already_open:
        parts.append(
            _(
                "Their need (%(need)s) was already open with the department, so it was not "
                "recorded again."
            )
            % {"need": result.person_need.need.name}
        )
    else:
        parts.append(_("Need recorded: %(need)s.") % {"need": result.person_need.need.name})
    parts.append(_("Contact logged."))
    if result.department_record_created:
        parts.append(_("The department now holds its own record of them."))
    return " ".join(parts)


# -- triage ----------------------------------------------------------------------------------


@staff_view(roles=CASEWORK_ROLES)
def triage_queue(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return _queue_page(request, viewer)


def _queue_page(
    request: HttpRequest, viewer: Viewer, *, conflict: str = "", status: int = 200
) -> HttpResponse:
    departments = list(department_list().filter(id__in=viewer.department_ids))
    form = TriageFilterForm(request.GET, departments=departments)
    results = None
    if form.is_valid():
        filters = triage.TriageFilters(
            department=form.cleaned_data["department"],
            state=form.cleaned_data["state"] or triage.WAITING,
        )
        try:
            results = triage.triage_items(
                viewer=viewer, filters=filters, page=_int(request.GET.get("page")) or 1
            )
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
    context: dict = {
        "form": form,
        "results": results,
        "handled": form.is_valid() and form.cleaned_data["state"] == triage.HANDLED,
        "error_links": ([("", conflict)] if conflict else []) + form.error_links(),
    }
    if results is not None:
        context["pagination"] = _pagination(request, results)
    elif status == 200:
        status = UNPROCESSABLE
    return render(request, "staff/triage_queue.html", context, status=status)


def _detail_page(
    request: HttpRequest,
    viewer: Viewer,
    item_id: int,
    *,
    status: int = 200,
    conflict: str = "",
    routed_away: bool = False,
    **bound_forms,
) -> HttpResponse:
    """The item's page; after a Conflict (`routed_away`) the queue when the item is no
    longer the viewer's to see, so the conflict is still told."""
    try:
        detail = triage.triage_item_get(viewer=viewer, item_id=item_id)
    except NotVisible:
        if not routed_away:
            raise
        return _queue_page(request, viewer, conflict=conflict, status=status)
    initial = {"version": detail.version}
    # A message that names a case (from someone who is not its reporter) is most likely
    # about it: offer that case, for staff to confirm.
    named = detail.item.case.reference if detail.case_visible else ""
    error_links: list[tuple[str, str]] = [("", conflict)] if conflict else []
    for form in bound_forms.values():
        error_links += form.error_links()
    context = {
        "detail": detail,
        "item": detail.item,
        "attach_form": bound_forms.get("attach_form")
        or AttachForm(initial={**initial, "reference": named}),
        "route_form": bound_forms.get("route_form") or RouteForm(initial=initial),
        "close_form": bound_forms.get("close_form") or CloseForm(initial=initial),
        "open_case_url": _intake_url(triage=item_id),
        "error_links": error_links,
    }
    return render(request, "staff/triage_detail.html", context, status=status)


@staff_view(roles=CASEWORK_ROLES)
def triage_detail(request: HttpRequest, viewer: Viewer, triage_item_id: int) -> HttpResponse:
    return _detail_page(request, viewer, triage_item_id)


def _act(request, viewer, item_id: int, form, form_name: str, action) -> HttpResponse:
    """Run a triage action from a bound form: PRG on success, the item's page otherwise."""
    if form.is_valid():
        try:
            return action(form.cleaned_data)
        except Conflict as error:
            return _detail_page(
                request, viewer, item_id, status=CONFLICT, conflict=str(error), routed_away=True
            )
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
    elif "version" in form.errors:
        return _detail_page(
            request,
            viewer,
            item_id,
            status=CONFLICT,
            conflict=_("This page was out of date. Check the message and try again."),
        )
    return _detail_page(request, viewer, item_id, status=UNPROCESSABLE, **{form_name: form})


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def triage_attach(request: HttpRequest, viewer: Viewer, triage_item_id: int) -> HttpResponse:
    def attach(data) -> HttpResponse:
        interaction = triage.triage_item_attach(
            viewer=viewer,
            item_id=triage_item_id,
            version=data["version"],
            reference=data["reference"],
        )
        messages.success(request, _("The email was added to this case's contact log."))
        return redirect(reverse("staff:case_detail", args=[interaction.case_id]) + "#contacts")

    form = AttachForm(request.POST)
    return _act(request, viewer, triage_item_id, form, "attach_form", attach)


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def triage_route(request: HttpRequest, viewer: Viewer, triage_item_id: int) -> HttpResponse:
    def route(data) -> HttpResponse:
        triage.triage_item_route(
            viewer=viewer,
            item_id=triage_item_id,
            version=data["version"],
            department_id=data["department"].id,
        )
        messages.success(
            request, _("The message was routed to %(name)s.") % {"name": data["department"].name}
        )
        return redirect("staff:triage_queue")

    form = RouteForm(request.POST)
    return _act(request, viewer, triage_item_id, form, "route_form", route)


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def triage_close(request: HttpRequest, viewer: Viewer, triage_item_id: int) -> HttpResponse:
    def close(data) -> HttpResponse:
        triage.triage_item_close(
            viewer=viewer, item_id=triage_item_id, version=data["version"], reason=data["reason"]
        )
        messages.success(request, _("The message was closed without a case."))
        return redirect("staff:triage_queue")

    form = CloseForm(request.POST)
    return _act(request, viewer, triage_item_id, form, "close_form", close)
