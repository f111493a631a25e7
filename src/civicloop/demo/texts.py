"""Free-text templates for the demo: case notes, contact summaries, descriptions.

Demo data, written in the agency's language (English); not marked for translation.
"""

from __future__ import annotations

import random

ROOMS = ("kitchen", "bathroom", "bedroom", "living room", "hallway", "back bedroom")
FAULTS = (
    "tap is leaking",
    "window will not shut",
    "ceiling has a crack",
    "radiator is cold",
    "floor is rotten by the door",
    "extractor fan is broken",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def fill(rng: random.Random, template: str, *, street: str) -> str:
    return template.format(
        room=rng.choice(ROOMS),
        fault=rng.choice(FAULTS),
        weekday=rng.choice(WEEKDAYS),
        weeks=rng.randint(2, 10),
        days=rng.randint(2, 9),
        n=rng.randint(1, 120),
        age=rng.randint(1, 4),
        street=street,
    )


OPENING_VERB = {
    "phone": "Called to",
    "in_person": "Came to the office to",
    "email": "Emailed to",
    "letter": "Wrote to",
    "web": "Used the web form to",
    "sms": "Texted to",
    "open311": "Used the app to",
}

CHASING = (
    "Called to ask about progress.",
    "Asked when someone will be in touch.",
    "Chasing: still waiting for an update.",
    "Rang again, nobody has called back.",
    "Asked why this is taking so long.",
    "Wanted to know if the case had been looked at.",
    "Chased the reply promised last week.",
    "Upset that the problem is still not sorted.",
)

GENERAL_INBOUND = (
    "Asked about opening hours.",
    "Asked how to apply for {service}.",
    "Updated contact details.",
    "Asked what documents to bring.",
    "Asked for a copy of a letter.",
    "Wanted to know who to speak to about {service}.",
    "Asked whether they qualify for {service}.",
    "Complained about being passed between departments.",
)

GENERAL_OUTBOUND = (
    "Reminder of an appointment.",
    "Called to check how things are going.",
    "Sent information about {service}.",
    "Letter about a change to the service.",
    "Returned a missed call.",
)

WAITING_ASK = (
    "Asked the citizen for proof of income.",
    "Asked for photos of the problem.",
    "Asked for a copy of the tenancy agreement.",
    "Asked the citizen to confirm a convenient time for a visit.",
    "Asked for the GP's details.",
    "Asked for proof of address.",
)

WAITING_REPLY = (
    "Sent the documents we asked for.",
    "Replied with the information requested.",
    "Brought the paperwork to the office.",
    "Confirmed a time for the visit.",
)

CASE_NOTES = (
    "Visit booked.",
    "Spoke to the citizen, agreed next steps.",
    "Passed to the specialist team for advice.",
    "Contractor instructed.",
    "Checked records; no earlier case found.",
    "Left a voicemail.",
    "Discussed at team meeting.",
    "Waiting for a partner organisation to reply.",
)

RESOLUTIONS = (
    "Resolved: work completed.",
    "Resolved: support in place.",
    "Resolved: application approved.",
    "Resolved: advice given and accepted.",
    "Resolved: referred on and accepted.",
)

STREET_RESOLUTIONS = (
    "Repaired.",
    "Cleared by the street cleaning team.",
    "Lamp replaced.",
    "Removed.",
    "Inspected: made safe, permanent repair scheduled.",
)

DUPLICATE_CLOSES = (
    "Closed: duplicate of an earlier report.",
    "Closed: not a council matter, citizen told who to contact.",
    "Closed: could not find the problem at the location given.",
)

REOPEN_NOTES = (
    "Reopened: the citizen says the problem is back.",
    "Reopened: the work was not finished.",
    "Reopened: the support did not start as agreed.",
)

RESOLVED_TELL = (
    "Told the citizen the case is resolved.",
    "Sent a letter confirming the outcome.",
    "Texted to say the work is done.",
)

CLOSE_NOTES = ("Closed after no further contact.", "Closed: outcome confirmed.")

ACCESSIBILITY = (
    "Large print letters",
    "British Sign Language interpreter",
    "Wheelchair user: step-free access",
    "Prefers phone calls to letters",
    "Easy read format",
    "Hearing loop at appointments",
)
