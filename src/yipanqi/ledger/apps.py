from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "yipanqi.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the daily jobs)
