from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "civicloop.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from civicloop.notify.subscribers import subscribe_all

        subscribe_all()
