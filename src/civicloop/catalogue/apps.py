from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "civicloop.catalogue"
    label = "catalogue"
