from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from yipanqi.core import views as core_views

admin.site.site_header = gettext_lazy("yipanqi · platform administration")
admin.site.site_title = gettext_lazy("yipanqi")

api_v1 = [
    path("evidence/", include("yipanqi.evidence.api.urls")),  # first: proofs are its busiest requests
    path("", include("yipanqi.directory.api.urls")),
    path("", include("yipanqi.core.api.urls")),
    path("", include("yipanqi.ledger.api.urls")),
    path("", include("yipanqi.meetings.api.urls")),
    path("", include("yipanqi.assistance.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("yipanqi.core.urls")),
    path("directory/", include("yipanqi.directory.urls")),
    path("ledger/", include("yipanqi.ledger.urls")),
    path("meetings/", include("yipanqi.meetings.urls")),
    path("assistance/", include("yipanqi.assistance.urls")),
    path("intake/", include("yipanqi.intake.urls")),
    path("evidence/", include("yipanqi.evidence.urls")),
]

handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error
