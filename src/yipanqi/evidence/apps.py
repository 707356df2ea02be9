from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "yipanqi.evidence"
    label = "evidence"
    verbose_name = _("Evidence log")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the daily job that keeps the anchoring running)
