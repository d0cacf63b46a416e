"""Read queries for territory, scoped to the user (DESIGN §3: visibility in one place)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from territory.models import Cycle, District, Route

NOTHING = Q(pk__in=[])


def route_scope(user: User, *, prefix: str = "") -> Q | None:
    """The routes a user may see, as a filter; ``None`` means every route.

    ``prefix`` is the path from the filtered model to its route (``"route__"`` for retailers).
    An account manager sees the routes assigned to them, a supervisor the routes of the
    districts they supervise, an administrator everything, anyone else nothing.
    """
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_administrator:
        return None
    if user.is_supervisor:
        return Q(**{f"{prefix}district__supervisor": user})
    if user.is_account_manager:
        return Q(**{f"{prefix}account_manager": user})
    return NOTHING


def visible_routes(user: User) -> QuerySet[Route]:
    routes = Route.objects.select_related("district", "account_manager")
    scope = route_scope(user)
    return routes if scope is None else routes.filter(scope)


def visible_districts(user: User) -> QuerySet[District]:
    districts = District.objects.select_related("branch", "supervisor")
    scope = route_scope(user)
    if scope is None:
        return districts
    return districts.filter(pk__in=Route.objects.filter(scope).values("district_id"))


def cycle_list() -> QuerySet[Cycle]:
    """Cycles are branch-wide calendar periods: every signed-in user may read them."""
    return Cycle.objects.all()


def cycle_for_day(day) -> Cycle | None:
    return Cycle.objects.filter(start_date__lte=day, end_date__gte=day).first()


def visible_account_managers(user: User) -> QuerySet[User]:
    """Account managers with a route the user may see: a supervisor's are those of their
    districts' routes, an administrator's all of them, an account manager only themselves."""
    managers = User.objects.filter(role="account_manager", is_superuser=False)
    scope = route_scope(user)
    if scope is None:
        return managers
    return managers.filter(pk__in=Route.objects.filter(scope).values("account_manager_id"))
