from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "civicloop.linkage"
    label = "linkage"
