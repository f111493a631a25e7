"""Riverton's Open311 set-up: the questions its place-based services ask, and a key for a
demo client application (printed once by `civicloop demo`)."""

from __future__ import annotations

from civicloop.catalogue.models import Service, ServiceAttribute
from civicloop.core.access import Viewer
from civicloop.intake.keys import open311_client_create
from civicloop.intake.models import Open311Client
from civicloop.trust.audit import audit_bulk

VIEWER = Viewer.system("demo")
DEMO_CLIENT_NAME = "Riverton demo app"


def _choices(*pairs: str) -> list[dict[str, str]]:
    return [{"key": key, "name": name} for key, name in (p.split("=", 1) for p in pairs)]


# service code -> attributes (code, datatype, required, description, extra fields)
ATTRIBUTES: dict[str, tuple[dict, ...]] = {
    "STR-POTHOLE": (
        {
            "code": "where",
            "datatype": "singlevaluelist",
            "required": True,
            "description": "Where is the pothole?",
            "values": _choices(
                "road=In the road", "pavement=On the pavement", "cycle=In a cycle lane"
            ),
        },
        {
            "code": "size",
            "datatype": "singlevaluelist",
            "required": False,
            "description": "About how big is it?",
            "values": _choices(
                "small=Smaller than a dinner plate",
                "medium=About a dustbin lid",
                "large=Larger than a dustbin lid",
            ),
        },
        {
            "code": "depth_cm",
            "datatype": "number",
            "required": False,
            "description": "About how deep is it, in centimetres?",
            "datatype_description": "A number, e.g. 5",
        },
    ),
    "STR-STREETLIGHT": (
        {
            "code": "column_number",
            "datatype": "string",
            "required": False,
            "description": "The number on the lamp post, if you can see one",
            "datatype_description": "Usually on a small plate about head height",
        },
        {
            "code": "fault",
            "datatype": "singlevaluelist",
            "required": True,
            "description": "What is wrong with the light?",
            "values": _choices(
                "out=It is not working",
                "flicker=It flickers",
                "day=It is on during the day",
                "damaged=The lamp post is damaged",
            ),
        },
    ),
    "STR-FLYTIP": (
        {
            "code": "safety",
            "variable": False,
            "datatype": "text",
            "required": False,
            "description": "Do not touch anything that may be dangerous, such as needles, "
            "asbestos or chemicals.",
        },
        {
            "code": "items",
            "datatype": "multivaluelist",
            "required": True,
            "description": "What has been dumped?",
            "values": _choices(
                "bags=Bags of household rubbish",
                "furniture=Furniture or a mattress",
                "appliance=A fridge, cooker or other appliance",
                "rubble=Building rubble",
                "tyres=Tyres",
                "hazard=Something that may be dangerous",
            ),
        },
        {
            "code": "amount",
            "datatype": "singlevaluelist",
            "required": False,
            "description": "How much is there?",
            "values": _choices(
                "single=A single item",
                "car=A car boot load",
                "van=A van load",
                "lorry=More than a van load",
            ),
        },
    ),
    "STR-GRAFFITI": (
        {
            "code": "offensive",
            "datatype": "singlevaluelist",
            "required": True,
            "description": "Is the graffiti offensive or racist?",
            "values": _choices("yes=Yes", "no=No"),
        },
        {
            "code": "surface",
            "datatype": "singlevaluelist",
            "required": False,
            "description": "What is it on?",
            "values": _choices(
                "wall=A wall or building",
                "shelter=A bus shelter",
                "sign=A road sign",
                "other=Something else",
            ),
        },
    ),
    "STR-BINS": (
        {
            "code": "bins",
            "datatype": "multivaluelist",
            "required": True,
            "description": "Which bins were missed?",
            "values": _choices(
                "general=General rubbish",
                "recycling=Recycling",
                "garden=Garden waste",
                "food=Food waste",
            ),
        },
        {
            "code": "due",
            "datatype": "datetime",
            "required": False,
            "description": "When should they have been collected?",
            "datatype_description": "A date, e.g. 2026-03-14",
        },
    ),
    "HLT-FOOD-HYGIENE": (
        {
            "code": "business",
            "datatype": "string",
            "required": True,
            "description": "The name of the food business",
        },
        {
            "code": "visited",
            "datatype": "datetime",
            "required": False,
            "description": "When did you visit or buy the food?",
            "datatype_description": "A date and time, e.g. 2026-03-14T19:30",
        },
    ),
}


def load_attributes() -> int:
    """Give the demo's place-based services their questions (idempotent); how many there are."""
    services = dict(Service.objects.filter(code__in=ATTRIBUTES).values_list("code", "id"))
    ids = []
    for code, attributes in ATTRIBUTES.items():
        if code not in services:
            continue
        for order, spec in enumerate(attributes, start=1):
            spec = dict(spec)
            attribute, _ = ServiceAttribute.objects.update_or_create(
                service_id=services[code],
                code=spec.pop("code"),
                defaults={"order": order, "variable": True, "values": [], **spec},
            )
            ids.append(attribute.id)
    if ids:
        audit_bulk(viewer=VIEWER, action="demo.load", object_type="service_attribute", ids=ids)
    return len(ids)


def demo_client_key() -> str:
    """A key for the demo client application, or "" if the demo already issued one (a key
    is shown once; `civicloop open311 create-key` issues another)."""
    if Open311Client.objects.filter(name=DEMO_CLIENT_NAME).exists():
        return ""
    _client, key = open311_client_create(viewer=VIEWER, name=DEMO_CLIENT_NAME)
    return key
