from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "yipanqi.assistance"
    label = "assistance"
    verbose_name = _("Assistance requests")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the daily job that keeps the deadline sweep running)
