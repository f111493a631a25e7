"""Staff pages of possible duplicate reports: the queue of pairs to review, the two
decisions on a pair, and marking a case a duplicate from its own page. Views parse, call
one service or selector, and render; refusals are `staff_view`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from civicloop.core.access import CASEWORK_ROLES, Conflict, ValidationFailed, Viewer
from civicloop.intake import duplicates
from civicloop.staff import forms
from civicloop.staff.decorators import staff_view
from civicloop.staff.views import CONFLICT, UNPROCESSABLE, _case_page, _page_number, _pagination


def _queue_page(
    request: HttpRequest, viewer: Viewer, *, problems: Sequence[str] = (), status: int = 200
) -> HttpResponse:
    results = duplicates.possible_duplicates_open(
        viewer=viewer, page=_page_number(request.GET) if request.method == "GET" else 1
    )
    # Each pair side by side: the new report, then the earlier one it may repeat.
    sides = (_("New report"), _("Earlier report"))
    context = {
        "results": results,
        "pairs": [
            (pair, list(zip((pair.case, pair.candidate), sides, strict=True)))
            for pair in results.items
        ],
        "pagination": _pagination(request, results),
        "error_links": [("", problem) for problem in problems],
    }
    return render(request, "staff/duplicate_queue.html", context, status=status)


@staff_view(roles=CASEWORK_ROLES)
@require_GET
def duplicate_queue(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return _queue_page(request, viewer)


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def duplicate_confirm(
    request: HttpRequest, viewer: Viewer, possible_duplicate_id: int
) -> HttpResponse:
    try:
        case = duplicates.possible_duplicate_confirm(viewer=viewer, pair_id=possible_duplicate_id)
    except Conflict as error:
        return _queue_page(request, viewer, problems=[str(error)], status=CONFLICT)
    except ValidationFailed as error:
        problems = [m for field_messages in error.errors.values() for m in field_messages]
        return _queue_page(request, viewer, problems=problems, status=UNPROCESSABLE)
    messages.success(
        request,
        _(
            "Case %(case)s is now a duplicate of %(original)s: it follows its status, and its "
            "reporter hears of every change."
        )
        % {"case": case.reference, "original": case.duplicate_of.reference},
    )
    return redirect("staff:duplicate_queue")


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def duplicate_dismiss(
    request: HttpRequest, viewer: Viewer, possible_duplicate_id: int
) -> HttpResponse:
    try:
        pair = duplicates.possible_duplicate_dismiss(viewer=viewer, pair_id=possible_duplicate_id)
    except Conflict as error:
        return _queue_page(request, viewer, problems=[str(error)], status=CONFLICT)
    messages.success(
        request,
        _("Cases %(case)s and %(candidate)s stay separate: they are not the same problem.")
        % {"case": pair.case.reference, "candidate": pair.candidate.reference},
    )
    return redirect("staff:duplicate_queue")


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def case_mark_duplicate(request: HttpRequest, viewer: Viewer, case_id: int) -> HttpResponse:
    form = forms.DuplicateOfForm(request.POST)
    if form.is_valid():
        try:
            case = duplicates.case_mark_duplicate_of_reference(
                viewer=viewer, case_id=case_id, reference=form.cleaned_data["reference"]
            )
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
        else:
            messages.success(
                request,
                _("This case is now a duplicate of %(original)s and follows its status.")
                % {"original": case.duplicate_of.reference},
            )
            return redirect(reverse("staff:case_detail", args=[case_id]) + "#duplicates")
    return _case_page(request, viewer, case_id, status=UNPROCESSABLE, duplicate_form=form)
