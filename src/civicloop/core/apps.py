from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "civicloop.core"
    label = "core"
    verbose_name = "Core"
