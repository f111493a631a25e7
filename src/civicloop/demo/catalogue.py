"""The demo city's catalogue: departments, partners, the need taxonomy, services.

Plain data, no Django. Service codes are Open311 service_codes. Descriptions are
data (an agency writes its own), so they are not marked for translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    code: str
    name: str
    description: str
    record_prefix: str  # how the department numbers its own records of people
    email: str
    phone: str


@dataclass(frozen=True, slots=True)
class PartnerRow:
    code: str
    name: str
    description: str
    departments: tuple[str, ...]
    email: str
    phone: str
    website: str


@dataclass(frozen=True, slots=True)
class NeedRow:
    code: str
    name: str
    description: str
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceRow:
    code: str
    name: str
    department: str
    group: str
    keywords: str
    sla_days: int
    needs: tuple[str, ...]
    description: str
    templates: tuple[str, ...]
    place_based: bool = False
    sensitive: bool = False
    public: bool = True
    urgent_share: float = 0.03  # share of cases opened urgent
    channels: tuple[tuple[str, float], ...] = field(
        default=(
            ("phone", 0.38),
            ("in_person", 0.17),
            ("web", 0.22),
            ("email", 0.15),
            ("letter", 0.04),
            ("sms", 0.04),
        )
    )


def _dept(code: str, name: str, prefix: str, phone: str, description: str) -> DepartmentRow:
    return DepartmentRow(code, name, description, prefix, f"{code}@riverton.example.org", phone)


DEPARTMENTS: tuple[DepartmentRow, ...] = (
    _dept(
        "housing",
        "Housing",
        "HSG",
        "01632 960100",
        "Council homes and repairs, the housing register, homelessness and housing benefit.",
    ),
    _dept(
        "health",
        "Health",
        "HLT",
        "01632 960200",
        "Community health: mental health, drug and alcohol services, community nursing, health visiting, environmental health.",
    ),
    _dept(
        "social-care",
        "Social Services",
        "SOC",
        "01632 960300",
        "Adult social care, carers, child protection, domestic abuse support and emergency help.",
    ),
    _dept(
        "employment",
        "Employment and Skills",
        "EMP",
        "01632 960400",
        "Help into work, training, income and debt advice.",
    ),
    _dept(
        "childcare",
        "Childcare and Early Years",
        "CHC",
        "01632 960500",
        "Childcare places, funded hours, help with costs and special educational needs.",
    ),
    _dept(
        "transport",
        "Transport",
        "TRN",
        "01632 960600",
        "Bus passes, blue badges, parking permits and community transport.",
    ),
    _dept(
        "streets",
        "Streets and Public Works",
        "STR",
        "01632 960700",
        "Roads, street lights, cleaning, graffiti and waste collection.",
    ),
)

PARTNERS: tuple[PartnerRow, ...] = (
    PartnerRow(
        "riverton-food-bank",
        "Riverton Food Bank",
        "Emergency food parcels and fuel vouchers.",
        ("social-care", "employment"),
        "help@foodbank.riverton.example.org",
        "01632 960811",
        "https://foodbank.riverton.example.org",
    ),
    PartnerRow(
        "citizens-advice-riverton",
        "Citizens Advice Riverton",
        "Free advice on debt, benefits, housing and work.",
        ("employment", "housing"),
        "advice@ca.riverton.example.org",
        "01632 960822",
        "https://ca.riverton.example.org",
    ),
    PartnerRow(
        "safe-haven",
        "Safe Haven Domestic Abuse Service",
        "Refuge, outreach and advocacy for people facing domestic abuse.",
        ("social-care", "health"),
        "referrals@safehaven.example.org",
        "01632 960833",
        "https://safehaven.example.org",
    ),
    PartnerRow(
        "riverton-community-transport",
        "Riverton Community Transport",
        "Door-to-door minibus for people who cannot use buses.",
        ("transport", "social-care"),
        "bookings@rct.example.org",
        "01632 960844",
        "https://rct.example.org",
    ),
)

NEEDS: tuple[NeedRow, ...] = (
    NeedRow("housing", "Housing", "A safe, secure and affordable home."),
    NeedRow("homelessness", "Homelessness", "Homeless or at risk of losing a home.", "housing"),
    NeedRow(
        "housing-conditions",
        "Housing conditions",
        "Repairs, damp, mould or overcrowding.",
        "housing",
    ),
    NeedRow("income", "Income", "Enough money to live on."),
    NeedRow("debt", "Debt", "Problem debt or arrears.", "income"),
    NeedRow("employment", "Employment", "Finding or keeping work."),
    NeedRow(
        "skills", "Skills and training", "Qualifications, English and digital skills.", "employment"
    ),
    NeedRow("childcare", "Childcare", "Childcare that a family can use and afford."),
    NeedRow("transport", "Transport", "Getting to work, school, appointments and shops."),
    NeedRow("mobility", "Mobility", "Moving about with a disability or frailty.", "transport"),
    NeedRow("health", "Health", "Physical health and access to care."),
    NeedRow("mental-health", "Mental health", "Emotional wellbeing and mental illness.", "health"),
    NeedRow("substance-use", "Drugs and alcohol", "Problems with drugs or alcohol.", "health"),
    NeedRow("safety", "Safety", "Being safe at home and in the community."),
    NeedRow("domestic-abuse", "Domestic abuse", "Abuse by a partner or family member.", "safety"),
    NeedRow("child-protection", "Child protection", "A child at risk of harm.", "safety"),
    NeedRow("food", "Food", "Enough food."),
    NeedRow("social-isolation", "Social isolation", "Loneliness and lack of contact."),
    NeedRow("care", "Care and support", "Help with daily living, and support for carers."),
)

_STREET_CHANNELS = (("web", 0.33), ("open311", 0.27), ("phone", 0.3), ("email", 0.1))
_SENSITIVE_CHANNELS = (("phone", 0.55), ("in_person", 0.35), ("email", 0.05), ("letter", 0.05))

SERVICES: tuple[ServiceRow, ...] = (
    # Housing
    ServiceRow(
        "HSG-REPAIR",
        "Council home repair",
        "housing",
        "Housing",
        "repair, leak, boiler, heating, window, door",
        20,
        ("housing-conditions",),
        "Report a repair in a council home.",
        (
            "The {room} {fault} and needs fixing.",
            "Boiler broken since {weekday}, no heating or hot water.",
            "Front door lock is broken and the door will not close properly.",
            "Water coming through the ceiling of the {room}.",
        ),
    ),
    ServiceRow(
        "HSG-DAMP",
        "Damp and mould",
        "housing",
        "Housing",
        "damp, mould, condensation, black mould",
        14,
        ("housing-conditions", "health"),
        "Report damp or mould in a rented home.",
        (
            "Black mould on the {room} walls; the children keep coughing.",
            "Damp patch spreading across the {room} ceiling for {weeks} weeks.",
            "Condensation and mould around every window, clothes going mouldy.",
        ),
    ),
    ServiceRow(
        "HSG-HOMELESS",
        "Homelessness advice",
        "housing",
        "Housing",
        "homeless, eviction, notice, sofa surfing",
        2,
        ("homelessness", "housing"),
        "Help if you are homeless or may lose your home.",
        (
            "Landlord has given notice to leave in {weeks} weeks; nowhere to go.",
            "Staying with friends after relationship ended, sleeping on the sofa.",
            "Served an eviction notice over rent arrears.",
            "Family asked me to leave, need somewhere to stay tonight.",
        ),
        urgent_share=0.35,
    ),
    ServiceRow(
        "HSG-REGISTER",
        "Housing register application",
        "housing",
        "Housing",
        "council house, waiting list, transfer, overcrowding",
        28,
        ("housing",),
        "Apply to join the housing register or ask for a transfer.",
        (
            "Family of {n} in a two-bedroom flat, applying for a bigger home.",
            "Applying to join the housing register.",
            "Asking for a transfer to a ground floor flat because of my mobility.",
        ),
    ),
    ServiceRow(
        "HSG-BENEFIT",
        "Housing benefit claim",
        "housing",
        "Housing",
        "housing benefit, rent, council tax reduction",
        21,
        ("income", "housing"),
        "Claim help with rent.",
        (
            "New claim for housing benefit after losing my job.",
            "Change of circumstances: partner moved out.",
            "Rent has gone up, asking for my housing benefit to be reviewed.",
        ),
    ),
    # Health (sensitive but for environmental health)
    ServiceRow(
        "HLT-MENTAL",
        "Mental health support",
        "health",
        "Health",
        "anxiety, depression, counselling, crisis",
        14,
        ("mental-health", "health"),
        "Talking therapies and community mental health support.",
        (
            "Self-referral for counselling: low mood for several months.",
            "GP referral for anxiety support.",
            "Asking for help after a crisis last {weekday}.",
        ),
        sensitive=True,
        public=False,
        urgent_share=0.08,
        channels=_SENSITIVE_CHANNELS,
    ),
    ServiceRow(
        "HLT-SUBSTANCE",
        "Drug and alcohol service",
        "health",
        "Health",
        "alcohol, drugs, addiction, recovery",
        10,
        ("substance-use", "health"),
        "Confidential help with drugs and alcohol.",
        (
            "Wants help to cut down drinking.",
            "Referral to the recovery service.",
            "Family member worried about drug use, client agreed to be referred.",
        ),
        sensitive=True,
        public=False,
        channels=_SENSITIVE_CHANNELS,
    ),
    ServiceRow(
        "HLT-NURSING",
        "Community nursing",
        "health",
        "Health",
        "district nurse, wound care, home visit",
        7,
        ("health", "care"),
        "Nursing care at home.",
        (
            "Home visits for wound dressing after discharge from hospital.",
            "Needs help managing medication at home.",
            "Leg ulcer care, housebound.",
        ),
        sensitive=True,
        public=False,
        channels=_SENSITIVE_CHANNELS,
    ),
    ServiceRow(
        "HLT-VISITING",
        "Health visiting",
        "health",
        "Health",
        "health visitor, baby, new parent, development check",
        14,
        ("health", "childcare"),
        "Health visitors for families with young children.",
        (
            "New birth visit.",
            "Two-year development review.",
            "Feeding problems, parent asking for support.",
        ),
        sensitive=True,
        public=False,
        channels=_SENSITIVE_CHANNELS,
    ),
    ServiceRow(
        "HLT-FOOD-HYGIENE",
        "Food hygiene complaint",
        "health",
        "Environmental health",
        "food, hygiene, restaurant, takeaway, pests",
        10,
        (),
        "Report a food business or pests.",
        (
            "Mice seen in the kitchen of a takeaway on {street}.",
            "Food poisoning after eating at a cafe on {street}.",
            "Rubbish attracting rats behind the shops on {street}.",
        ),
        place_based=True,
        channels=_STREET_CHANNELS,
    ),
    # Social services
    ServiceRow(
        "SOC-ASSESS",
        "Adult social care assessment",
        "social-care",
        "Social care",
        "care, assessment, carer, home care, frail",
        28,
        ("care",),
        "An assessment of care and support needs.",
        (
            "Struggling to wash and dress since a fall.",
            "Daughter asking for a care assessment for her mother.",
            "Needs help at home after hospital discharge.",
        ),
    ),
    ServiceRow(
        "SOC-CARER",
        "Carer support",
        "social-care",
        "Social care",
        "carer, respite, young carer",
        28,
        ("care", "social-isolation"),
        "Support for unpaid carers.",
        (
            "Caring for partner full time, asking about respite.",
            "Young carer looking after a parent.",
        ),
    ),
    ServiceRow(
        "SOC-CHILD-PROTECT",
        "Child protection",
        "social-care",
        "Children's services",
        "safeguarding, child at risk, neglect",
        1,
        ("child-protection", "safety"),
        "Concerns that a child is being harmed.",
        (
            "School raised a safeguarding concern.",
            "Neighbour worried about a child left alone.",
            "Health visitor referral: concerns about neglect.",
        ),
        sensitive=True,
        public=False,
        urgent_share=0.6,
        channels=_SENSITIVE_CHANNELS,
    ),
    ServiceRow(
        "SOC-DOMESTIC-ABUSE",
        "Domestic abuse support",
        "social-care",
        "Safety",
        "domestic abuse, violence, refuge, controlling",
        1,
        ("domestic-abuse", "safety"),
        "Confidential support, safety planning and refuge.",
        (
            "Disclosed abuse by a former partner; needs a safety plan.",
            "Police referral after an incident at home.",
            "Asking about a refuge place for herself and the children.",
        ),
        sensitive=True,
        public=False,
        urgent_share=0.5,
        channels=_SENSITIVE_CHANNELS,
    ),
    ServiceRow(
        "SOC-FOOD",
        "Emergency food and fuel",
        "social-care",
        "Emergency help",
        "food bank, hungry, fuel, electricity, gas",
        2,
        ("food", "income"),
        "Emergency food parcels and fuel top-ups.",
        (
            "No money for food until payday in {days} days.",
            "Electricity meter has run out, children at home.",
            "Benefits delayed, asking for a food parcel.",
        ),
    ),
    ServiceRow(
        "SOC-BEFRIEND",
        "Befriending",
        "social-care",
        "Community",
        "lonely, befriending, isolation, company",
        21,
        ("social-isolation",),
        "A volunteer who visits or calls every week.",
        (
            "Lives alone and has not been out for weeks.",
            "Widowed last year, would like someone to talk to.",
        ),
    ),
    # Employment and skills
    ServiceRow(
        "EMP-JOBS",
        "Job search support",
        "employment",
        "Work",
        "job, work, CV, interview, unemployed",
        10,
        ("employment",),
        "One-to-one help to find work.",
        (
            "Made redundant, looking for warehouse work.",
            "Needs help writing a CV.",
            "Returning to work after caring for children.",
        ),
    ),
    ServiceRow(
        "EMP-SKILLS",
        "Skills and training",
        "employment",
        "Work",
        "course, training, English, ESOL, digital skills",
        30,
        ("skills", "employment"),
        "Courses in English, maths and digital skills.",
        (
            "Wants to join an English course.",
            "Asking about a forklift licence course.",
            "Basic computer skills course.",
        ),
    ),
    ServiceRow(
        "EMP-INCOME",
        "Income and benefits advice",
        "employment",
        "Money",
        "benefits, universal credit, income, money",
        14,
        ("income",),
        "Check you get every benefit and grant you are due.",
        (
            "Hours cut at work, asking what help is available.",
            "Benefit check after partner's death.",
            "Universal Credit sanction, asking for advice.",
        ),
    ),
    ServiceRow(
        "EMP-DEBT",
        "Debt advice",
        "employment",
        "Money",
        "debt, arrears, bailiffs, council tax",
        21,
        ("debt", "income"),
        "Free, confidential debt advice.",
        (
            "Council tax arrears and a letter from bailiffs.",
            "Owes money on three credit cards.",
            "Rent and energy arrears building up.",
        ),
    ),
    # Childcare and early years
    ServiceRow(
        "CHC-PLACE",
        "Childcare place",
        "childcare",
        "Childcare",
        "nursery, childminder, funded hours",
        28,
        ("childcare",),
        "Find a nursery or childminder place and funded hours.",
        (
            "Looking for a nursery place for a {age}-year-old.",
            "Starting work next month, needs a childminder.",
            "Asking about funded hours for a two-year-old.",
        ),
    ),
    ServiceRow(
        "CHC-FUNDING",
        "Help with childcare costs",
        "childcare",
        "Childcare",
        "childcare costs, grant, tax-free childcare",
        21,
        ("childcare", "income"),
        "Grants and help with childcare costs.",
        (
            "Cannot afford nursery fees after returning to work.",
            "Applying for help with childcare costs while training.",
        ),
    ),
    ServiceRow(
        "CHC-SEN",
        "Special educational needs support",
        "childcare",
        "Early years",
        "SEN, SEND, autism, speech, EHCP",
        42,
        ("childcare", "health"),
        "Support for children with special educational needs.",
        (
            "Nursery thinks our son may be autistic, asking for an assessment.",
            "Speech and language delay.",
            "Asking for an education, health and care plan.",
        ),
    ),
    # Transport
    ServiceRow(
        "TRN-BUSPASS",
        "Concessionary bus pass",
        "transport",
        "Travel",
        "bus pass, older person, disabled",
        10,
        ("transport",),
        "Free bus travel for older and disabled residents.",
        (
            "Applying for an older person's bus pass.",
            "Bus pass lost, needs a replacement.",
            "Renewal of a disabled person's bus pass.",
        ),
    ),
    ServiceRow(
        "TRN-BLUEBADGE",
        "Blue badge",
        "transport",
        "Travel",
        "blue badge, disabled parking",
        42,
        ("mobility", "transport"),
        "Parking for people with mobility problems.",
        ("Applying for a blue badge after a stroke.", "Blue badge renewal."),
    ),
    ServiceRow(
        "TRN-PERMIT",
        "Residents' parking permit",
        "transport",
        "Parking",
        "parking permit, resident, visitor permit",
        5,
        (),
        "Parking permits for residents and their visitors.",
        ("New resident's permit for {street}.", "Visitor permits for a carer."),
    ),
    ServiceRow(
        "TRN-COMMUNITY",
        "Community transport booking",
        "transport",
        "Travel",
        "dial-a-ride, minibus, hospital transport",
        3,
        ("mobility", "transport", "social-isolation"),
        "Door-to-door transport for people who cannot use buses.",
        (
            "Needs transport to hospital appointments every week.",
            "Booking the minibus to the day centre.",
        ),
    ),
    # Streets and public works (place-based)
    ServiceRow(
        "STR-POTHOLE",
        "Pothole",
        "streets",
        "Roads",
        "pothole, road, hole, tarmac, cycling",
        5,
        (),
        "Report a pothole in a road or pavement.",
        (
            "Deep pothole outside number {n} on {street}.",
            "Pothole near the junction with {street}, cars swerving.",
            "Large hole in the cycle lane on {street}.",
            "Broken paving slab, someone tripped.",
        ),
        place_based=True,
        channels=_STREET_CHANNELS,
    ),
    ServiceRow(
        "STR-STREETLIGHT",
        "Street light fault",
        "streets",
        "Lighting",
        "street light, lamp, dark, flickering",
        7,
        (),
        "Report a street light that is out or flickering.",
        (
            "Street light out on {street}, very dark at night.",
            "Lamp post flickering on and off outside number {n}.",
            "Three lights out along the path by {street}.",
        ),
        place_based=True,
        channels=_STREET_CHANNELS,
    ),
    ServiceRow(
        "STR-FLYTIP",
        "Fly-tipping",
        "streets",
        "Cleaning",
        "fly-tipping, dumped, rubbish, mattress",
        3,
        (),
        "Report rubbish dumped in the street.",
        (
            "Mattress and bin bags dumped on {street}.",
            "Builder's rubble left in the alley behind {street}.",
            "Fridge dumped on the pavement for {days} days.",
        ),
        place_based=True,
        channels=_STREET_CHANNELS,
    ),
    ServiceRow(
        "STR-GRAFFITI",
        "Graffiti",
        "streets",
        "Cleaning",
        "graffiti, tag, vandalism, offensive",
        10,
        (),
        "Report graffiti; offensive graffiti is removed within a day.",
        (
            "Graffiti on the bus shelter on {street}.",
            "Offensive graffiti on the wall of the park on {street}.",
            "Tags all over the underpass near {street}.",
        ),
        place_based=True,
        channels=_STREET_CHANNELS,
    ),
    ServiceRow(
        "STR-BINS",
        "Missed bin collection",
        "streets",
        "Waste",
        "bin, recycling, collection, missed",
        2,
        (),
        "Report a missed bin or recycling collection.",
        (
            "Recycling not collected on {street} this week.",
            "Bins missed again at number {n}.",
            "Garden waste bin not emptied.",
        ),
        place_based=True,
        channels=_STREET_CHANNELS,
    ),
)

SERVICES_BY_CODE = {s.code: s for s in SERVICES}
DEPARTMENTS_BY_CODE = {d.code: d for d in DEPARTMENTS}
STREET_SERVICES = tuple(s for s in SERVICES if s.department == "streets")

# Which services meet a need, and how often each is chosen; the first service's
# department records the need.
NEED_SERVICES: dict[str, tuple[tuple[str, float], ...]] = {
    "housing": (("HSG-REGISTER", 0.6), ("HSG-BENEFIT", 0.4)),
    "homelessness": (("HSG-HOMELESS", 1.0),),
    "housing-conditions": (("HSG-REPAIR", 0.55), ("HSG-DAMP", 0.45)),
    "income": (("EMP-INCOME", 0.55), ("HSG-BENEFIT", 0.25), ("EMP-DEBT", 0.2)),
    "debt": (("EMP-DEBT", 1.0),),
    "employment": (("EMP-JOBS", 0.75), ("EMP-SKILLS", 0.25)),
    "skills": (("EMP-SKILLS", 1.0),),
    "childcare": (("CHC-PLACE", 0.6), ("CHC-FUNDING", 0.4)),
    "transport": (("TRN-BUSPASS", 0.7), ("TRN-COMMUNITY", 0.3)),
    "mobility": (("TRN-BLUEBADGE", 0.65), ("TRN-COMMUNITY", 0.35)),
    "health": (("HLT-NURSING", 0.6), ("HLT-MENTAL", 0.4)),
    "mental-health": (("HLT-MENTAL", 1.0),),
    "substance-use": (("HLT-SUBSTANCE", 1.0),),
    "domestic-abuse": (("SOC-DOMESTIC-ABUSE", 1.0),),
    "child-protection": (("SOC-CHILD-PROTECT", 1.0),),
    "food": (("SOC-FOOD", 1.0),),
    "social-isolation": (("SOC-BEFRIEND", 0.7), ("TRN-COMMUNITY", 0.3)),
    "care": (("SOC-ASSESS", 0.6), ("HLT-NURSING", 0.25), ("SOC-CARER", 0.15)),
}

# The department that usually meets each top-level need.
NEED_DEPARTMENT: dict[str, str] = {
    "housing": "housing",
    "homelessness": "housing",
    "housing-conditions": "housing",
    "income": "employment",
    "debt": "employment",
    "employment": "employment",
    "skills": "employment",
    "childcare": "childcare",
    "transport": "transport",
    "mobility": "transport",
    "health": "health",
    "mental-health": "health",
    "substance-use": "health",
    "safety": "social-care",
    "domestic-abuse": "social-care",
    "child-protection": "social-care",
    "food": "social-care",
    "social-isolation": "social-care",
    "care": "social-care",
}

# The default case workflow (new -> in_progress <-> waiting_on_citizen -> resolved -> closed;
# a resolved case can be reopened; a new one can be closed straight away as a duplicate).
DEFAULT_STATUSES = ("new", "in_progress", "waiting_on_citizen", "resolved", "closed")
DEFAULT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("in_progress", "closed"),
    "in_progress": ("waiting_on_citizen", "resolved"),
    "waiting_on_citizen": ("in_progress",),
    "resolved": ("closed", "in_progress"),
    "closed": (),
}
