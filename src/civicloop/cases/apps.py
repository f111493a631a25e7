from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "civicloop.cases"
    label = "cases"
