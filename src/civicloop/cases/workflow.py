"""Declarative case workflows: statuses and the transitions allowed between them.

A service may override the default with Service.workflow =
{"statuses": [...], "transitions": {status: [status, ...]}, "initial": status,
"paused": [...], "resolved": [...], "closed": [...]}.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

STATUS_LABELS = {
    "new": _("New"),
    "in_progress": _("In progress"),
    "waiting_on_citizen": _("Waiting on citizen"),
    "resolved": _("Resolved"),
    "closed": _("Closed"),
}

DEFAULT_WORKFLOW = {
    "initial": "new",
    "statuses": ["new", "in_progress", "waiting_on_citizen", "resolved", "closed"],
    "transitions": {
        "new": ["in_progress", "waiting_on_citizen", "resolved", "closed"],
        "in_progress": ["waiting_on_citizen", "resolved", "closed"],
        "waiting_on_citizen": ["in_progress", "resolved", "closed"],
        # Moving back from resolved or closed is a reopening.
        "resolved": ["closed", "in_progress"],
        "closed": ["in_progress"],
    },
    "paused": ["waiting_on_citizen"],
    "resolved": ["resolved"],
    "closed": ["closed"],
}


@dataclass(frozen=True)
class Workflow:
    initial: str
    statuses: tuple[str, ...]
    transitions: dict[str, tuple[str, ...]]
    paused: frozenset[str]
    resolved: frozenset[str]
    closed: frozenset[str]

    def allowed_from(self, status: str) -> tuple[str, ...]:
        return self.transitions.get(status, ())

    def can_move(self, from_status: str, to_status: str) -> bool:
        return to_status in self.allowed_from(from_status)

    def is_reopening(self, from_status: str, to_status: str) -> bool:
        done = self.resolved | self.closed
        return from_status in done and to_status not in done

    def is_open(self, status: str) -> bool:
        return status not in self.resolved | self.closed


def workflow_from_definition(definition: dict | None) -> Workflow:
    d = {**DEFAULT_WORKFLOW, **(definition or {})}
    statuses = tuple(d["statuses"])
    transitions = {s: tuple(t) for s, t in d["transitions"].items()}
    unknown = {t for ts in transitions.values() for t in ts} - set(statuses)
    if d["initial"] not in statuses or unknown:
        raise ValueError(f"workflow names unknown statuses: {sorted(unknown) or d['initial']}")
    return Workflow(
        initial=d["initial"],
        statuses=statuses,
        transitions=transitions,
        paused=frozenset(d.get("paused", ())),
        resolved=frozenset(d.get("resolved", ())),
        closed=frozenset(d.get("closed", ())),
    )


DEFAULT = workflow_from_definition(None)


def workflow_for(service) -> Workflow:
    return workflow_from_definition(service.workflow) if service.workflow else DEFAULT


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status.replace("_", " ").capitalize()))
