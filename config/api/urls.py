"""``/api/v1/``: each app's ``api.py`` brings its own ``urlpatterns``; one include line per app."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from config.api.exceptions import not_found

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # One line per app, in the apps' import order (DESIGN §3).
    path("", include("accounts.api")),
    path("", include("catalog.api")),
    path("", include("territory.api")),
    path("", include("retailers.api")),
    path("", include("settlement.api")),
    path("", include("allocation.api")),
    path("", include("visits.api")),
    # Last: any other path under /api/v1/, newlines included, is a JSON 404 (paths without
    # the final slash are first redirected to it by APPEND_SLASH).
    re_path(r"^[\s\S]*/$", not_found),
]
