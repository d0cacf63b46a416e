from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("Visits")

    def ready(self) -> None:
        from config import panels
        from visits.programs.views import retailer_panel

        panels.register("retailers:detail", "visits.programs", retailer_panel)
