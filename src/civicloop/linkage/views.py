"""Pages of the clerical review queue. Views parse, call one selector or service, render;
access is checked by `staff_view` and the selectors (see linkage/selectors.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicloop.core.access import CASEWORK_ROLES, Conflict, ValidationFailed, Viewer
from civicloop.core.pagination import Page
from civicloop.linkage import selectors, services
from civicloop.linkage.forms import MergeUndoForm, ReviewDecisionForm
from civicloop.people.merge import person_unmerge
from civicloop.staff.decorators import staff_view

UNPROCESSABLE = 422
CONFLICT = 409

# -- the waterfall chart ----------------------------------------------------------------------

LABEL_WIDTH = 190
PLOT_WIDTH = 380
VALUE_WIDTH = 70
ROW_HEIGHT = 32
BAR_HEIGHT = 20
TOP = 8
AXIS_HEIGHT = 28
MAX_LABEL = 24


@dataclass(frozen=True)
class Step:
    """One bar of the waterfall: from `start` to `end` on the match-weight scale."""

    label: str
    detail: str  # what was found, for the table
    start: float
    end: float
    kind: str  # "total", "for" or "against"
    y: int
    x: float
    width: float

    @property
    def value(self) -> float:
        return self.end - self.start

    @property
    def short_label(self) -> str:
        return self.label if len(self.label) <= MAX_LABEL else self.label[: MAX_LABEL - 1] + "…"

    @property
    def bar_y(self) -> int:
        return self.y + (ROW_HEIGHT - BAR_HEIGHT) // 2

    @property
    def text_y(self) -> int:
        return self.y + ROW_HEIGHT // 2 + 5

    @property
    def fill(self) -> str:
        # Each meets 3:1 against white (WCAG 1.4.11); the table says the same in words.
        return {"total": "#0b0c0c", "for": "#00703c", "against": "#b21f0c"}[self.kind]


@dataclass(frozen=True)
class Waterfall:
    steps: list[Step]
    width: int
    height: int
    zero_x: float
    axis_y: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT
    value_x: int = LABEL_WIDTH + PLOT_WIDTH + 10
    ticks: tuple[tuple[float, str], ...] = ()


def waterfall(prior: float, contributions, total: float) -> Waterfall:
    """The starting point (the prior), each comparison's push up or down, and the total: the
    running match weight in log2 units, drawn as bars that start where the last one ended."""
    rows: list[tuple[str, str, float, float, str]] = [
        (_("Starting point"), _("Before comparing any field"), 0.0, prior, "total")
    ]
    running = prior
    for c in contributions:
        kind = "for" if c.weight >= 0 else "against"
        rows.append((c.comparison_label, c.label, running, running + c.weight, kind))
        running += c.weight
    rows.append((_("Match weight"), _("All fields together"), 0.0, total, "total"))
    lowest = min(0.0, *(min(r[2], r[3]) for r in rows))
    highest = max(0.0, *(max(r[2], r[3]) for r in rows))
    span = (highest - lowest) or 1.0

    def x(value: float) -> float:
        return round(LABEL_WIDTH + PLOT_WIDTH * (value - lowest) / span, 1)

    steps = []
    for i, (label, detail, start, end, kind) in enumerate(rows):
        left, right = sorted((x(start), x(end)))
        steps.append(
            Step(
                label=label,
                detail=detail,
                start=start,
                end=end,
                kind=kind,
                y=TOP + i * ROW_HEIGHT,
                x=left,
                width=max(round(right - left, 1), 1.0),
            )
        )
    axis_y = TOP + len(rows) * ROW_HEIGHT
    ticks = tuple((x(v), f"{v:+.0f}" if v else "0") for v in _ticks(lowest, highest))
    return Waterfall(
        steps=steps,
        width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        height=axis_y + AXIS_HEIGHT,
        zero_x=x(0.0),
        axis_y=axis_y,
        ticks=ticks,
    )


def _ticks(lowest: float, highest: float) -> list[float]:
    """Round tick values across the axis, about five of them."""
    span = highest - lowest
    step = next((s for s in (1, 2, 5, 10, 20, 50, 100) if span / s <= 6), 200)
    first = int(lowest // step) * step
    return [v for v in range(first, int(highest) + step + 1, step) if lowest <= v <= highest]


# -- pages ------------------------------------------------------------------------------------


def _page_number(params: QueryDict) -> int:
    try:
        return max(1, int(params.get("page", "1")))
    except ValueError:
        return 1


def _pagination(request: HttpRequest, page: Page) -> dict:
    params = request.GET.copy()
    params.pop("page", None)

    def url(number: int) -> str:
        params["page"] = str(number)
        return f"?{params.urlencode()}"

    return {
        "page": page,
        "previous_url": url(page.page - 1) if page.has_previous else "",
        "next_url": url(page.page + 1) if page.has_next else "",
    }


@staff_view(roles=CASEWORK_ROLES)
def review_list(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    queue = selectors.review_queue(viewer=viewer, page=_page_number(request.GET))
    return render(
        request,
        "linkage/review_list.html",
        {"queue": queue, "pagination": _pagination(request, queue)},
    )


def _review_page(
    request: HttpRequest,
    viewer: Viewer,
    review_item_id: int,
    *,
    form: ReviewDecisionForm | None = None,
    status: int = 200,
    conflict: str = "",
) -> HttpResponse:
    detail = selectors.review_item_detail(viewer=viewer, review_item_id=review_item_id)
    form = form or ReviewDecisionForm()
    error_links = ([("", conflict)] if conflict else []) + form.error_links()
    context = {
        "detail": detail,
        "item": detail.item,
        "records": [detail.left, detail.right],
        "rows": [
            (label, (left, right))
            for (label, left), (_label, right) in zip(
                detail.left.values, detail.right.values, strict=True
            )
        ],
        "chart": waterfall(detail.prior_weight, detail.contributions, detail.match_weight),
        "form": form,
        "error_links": error_links,
        "undecided": detail.item.status in detail.item.UNDECIDED,
    }
    return render(request, "linkage/review_detail.html", context, status=status)


@staff_view(roles=CASEWORK_ROLES)
def review_detail(request: HttpRequest, viewer: Viewer, review_item_id: int) -> HttpResponse:
    return _review_page(request, viewer, review_item_id)


@staff_view(roles=CASEWORK_ROLES)
@require_POST
def review_decide(request: HttpRequest, viewer: Viewer, review_item_id: int) -> HttpResponse:
    form = ReviewDecisionForm(request.POST)
    if form.is_valid():
        decision = form.cleaned_data["decision"]
        try:
            outcome = services.review_decide(
                viewer=viewer, review_item_id=review_item_id, decision=decision
            )
        except Conflict as error:
            return _review_page(
                request, viewer, review_item_id, status=CONFLICT, conflict=str(error)
            )
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
        else:
            messages.success(request, _done_message(outcome))
            return redirect("linkage:review_list")
    return _review_page(request, viewer, review_item_id, form=form, status=UNPROCESSABLE)


def _done_message(outcome: services.ReviewOutcome) -> str:
    if outcome.decision == services.ReviewDecision.CONFIRM:
        if outcome.already_one_person:
            return _("Recorded: the same person. Their records were already together.")
        return _("Recorded: the same person. Their records are now together.")
    if outcome.decision == services.ReviewDecision.REJECT:
        if outcome.separate_next_run:
            return _("Recorded: different people. The next linking run will separate them.")
        return _("Recorded: different people. They will be kept apart.")
    return _("Skipped. The pair stays in the queue for someone else.")


def _merge_undo_page(
    request: HttpRequest,
    viewer: Viewer,
    merge_id: int,
    *,
    form: MergeUndoForm | None = None,
    status: int = 200,
    conflict: str = "",
) -> HttpResponse:
    undo = selectors.merge_undo_plan(viewer=viewer, merge_id=merge_id)
    form = form or MergeUndoForm(undo=undo)
    context = {
        "undo": undo,
        "form": form,
        "item_fields": [form[name] for name, _key in form.item_fields],
        "others": sum(1 for line in undo.attached if not line.own),
        "error_links": ([("", conflict)] if conflict else []) + form.error_links(),
    }
    return render(request, "linkage/merge_undo.html", context, status=status)


@staff_view(roles=CASEWORK_ROLES)
def merge_undo(request: HttpRequest, viewer: Viewer, merge_id: int) -> HttpResponse:
    if request.method != "POST":
        return _merge_undo_page(request, viewer, merge_id)
    # Only to build the form: the service audits the undo, the page re-rendered audits its read.
    undo = selectors.merge_undo_plan(viewer=viewer, merge_id=merge_id, audit=False)
    form = MergeUndoForm(request.POST, undo=undo)
    settled = undo.merge.unmerged_at is not None or undo.blocked_by is not None
    if settled or form.is_valid():
        try:
            merge = person_unmerge(
                viewer=viewer,
                merge_id=merge_id,
                assignments={} if settled else form.assignments(),
                reason="" if settled else form.cleaned_data["reason"],
            )
        except Conflict as error:
            return _merge_undo_page(request, viewer, merge_id, status=CONFLICT, conflict=str(error))
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
        else:
            messages.success(
                request,
                _("Merge undone: %(kept)s and %(merged)s are two people again.")
                % {"kept": undo.kept, "merged": undo.merged},
            )
            return redirect(reverse("staff:person_detail", args=[merge.kept_person_id]))
    return _merge_undo_page(request, viewer, merge_id, form=form, status=UNPROCESSABLE)
