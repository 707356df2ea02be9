from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "yipanqi.meetings"
    label = "meetings"
    verbose_name = _("Joint meetings")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the daily job)
