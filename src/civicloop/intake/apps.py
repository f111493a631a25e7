from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "civicloop.intake"
    label = "intake"
    verbose_name = _("Intake")

    def ready(self) -> None:
        from civicloop.core.events import subscribe
        from civicloop.intake.duplicates import duplicates_follow

        # Reports marked duplicates of a case follow its status, whoever changed it.
        subscribe("case.status_changed", duplicates_follow)
