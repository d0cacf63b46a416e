from django.contrib import admin

from catalog.models import Brand


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "manufacturer",
        "price_class",
        "wholesale_price",
        "list_price",
        "is_key",
        "is_low_tar",
        "is_new",
        "is_scarce",
        "is_active",
    )
    list_filter = ("price_class", "is_key", "is_low_tar", "is_new", "is_scarce", "is_active")
    search_fields = ("code", "name", "manufacturer")
