"""Staff pages. Each view parses input, calls one selector or service, and renders;
access checks and refusals are the job of `staff_view`, access rules the selectors'.

Forms that fail answer 422 with an error summary, a stale version 409; success
redirects (post-redirect-get) with a message saying what happened.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from civicloop.cases import selectors as case_selectors
from civicloop.cases import services as case_services
from civicloop.cases.workflow import status_label, workflow_for
from civicloop.catalogue.selectors import department_list
from civicloop.core import clock
from civicloop.core.access import CASEWORK_ROLES, Conflict, ValidationFailed, Viewer
from civicloop.core.pagination import Page
from civicloop.intake import duplicates
from civicloop.people import selectors as people_selectors
from civicloop.people import services as people_services
from civicloop.staff import forms
from civicloop.staff.charts import bar_chart
from civicloop.staff.decorators import staff_view
from civicloop.staff.selectors import AGGREGATE_ROLES, open_cases_by_department, queue_summaries
from civicloop.trust.audit import audit_as_one

UNPROCESSABLE = 422
CONFLICT = 409

TIMELINE_KIND_LABELS = {
    "case": gettext_lazy("Case opened"),
    "case_event": gettext_lazy("Case update"),
    "contact": gettext_lazy("Contact"),
    "need": gettext_lazy("Need"),
}


class StaffLoginView(LoginView):
    template_name = "staff/login.html"
    authentication_form = forms.SignInForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["error_links"] = forms.error_links(context["form"])
        return context

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=UNPROCESSABLE)


def _page_number(params: QueryDict) -> int:
    try:
        return max(1, int(params.get("page", "1")))
    except ValueError:
        return 1


def _pagination(request: HttpRequest, page: Page) -> dict:
    """Links to the previous and next page, keeping every other query parameter."""
    params = request.GET.copy()
    params.pop("page", None)

    def url(number: int) -> str:
        params["page"] = str(number)
        return f"?{params.urlencode()}"

    return {
        "page": page,
        "previous_url": url(page.page - 1) if page.has_previous else "",
        "next_url": url(page.page + 1) if page.has_next else "",
        "first_shown": (page.page - 1) * page.page_size + 1 if page.items else 0,
        "last_shown": (page.page - 1) * page.page_size + len(page.items),
    }


# Home


@staff_view()
def home(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    context: dict = {"viewer": viewer}
    if viewer.does_casework:
        context["queues"] = queue_summaries(viewer=viewer)
    if viewer.role in AGGREGATE_ROLES:
        open_cases = open_cases_by_department(viewer=viewer)
        context["open_cases"] = open_cases
        context["chart"] = bar_chart([(row.department_name, row.total) for row in open_cases])
        context["open_total"] = sum(row.total for row in open_cases)
    return render(request, "staff/home.html", context)


# People


@staff_view(roles=CASEWORK_ROLES)
def person_search(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    submitted = any(name in request.GET for name in people_selectors.SEARCH_FIELDS)
    form = forms.PersonSearchForm(request.GET if submitted else None)
    results = None
    status = 200
    if submitted:
        if form.is_valid():
            criteria = people_selectors.PersonSearchCriteria(
                name=form.cleaned_data["name"].strip(),
                date_of_birth=form.cleaned_data["date_of_birth"],
                identifier=form.cleaned_data["identifier"].strip(),
                phone=form.cleaned_data["phone"].strip(),
                email=form.cleaned_data["email"].strip(),
            )
            try:
                results = people_selectors.person_search(
                    viewer=viewer, criteria=criteria, page=_page_number(request.GET)
                )
            except ValidationFailed as error:
                form.add_service_errors(error.errors)
        if not form.is_valid():
            status = UNPROCESSABLE
    context: dict = {"form": form, "results": results, "error_links": form.error_links()}
    if results is not None:
        context["pagination"] = _pagination(request, results)
    return render(request, "staff/person_search.html", context, status=status)


@staff_view(roles=CASEWORK_ROLES)
def person_create(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    form_kwargs = {"viewer": viewer, "departments": _department_queryset(viewer)}
    if request.method == "POST":
        form = forms.PersonCreateForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            choice = request.POST.get("match", "")
            if choice.isdigit():
                person = people_selectors.person_get(viewer=viewer, person_id=int(choice))
                messages.success(
                    request, _("Using the existing record of %(name)s.") % {"name": str(person)}
                )
                return redirect("staff:person_detail", person_id=person.id)
            if choice != "new":
                answered = request.POST.get("step") == "matches"
                candidates = _match_candidates(viewer, data)
                if candidates:
                    return render(
                        request,
                        "staff/person_create.html",
                        {
                            "form": form,
                            "candidates": candidates,
                            "error_links": [
                                ("#match-choice", _("Choose one of these people or add a new one."))
                            ]
                            if answered
                            else [],
                        },
                        status=UNPROCESSABLE if answered else 200,
                    )
            try:
                person = people_services.person_create(
                    viewer=viewer,
                    given_name=data["given_name"],
                    family_name=data["family_name"],
                    date_of_birth=data["date_of_birth"],
                    email=data["email"],
                    phone=data["phone"],
                    department_id=data["department"].id if data.get("department") else None,
                )
            except ValidationFailed as error:
                form.add_service_errors(error.errors)
            else:
                messages.success(request, _("Record created for %(name)s.") % {"name": str(person)})
                return redirect("staff:person_detail", person_id=person.id)
        return render(
            request,
            "staff/person_create.html",
            {"form": form, "error_links": form.error_links()},
            status=UNPROCESSABLE,
        )
    form = forms.PersonCreateForm(**form_kwargs)
    return render(request, "staff/person_create.html", {"form": form})


def _match_candidates(viewer: Viewer, data: dict) -> list[dict]:
    """Who the person about to be added may already be, ready for the page."""
    from civicloop.linkage.matching import person_match_candidates

    found = person_match_candidates(
        viewer=viewer,
        record={
            k: data.get(k) for k in ("given_name", "family_name", "date_of_birth", "email", "phone")
        },
    )
    return [
        {
            "person": c.person,
            "percent": round(c.match_probability * 100),
            "is_match": c.is_match,
            "reasons_for": [r.label for r in c.reasons if r.weight > 0],
            "reasons_against": [r.label for r in c.reasons if r.weight < 0],
        }
        for c in found
    ]


def _department_queryset(viewer: Viewer):
    return department_list().filter(id__in=viewer.department_ids)


def _timeline_groups(entries, group_by: str) -> list[dict]:
    """Timeline entries, newest first, in groups: by the local day they happened, or by
    department (departments in the order of their newest entry)."""
    groups: dict = {}
    for entry in entries:
        key = timezone.localdate(entry.at) if group_by == "day" else entry.department_name
        groups.setdefault(key, []).append((entry, TIMELINE_KIND_LABELS.get(entry.kind, entry.kind)))
    return [
        {"heading": key, "by_day": group_by == "day", "entries": items}
        for key, items in groups.items()
    ]


@staff_view(roles=CASEWORK_ROLES)
def person_detail(request: HttpRequest, viewer: Viewer, person_id: int) -> HttpResponse:
    raw_department = request.GET.get("department", "").strip()
    cursor = request.GET.get("cursor", "").strip() or None
    group_by = request.GET.get("group", "day")
    errors: list[tuple[str, str]] = []
    if group_by not in forms.TIMELINE_GROUPS:
        errors.append(("#id_group", _("Choose how to group the entries.")))
        group_by = "day"
    department_id = None
    if raw_department:
        try:
            department_id = int(raw_department)
        except ValueError:
            errors.append(("#id_department", _("Choose one of the departments listed.")))
    try:
        view = people_selectors.person_360(
            viewer=viewer, person_id=person_id, department_id=department_id, cursor=cursor
        )
    except ValidationFailed as error:
        anchors = {"department": "#id_department", "cursor": "#timeline"}
        errors += [(anchors.get(k, ""), m) for k, ms in error.errors.items() for m in ms]
        department_id, cursor = None, None
        view = people_selectors.person_360(viewer=viewer, person_id=person_id)
    filters = {"department": department_id or "", "group": group_by}
    filter_form = forms.TimelineFilterForm(filters, departments=view.departments)
    filter_form.is_valid()
    for anchor, message in errors:
        if anchor in ("#id_department", "#id_group"):
            filter_form.add_error(anchor.removeprefix("#id_"), message)
    kept = {k: v for k, v in filters.items() if v and not (k == "group" and v == "day")}
    older_url = ""
    if view.timeline.next_cursor:
        older_url = f"?{urlencode({**kept, 'cursor': view.timeline.next_cursor})}#timeline"
    context = {
        "view": view,
        "person": view.person,
        "filter_form": filter_form,
        "error_links": errors,
        "timeline_groups": _timeline_groups(view.timeline.entries, group_by),
        "overdue_case_ids": {
            c.case_id
            for c in view.cases
            if c.full and not c.closed_at and c.due_at and c.due_at < clock.now()
        },
        "older_url": older_url,
        "newest_url": f"?{urlencode(kept)}#timeline" if cursor else "",
        "filtered_department": next((d for d in view.departments if d.id == department_id), None),
        "full_cases": [c for c in view.cases if c.full],
        "summary_cases": [c for c in view.cases if not c.full],
    }
    return render(
        request, "staff/person_detail.html", context, status=UNPROCESSABLE if errors else 200
    )


@staff_view(roles=CASEWORK_ROLES)
def need_record(request: HttpRequest, viewer: Viewer, person_id: int) -> HttpResponse:
    person = people_selectors.person_get(viewer=viewer, person_id=person_id)
    form_kwargs = {"viewer": viewer, "departments": _department_queryset(viewer)}
    status = 200
    if request.method == "POST":
        form = forms.NeedForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                people_services.need_record(
                    viewer=viewer,
                    person_id=person_id,
                    need_id=data["need"].id,
                    note=data["note"],
                    department_id=data["department"].id if data.get("department") else None,
                )
            except ValidationFailed as error:
                form.add_service_errors(error.errors)
            else:
                messages.success(
                    request, _("Need recorded: %(need)s.") % {"need": data["need"].name}
                )
                return redirect(reverse("staff:person_detail", args=[person_id]) + "#needs")
        status = UNPROCESSABLE
    else:
        form = forms.NeedForm(**form_kwargs)
    return render(
        request,
        "staff/need_form.html",
        {"form": form, "person": person, "error_links": form.error_links()},
        status=status,
    )


# Contacts


def _contact_page(request: HttpRequest, viewer: Viewer, *, person=None, case=None) -> HttpResponse:
    """Log a contact about a person (acting for one of the viewer's departments) or a case."""
    about_case = case is not None
    form_kwargs = (
        {} if about_case else {"viewer": viewer, "departments": _department_queryset(viewer)}
    )
    back_url = (
        reverse("staff:case_detail", args=[case.id])
        if about_case
        else reverse("staff:person_detail", args=[person.id])
    )
    status = 200
    if request.method == "POST":
        form = forms.ContactForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case_services.interaction_log(
                    viewer=viewer,
                    channel=data["channel"],
                    direction=data["direction"],
                    summary=data["summary"],
                    is_chasing=data["is_chasing"],
                    case_id=case.id if about_case else None,
                    person_id=None if about_case else person.id,
                    department_id=data["department"].id if data.get("department") else None,
                )
            except ValidationFailed as error:
                form.add_service_errors(error.errors)
            else:
                messages.success(request, _("Contact logged."))
                return redirect(back_url + "#contacts")
        status = UNPROCESSABLE
    else:
        form = forms.ContactForm(**form_kwargs)
    context = {
        "form": form,
        "person": person,
        "case": case,
        "back_url": back_url,
        "error_links": form.error_links(),
    }
    return render(request, "staff/contact_form.html", context, status=status)


@staff_view(roles=CASEWORK_ROLES)
def person_contact(request: HttpRequest, viewer: Viewer, person_id: int) -> HttpResponse:
    person = people_selectors.person_get(viewer=viewer, person_id=person_id)
    return _contact_page(request, viewer, person=person)


@staff_view(roles=CASEWORK_ROLES)
def case_contact(request: HttpRequest, viewer: Viewer, case_id: int) -> HttpResponse:
    detail = case_selectors.case_detail(viewer=viewer, case_id=case_id)
    return _contact_page(request, viewer, case=detail.case)


# Cases


@staff_view(roles=CASEWORK_ROLES)
def case_queue(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    departments = people_services.department_choices(viewer)
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "open"  # the queue is about work still to do
    form = forms.CaseFilterForm(data, departments=departments)
    results = None
    if form.is_valid():
        filters = case_selectors.CaseFilters(
            department_id=form.cleaned_data["department"],
            status=form.cleaned_data["status"],
            assignee=form.cleaned_data["assignee"],
            overdue=form.cleaned_data["overdue"],
        )
        try:
            results = case_selectors.case_list(
                viewer=viewer, filters=filters, page=_page_number(request.GET)
            )
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
    context: dict = {
        "form": form,
        "results": results,
        "error_links": form.error_links(),
        "departments": departments,
    }
    if results is not None:
        now = clock.now()
        context["rows"] = [
            (
                case,
                bool(
                    case.due_at
                    and case.due_at < now
                    and workflow_for(case.service).is_open(case.status)
                ),
            )
            for case in results.items
        ]
        context["pagination"] = _pagination(request, results)
    return render(
        request,
        "staff/case_queue.html",
        context,
        status=200 if results is not None else UNPROCESSABLE,
    )


def _case_page(
    request: HttpRequest,
    viewer: Viewer,
    case_id: int,
    *,
    status: int = 200,
    conflict: str = "",
    **bound_forms,
) -> HttpResponse:
    # The case and the reports it may repeat: one read, one audit event.
    with audit_as_one(viewer=viewer, action="case.read", object_type="case"):
        detail = case_selectors.case_detail(viewer=viewer, case_id=case_id)
        nearby = duplicates.possible_duplicates_of_case(viewer=viewer, case_id=case_id)
    case = detail.case
    initial = {"version": case.version}
    transition_form = bound_forms.get("transition_form") or forms.TransitionForm(
        initial=initial, allowed=detail.allowed_transitions
    )
    assign_form = bound_forms.get("assign_form") or forms.AssignForm(
        initial={**initial, "assignee": str(case.assignee_id or "")},
        assignable=detail.assignable,
        viewer=viewer,
    )
    note_form = bound_forms.get("note_form") or forms.NoteForm()
    duplicate_form = bound_forms.get("duplicate_form") or forms.DuplicateOfForm()
    error_links: list[tuple[str, str]] = [("", conflict)] if conflict else []
    for form in bound_forms.values():
        error_links += form.error_links()
    context = {
        "detail": detail,
        "case": case,
        "transition_form": transition_form,
        "assign_form": assign_form,
        "note_form": note_form,
        "duplicate_form": duplicate_form,
        "nearby": nearby,
        "error_links": error_links,
        "can_take": not viewer.is_supervisor and case.assignee_id is None,
        "assigned_to_me": case.assignee_id is not None and case.assignee_id == viewer.staff_id,
    }
    return render(request, "staff/case_detail.html", context, status=status)


@staff_view(roles=CASEWORK_ROLES)
def case_detail(request: HttpRequest, viewer: Viewer, case_id: int) -> HttpResponse:
    return _case_page(request, viewer, case_id)


def _case_redirect(case_id: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("staff:case_detail", args=[case_id]) + anchor)


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def case_transition(request: HttpRequest, viewer: Viewer, case_id: int) -> HttpResponse:
    allowed = case_selectors.case_actions(viewer=viewer, case_id=case_id).allowed_transitions
    form = forms.TransitionForm(request.POST, allowed=allowed)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = case_services.case_transition(
                viewer=viewer,
                case_id=case_id,
                to_status=data["to_status"],
                version=data["version"],
                note=data["note"],
            )
        except Conflict as error:
            return _case_page(request, viewer, case_id, status=CONFLICT, conflict=str(error))
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
        else:
            messages.success(
                request, _("Case moved to %(status)s.") % {"status": status_label(case.status)}
            )
            return _case_redirect(case_id)
    elif "version" in form.errors:
        return _case_page(
            request,
            viewer,
            case_id,
            status=CONFLICT,
            conflict=_("This page was out of date. Check the case and try again."),
        )
    return _case_page(request, viewer, case_id, status=UNPROCESSABLE, transition_form=form)


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def case_assign(request: HttpRequest, viewer: Viewer, case_id: int) -> HttpResponse:
    assignable = case_selectors.case_actions(viewer=viewer, case_id=case_id).assignable
    form = forms.AssignForm(request.POST, assignable=assignable, viewer=viewer)
    if form.is_valid():
        try:
            case = case_services.case_assign(
                viewer=viewer,
                case_id=case_id,
                assignee_id=form.assignee_id(),
                version=form.cleaned_data["version"],
            )
        except Conflict as error:
            return _case_page(request, viewer, case_id, status=CONFLICT, conflict=str(error))
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
        else:
            if case.assignee_id is None:
                messages.success(request, _("The case is now unassigned."))
            else:
                messages.success(
                    request, _("Case assigned to %(name)s.") % {"name": case.assignee.display_name}
                )
            return _case_redirect(case_id)
    elif "version" in form.errors:
        return _case_page(
            request,
            viewer,
            case_id,
            status=CONFLICT,
            conflict=_("This page was out of date. Check the case and try again."),
        )
    return _case_page(request, viewer, case_id, status=UNPROCESSABLE, assign_form=form)


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def case_note(request: HttpRequest, viewer: Viewer, case_id: int) -> HttpResponse:
    form = forms.NoteForm(request.POST)
    if form.is_valid():
        try:
            case_services.case_add_note(
                viewer=viewer, case_id=case_id, note=form.cleaned_data["note"]
            )
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
        else:
            messages.success(request, _("Note added."))
            return _case_redirect(case_id, "#history")
    return _case_page(request, viewer, case_id, status=UNPROCESSABLE, note_form=form)
