"""The service catalogue for the staff API: departments, services and needs.
Any active staff member may read it: it holds no personal data."""

from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema

from civicloop.cases.workflow import status_label, workflow_for
from civicloop.catalogue.selectors import department_list, need_list, service_list

router = Router(tags=["catalogue"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class DepartmentRef(Schema):
    id: int
    code: str
    name: str


class DepartmentOut(DepartmentRef):
    description: str
    email: str
    phone: str


class NeedRef(Schema):
    id: int
    code: str
    name: str


class NeedOut(NeedRef):
    description: str
    parent_id: int | None


class StatusOption(Schema):
    status: str
    label: str


class WorkflowOut(Schema):
    initial: str
    statuses: list[StatusOption]
    transitions: dict[str, list[str]]


class ServiceRef(Schema):
    id: int
    code: str
    name: str


class ServiceOut(ServiceRef):
    description: str
    department: DepartmentRef
    group: str
    kind: str
    place_based: bool
    public: bool
    sensitive: bool
    sla_days: int | None
    need_ids: list[int]
    workflow: WorkflowOut

    @staticmethod
    def resolve_need_ids(service) -> list[int]:
        return sorted(n.id for n in service.needs.all())

    @staticmethod
    def resolve_workflow(service) -> dict:
        workflow = workflow_for(service)
        return {
            "initial": workflow.initial,
            "statuses": [{"status": s, "label": status_label(s)} for s in workflow.statuses],
            "transitions": {s: list(t) for s, t in workflow.transitions.items()},
        }


@router.get("/departments", response=list[DepartmentOut], summary="List departments")
def department_index(request: HttpRequest):
    return department_list()


@router.get(
    "/services",
    response=list[ServiceOut],
    summary="List active services, optionally of one department",
)
def service_index(request: HttpRequest, department_id: Id | None = None):
    return service_list(department_id=department_id).prefetch_related("needs")


@router.get("/needs", response=list[NeedOut], summary="List the needs taxonomy")
def need_index(request: HttpRequest):
    return need_list()
