from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "civicloop.staff"
    label = "staff"
