from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "civicloop.intake"
    label = "intake"
    verbose_name = _("Intake")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from civicloop.catalogue.models import Service, ServiceAttribute
        from civicloop.core.events import subscribe
        from civicloop.intake.duplicates import duplicates_follow
        from civicloop.intake.selectors import forget_workflows
        from civicloop.intake.services import forget_questions

        # Reports marked duplicates of a case follow its status, whoever changed it.
        subscribe("case.status_changed", duplicates_follow)
        # Workflows and questions intake keeps between requests, forgotten as soon as this
        # process changes a service or a question.
        for signal in (post_save, post_delete):
            signal.connect(forget_workflows, sender=Service, dispatch_uid="intake-workflows")
            signal.connect(forget_questions, sender=Service, dispatch_uid="intake-questions")
            signal.connect(
                forget_questions, sender=ServiceAttribute, dispatch_uid="intake-questions-own"
            )
