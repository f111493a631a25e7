"""CivicLoop: a citizen-centric CRM for governments."""

__version__ = "0.1.0"
