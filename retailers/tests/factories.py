import datetime as dt

import factory

from retailers.models import (
    BusinessType,
    PaymentMethod,
    Retailer,
    RetailerStatus,
    StarChange,
    StatusChange,
)
from territory.tests.factories import RouteFactory


class RetailerFactory(factory.django.DjangoModelFactory):
    """A retailer with its first star and status recorded on ``opened_on``."""

    class Meta:
        model = Retailer
        django_get_or_create = ("licence_number",)
        skip_postgeneration_save = True

    licence_number = factory.Sequence(lambda n: f"9{n:011d}")
    name = factory.Sequence(lambda n: f"测试商店{n}")
    owner_name = "测试"
    route = factory.SubFactory(RouteFactory)
    stop_order = factory.Sequence(lambda n: n + 1)
    star = 3
    business_type = BusinessType.GROCERY
    status = RetailerStatus.ACTIVE
    payment_method = PaymentMethod.E_SETTLEMENT
    opened_on = dt.date(2020, 1, 1)

    @factory.post_generation
    def history(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        StarChange.objects.get_or_create(
            retailer=obj, effective_from=obj.opened_on, defaults={"star": obj.star}
        )
        StatusChange.objects.get_or_create(
            retailer=obj, effective_from=obj.opened_on, defaults={"status": obj.status}
        )
