from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from accounts.lockout import answer_when_locked
from config import audit_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("retailers/", include("retailers.urls")),
    path("settlement/", include("settlement.urls")),
    path("allocation/", include("allocation.urls")),
    path("visits/", include("visits.urls")),
    path("api/v1/", include("config.api.urls")),
    # The admin's login answers a lockout with the same 429 page as ours (accounts/lockout.py).
    path("admin/login/", answer_when_locked(admin.site.login)),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
