from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "civicloop.people"
    label = "people"
