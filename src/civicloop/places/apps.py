from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "civicloop.places"
    label = "places"
