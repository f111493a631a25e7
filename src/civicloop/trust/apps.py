from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "civicloop.trust"
    label = "trust"
