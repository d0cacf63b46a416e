"""The source document's service policy per star (DESIGN §2.1), so a new site plans visits.

Frozen copy of ``visits.rules.DEFAULT_POLICIES`` as of this migration.
"""

from django.db import migrations

DEFAULTS = {
    5: (2, 1, 20, ["promote_brands", "training"], True),
    4: (1, 1, 10, ["law", "inventory", "substitutes"], True),
    3: (1, 1, 10, ["law", "inventory", "substitutes"], False),
    2: (1, 2, 5, ["counter", "sales"], False),
    1: (1, 2, 5, ["counter", "sales"], False),
    0: (1, 1, 10, ["law", "counter", "sales", "training"], False),
}


def create_defaults(apps, schema_editor):
    ServicePolicy = apps.get_model("visits", "ServicePolicy")
    for star, (visits, period, stay, activities, emergency) in DEFAULTS.items():
        ServicePolicy.objects.get_or_create(
            star=star,
            defaults={
                "visits": visits,
                "period_cycles": period,
                "min_stay_minutes": stay,
                "activities": activities,
                "emergency_delivery": emergency,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
