"""Every URL pattern, walked for every role: authentication and scoping hold everywhere.

The resolver's patterns are enumerated (pages and API, exports and actions); each must be in
:data:`TABLE`, or :func:`test_every_url_pattern_is_classified` fails. For each pattern and
each role — anonymous, ``manager`` and ``manager2`` (account managers of two districts),
``supervisor`` (the city district) and a read-only API token — the walk proves:

- anonymous: a page redirects to the login page, the API answers 401;
- lists: no row outside the role's selector (``visible_retailers``, ``visible_routes``, …),
  found by walking the page's template context or the API's JSON for retailers, routes and
  districts, and comparing their ids with the selector's;
- details: another district's object answers 404;
- actions above the role (a manager POSTing a supervisor's action, any write with a read-only
  token) answer 403 and change nothing;
- writes cannot set fields the role may not (tests at the end).

Path parameters are filled with the demo's objects (``demo`` fixture): for each role one it
may see (``own``) and one it may not (``foreign``). The table is one line per URL name:

    kind      what the walk does
    public    no sign-in needed (login, health, schema): only checked not to 5xx
    page      GET; ``who`` may read it (others: 403); lists are checked for foreign rows
    object    GET with an object parameter: own 200 (for ``who``), foreign 404
    action    POST: ``who`` may (never 403 on own objects), others 403, foreign objects 404
    api       GET with a token: ``who`` 200 and no foreign rows, others 403; anonymous 401
    api-obj   GET with a token and an object: own 200, foreign 404
    api-post  POST with a token: ``who`` not 403, others 403, read-only 403, anonymous 401
    admin     the Django admin: staff only (the demo's roles are not staff)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.paginator import Page
from django.db.models import Model, QuerySet
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from allocation.models import AllocationRun, RunStatus, ScarceSupply
from config.api.testing import api_token, bearer
from retailers.models import RatingProposal, Retailer, RosterImport
from retailers.selectors import visible_proposals, visible_retailers
from settlement.analytics import visible_targets
from settlement.models import (
    BalanceReminder,
    CultivationTarget,
    ImportBatch,
    ImportKind,
    Order,
    SettlementAccount,
)
from settlement.selectors import visible_accounts, visible_orders, visible_reminders
from territory.models import Cycle, District, Route
from territory.selectors import visible_account_managers, visible_districts, visible_routes
from visits.models import (
    ProgramCriterion,
    ProgramMembership,
    TrainingSession,
    Visit,
    VisitPlan,
)
from visits.programs.selectors import visible_memberships, visible_sessions
from visits.selectors import visible_plan, visible_visits

pytestmark = pytest.mark.django_db

SIGNED_IN = ("manager", "manager2", "supervisor")
ROLES = ("anonymous", *SIGNED_IN, "read_only")
ALL = frozenset(SIGNED_IN)
SUP = frozenset({"supervisor"})
AM = frozenset({"manager", "manager2"})


@dataclasses.dataclass(frozen=True)
class Rule:
    kind: str
    who: frozenset[str] = ALL
    #: the object kind of the path parameters (see OBJECTS), and extra kwargs
    obj: str | None = None
    kwargs: tuple[tuple[str, Any], ...] = ()
    query: str = ""


# fmt: off
TABLE: dict[str, Rule] = {
    # --- site -------------------------------------------------------------------------------
    "home":                            Rule("page"),
    "health":                          Rule("public"),
    "audit":                           Rule("page", SUP),
    "set_language":                    Rule("public"),
    "login":                           Rule("public"),
    "logout":                          Rule("public"),
    # --- retailers --------------------------------------------------------------------------
    "retailers:list":                  Rule("page"),
    "retailers:detail":                Rule("object", obj="retailer"),
    "retailers:district-summary":      Rule("page"),
    "retailers:star-override":         Rule("object", SUP, obj="retailer"),
    "retailers:rerating-list":         Rule("page", SUP),
    "retailers:rerating-thresholds":   Rule("object", SUP, obj="district"),
    "retailers:proposal-detail":       Rule("object", SUP, obj="proposal"),
    "retailers:proposal-decide":       Rule("action", SUP, obj="proposal",
                                            kwargs=(("decision", "reject"),)),
    "retailers:manager-list":          Rule("page", SUP),
    "retailers:manager-detail":        Rule("object", SUP, obj="manager"),
    "retailers:roster-import":         Rule("page", SUP),
    "retailers:roster-apply":          Rule("action", SUP, obj="roster"),
    "retailers:roster-template":       Rule("page", SUP, kwargs=(("fmt", "csv"),)),
    # --- settlement -------------------------------------------------------------------------
    "settlement:order-list":           Rule("page"),
    "settlement:order-create":         Rule("page"),
    "settlement:order-import":         Rule("page"),
    "settlement:order-import-apply":   Rule("action", obj="order_batch"),
    "settlement:order-detail":         Rule("object", obj="order"),
    "settlement:order-retry":          Rule("action", obj="order"),
    "settlement:balance-import":       Rule("page", SUP),
    "settlement:balance-import-apply": Rule("action", SUP, obj="balance_batch"),
    "settlement:account-reveal":       Rule("action", SUP, obj="account"),
    "settlement:reminder-list":        Rule("page"),
    "settlement:reminder-helped":      Rule("action", obj="reminder"),
    "settlement:dashboard":            Rule("page"),
    "settlement:rebate-report":        Rule("page"),
    "settlement:sales":                Rule("page"),
    "settlement:sales-export":         Rule("page", kwargs=(("fmt", "csv"),)),
    "settlement:channels":             Rule("page"),
    "settlement:targets":              Rule("page"),
    "settlement:target-create":        Rule("page", SUP),
    "settlement:target-edit":          Rule("object", SUP, obj="target"),
    "settlement:target-delete":        Rule("action", SUP, obj="target"),
    # --- allocation -------------------------------------------------------------------------
    "allocation:supply-list":          Rule("page", SUP),
    "allocation:supply-create":        Rule("action", SUP),
    "allocation:supply-detail":        Rule("object", SUP, obj="supply"),
    "allocation:supply-edit":          Rule("action", SUP, obj="supply"),
    "allocation:supply-run":           Rule("action", SUP, obj="supply"),
    "allocation:cycle-run":            Rule("action", SUP, obj="cycle"),
    "allocation:points":               Rule("page"),
    "allocation:points-compute":       Rule("action", SUP, obj="cycle"),
    "allocation:run-detail":           Rule("object", SUP, obj="run"),
    "allocation:run-progress":         Rule("object", SUP, obj="run"),
    "allocation:run-approve":          Rule("action", SUP, obj="run"),
    "allocation:run-publish":          Rule("action", SUP, obj="run"),
    "allocation:run-export":           Rule("object", SUP, obj="run", kwargs=(("fmt", "csv"),)),
    "allocation:awards":               Rule("page"),
    "allocation:statement":            Rule("object", obj="statement"),
    "allocation:rerating-propose":     Rule("action", SUP),
    # --- visits -----------------------------------------------------------------------------
    "visits:today":                    Rule("page"),
    "visits:find":                     Rule("page"),
    "visits:card":                     Rule("object", obj="retailer"),
    # A supervisor may ask; the service refuses a visit by someone not on the route (400).
    "visits:check-in":                 Rule("action", obj="retailer"),
    "visits:emergency":                Rule("action", obj="retailer"),
    "visits:visit":                    Rule("object", obj="visit"),
    "visits:policies":                 Rule("page", SUP),
    "visits:policy-edit":              Rule("action", SUP, obj="star"),
    "visits:plan":                     Rule("page", SUP),
    "visits:plan-run":                 Rule("action", SUP),
    "visits:plan-add":                 Rule("action", SUP),
    "visits:plan-move":                Rule("action", SUP, obj="plan"),
    "visits:compliance":               Rule("page", SUP),
    "visits:stock":                    Rule("page"),
    "visits:compliance-summary-csv":   Rule("page", SUP),
    "visits:compliance-missed-csv":    Rule("page", SUP),
    "visits:visit-review":             Rule("action", AM, obj="visit"),
    "visits:trainings":                Rule("page"),
    "visits:training-create":          Rule("page"),
    "visits:training-summary":         Rule("page"),
    "visits:training":                 Rule("object", obj="training"),
    "visits:programs":                 Rule("page"),
    "visits:program-enrol":            Rule("action", SUP),
    "visits:program-overview":         Rule("page"),
    "visits:program-criteria":         Rule("page", SUP),
    "visits:program-criterion-edit":   Rule("action", SUP, obj="criterion"),
    "visits:program-withdraw":         Rule("action", SUP, obj="membership"),
    # --- API --------------------------------------------------------------------------------
    "api:schema":                      Rule("public"),
    "api:docs":                        Rule("public"),
    "api:auth-token":                  Rule("public"),
    "api:brand-list":                  Rule("api"),
    "api:district-list":               Rule("api"),
    "api:route-list":                  Rule("api"),
    "api:cycle-list":                  Rule("api"),
    "api:retailer-list":               Rule("api"),
    "api:retailer-export":             Rule("api", query="?format=csv"),
    "api:retailer-detail":             Rule("api-obj", obj="retailer"),
    "api:order-list":                  Rule("api"),
    "api:order-detail":                Rule("api-obj", obj="order"),
    "api:settlement-account-list":     Rule("api", SUP),
    "api:balance-push":                Rule("api-post", SUP),
    "api:settlement-account-reveal":   Rule("api-post", SUP, obj="account"),
    "api:debit-list":                  Rule("api", SUP),
    "api:balance-reminder-list":       Rule("api"),
    "api:sales-summary":               Rule("api"),
    "api:allocation-run-list":         Rule("api"),
    "api:allocation-run-detail":       Rule("api-obj", obj="published_run"),
    "api:allocation-run-line-list":    Rule("api", obj="published_run"),
    "api:visit-list":                  Rule("api"),
    "api:visit-detail":                Rule("api-obj", obj="visit"),
    "api:rerating-proposal-list":      Rule("api"),
    "api:grade-evaluation-list":       Rule("api"),
    "api:training-list":               Rule("api"),
    "api:training-detail":             Rule("api-obj", obj="training"),
    "api:program-list":                Rule("api"),
    "api:program-detail":              Rule("api-obj", obj="membership"),
}
# fmt: on


def _patterns(resolver: URLResolver | None = None, namespace: str = "") -> Iterator[str]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                yield "admin:*"
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner)
        elif isinstance(entry, URLPattern):
            yield namespace + (entry.name or str(entry.pattern))


def test_every_url_pattern_is_classified():
    found = set(_patterns())
    # The API's catch-all (a JSON 404) and the admin's own login are not views of ours.
    unclassified = found - set(TABLE) - {"admin:*", r"api:^[\s\S]*/$", "admin/login/"}
    assert unclassified == set(), "add each new URL to TABLE in tests/test_url_walk.py"
    assert set(TABLE) - found == set(), "TABLE names URLs that no longer exist"


# --- the objects that fill path parameters --------------------------------------------------


def _town_supervisor_free() -> None:
    """The demo's town district has no supervisor: the city's supervisor sees none of it."""
    assert District.objects.get(code="YC-XZ").supervisor_id is None


def _split(queryset: QuerySet, visible: QuerySet) -> tuple[Model | None, Model | None]:
    own = queryset.filter(pk__in=visible.values("pk")).order_by("pk").first()
    foreign = queryset.exclude(pk__in=visible.values("pk")).order_by("pk").first()
    return own, foreign


def _batch(kind: str, user: User) -> ImportBatch:
    return ImportBatch.objects.create(kind=kind, file_name="x.csv", content="", uploaded_by=user)


def _roster(user: User) -> RosterImport:
    return RosterImport.objects.create(
        file_name="roster.csv", file_format="csv", content=b"", digest="0" * 64, uploaded_by=user
    )


def objects_for(name: str, user: User, others: dict[str, User]) -> tuple[Any, Any]:
    """(own, foreign) path parameters of object kind ``name`` for ``user``."""
    if name == "retailer":
        return _split(Retailer.objects.all(), visible_retailers(user))
    if name == "order":
        return _split(Order.objects.all(), visible_orders(user))
    if name == "account":
        return _split(SettlementAccount.objects.all(), visible_accounts(user))
    if name == "reminder":
        return _split(BalanceReminder.objects.all(), visible_reminders(user))
    if name == "target":
        return _split(CultivationTarget.objects.all(), visible_targets(user))
    if name == "visit":
        return _split(Visit.objects.all(), visible_visits(user))
    if name == "plan":
        return _split(VisitPlan.objects.all(), visible_plan(user))
    if name in ("order_batch", "balance_batch"):
        kind = ImportKind.ORDERS if name == "order_batch" else ImportKind.BALANCES
        other = others["supervisor" if user.username != "supervisor" else "manager"]
        return _batch(kind, user), _batch(kind, other)
    if name == "supply":
        return ScarceSupply.objects.order_by("pk").first(), None
    if name == "run":
        return AllocationRun.objects.order_by("pk").first(), None
    if name == "published_run":
        return AllocationRun.objects.filter(status=RunStatus.PUBLISHED).order_by("pk").first(), None
    if name == "cycle":
        return Cycle.objects.order_by("-start_date").first(), None
    if name == "star":
        return 5, None
    if name == "district":
        return _split(District.objects.all(), visible_districts(user))
    if name == "proposal":
        return _split(RatingProposal.objects.all(), visible_proposals(user))
    if name == "manager":
        managers = User.objects.filter(role="account_manager")
        return _split(managers, visible_account_managers(user))
    if name == "roster":
        other = others["supervisor" if user.username != "supervisor" else "manager"]
        return _roster(user), _roster(other)
    if name == "training":
        return _split(TrainingSession.objects.all(), visible_sessions(user))
    if name == "membership":
        return _split(ProgramMembership.objects.all(), visible_memberships(user))
    if name == "criterion":
        return ProgramCriterion.objects.order_by("pk").first(), None
    if name == "statement":
        own, foreign = _split(Retailer.objects.all(), visible_retailers(user))
        run = AllocationRun.objects.filter(status=RunStatus.PUBLISHED).first()
        return (own, run.supply.cycle), (foreign, run.supply.cycle)
    raise AssertionError(name)


def url_of(name: str, rule: Rule, obj: Any) -> str:
    kwargs = dict(rule.kwargs)
    args: list[Any] = []
    if isinstance(obj, tuple):
        args = [o.pk for o in obj]
    elif isinstance(obj, Model):
        args = [obj.pk]
    elif obj is not None:
        args = [obj]
    if kwargs:
        return (
            reverse(name, args=args, kwargs=kwargs)
            if not args
            else _with_kwargs(name, args, kwargs)
        )
    return reverse(name, args=args) + rule.query


def _with_kwargs(name: str, args: list, kwargs: dict) -> str:
    resolver_kwargs = {"pk": args[0], **kwargs} if len(args) == 1 else kwargs
    return reverse(name, kwargs=resolver_kwargs)


# --- what each role may see -----------------------------------------------------------------


@dataclasses.dataclass
class Scope:
    retailers: set[int]
    routes: set[int]
    districts: set[int]


def scope_of(user: User) -> Scope:
    return Scope(
        retailers=set(visible_retailers(user).values_list("pk", flat=True)),
        routes=set(visible_routes(user).values_list("pk", flat=True)),
        districts=set(visible_districts(user).values_list("pk", flat=True)),
    )


def _model_refs(obj: Model) -> Iterator[tuple[str, int]]:
    if isinstance(obj, Retailer):
        yield "retailers", obj.pk
    elif isinstance(obj, Route):
        yield "routes", obj.pk
    elif isinstance(obj, District):
        yield "districts", obj.pk
    for attr, kind in (("retailer_id", "retailers"), ("route_id", "routes")):
        value = obj.__dict__.get(attr)
        if isinstance(value, int):
            yield kind, value


def context_refs(value: Any, depth: int = 0, seen: set | None = None) -> Iterator[tuple[str, int]]:
    """Retailers, routes and districts in a page's template context, wherever they sit:
    model instances, lists, pages, evaluated querysets, dicts and dataclasses."""
    seen = set() if seen is None else seen
    if depth > 5 or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, Model):
        yield from _model_refs(value)
        for related in value._state.fields_cache.values():
            if isinstance(related, Model):
                yield from context_refs(related, depth + 1, seen)
        return
    if isinstance(value, QuerySet):
        value = value._result_cache or []
    elif isinstance(value, Page):
        value = list(value.object_list)
    if isinstance(value, dict):
        for item in value.values():
            yield from context_refs(item, depth + 1, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from context_refs(item, depth + 1, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from context_refs(getattr(value, f.name, None), depth + 1, seen)


def json_refs(value: Any, key: str = "", list_of: str = "") -> Iterator[tuple[str, int]]:
    """Retailers, routes and districts named in an API answer (by their id keys)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, int) and not isinstance(v, bool):
                if k in ("retailer", "retailer_id"):
                    yield "retailers", v
                elif k == "route":
                    yield "routes", v
                elif k == "district":
                    yield "districts", v
                elif k == "id" and list_of:
                    yield list_of, v
            else:
                yield from json_refs(v, k, "" if k != "results" else list_of)
    elif isinstance(value, list):
        for item in value:
            yield from json_refs(item, key, list_of)


LIST_OF = {
    "api:retailer-list": "retailers",
    "api:route-list": "routes",
    "api:district-list": "districts",
}


def foreign_refs(refs: Iterator[tuple[str, int]], scope: Scope) -> list[tuple[str, int]]:
    return sorted({(kind, pk) for kind, pk in refs if pk not in getattr(scope, kind)})


# --- the walk --------------------------------------------------------------------------------


@pytest.fixture
def walk(client, demo):
    _town_supervisor_free()
    tokens = {name: api_token(demo[name]) for name in SIGNED_IN}
    tokens["read_only"] = api_token(demo["supervisor"], read_only=True)
    scopes = {name: scope_of(demo[name]) for name in SIGNED_IN}
    scopes["read_only"] = scopes["supervisor"]
    return {"client": client, "demo": demo, "tokens": tokens, "scopes": scopes}


def _user_of(role: str, demo) -> User:
    return demo["supervisor" if role == "read_only" else role]


def _login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def refused_codes(rule: Rule) -> tuple[int, ...]:
    """An action above the role is a 403; a page or object above it may also hide (404) or send
    the role to its own page (302, e.g. the allocation pages to the awards)."""
    return (403,) if rule.kind == "action" else (302, 403, 404)


def flat_context(response) -> dict:
    contexts = response.context
    if contexts is None:
        return {}
    if not isinstance(contexts, list):
        contexts = [contexts]
    merged: dict = {}
    for context in contexts:
        merged.update(context.flatten())
    return merged


def check_page(walk, name: str, rule: Rule) -> list[str]:
    client, demo = walk["client"], walk["demo"]
    problems = []
    for role in ROLES:
        if role == "read_only":
            continue  # a token is for the API; pages use the session
        client.logout()
        user = None if role == "anonymous" else demo[role]
        own, foreign = (None, None)
        if rule.obj:
            own, foreign = objects_for(rule.obj, user or demo["supervisor"], demo)
        if rule.obj and own is None:
            own, foreign = foreign, None  # nothing of its own: it is refused all the same
        method = client.post if rule.kind == "action" else client.get
        if user is None:
            response = method(url_of(name, rule, own))
            ok = response.status_code == 302 if name == "home" else _login_redirect(response)
            if not ok:
                problems.append(f"{name} anonymous: {response.status_code}")
            continue
        client.force_login(user)
        if own is not None or not rule.obj:
            response = method(url_of(name, rule, own))
            allowed = role in rule.who
            if response.status_code >= 500:
                problems.append(f"{name} {role}: {response.status_code}")
            elif allowed and response.status_code in (403, 404):
                problems.append(f"{name} {role}: {response.status_code} on its own object")
            elif not allowed and response.status_code not in refused_codes(rule):
                problems.append(f"{name} {role}: {response.status_code}, expected 403")
            elif allowed and response.status_code == 200 and rule.kind in ("page", "object"):
                leaks = foreign_refs(context_refs(flat_context(response)), walk["scopes"][role])
                if leaks:
                    problems.append(f"{name} {role}: foreign rows {leaks[:5]}")
        if foreign is not None:
            response = method(url_of(name, rule, foreign))
            expected = (404,) if role in rule.who else (403, 404)
            if response.status_code not in expected:
                problems.append(f"{name} {role} foreign: {response.status_code}, expected 404")
    return problems


def check_api(walk, name: str, rule: Rule) -> list[str]:
    client, demo, tokens = walk["client"], walk["demo"], walk["tokens"]
    problems = []
    client.logout()
    for role in ROLES:
        user = None if role == "anonymous" else _user_of(role, demo)
        own, foreign = (None, None)
        if rule.obj:
            own, foreign = objects_for(rule.obj, user or demo["supervisor"], demo)
        if rule.obj and own is None:
            own, foreign = foreign, None
        headers = {} if user is None else bearer(tokens[role])
        post = rule.kind == "api-post"

        def call(obj, headers=headers, post=post):
            url = url_of(name, rule, obj)
            if post:
                return client.post(url, {}, content_type="application/json", **headers)
            return client.get(url, **headers)

        response = call(own)
        if user is None:
            if response.status_code != 401:
                problems.append(f"{name} anonymous: {response.status_code}, expected 401")
            continue
        allowed = role.replace("read_only", "supervisor") in rule.who
        if post and role == "read_only":
            allowed = False
        if response.status_code >= 500:
            problems.append(f"{name} {role}: {response.status_code}")
            continue
        if not allowed:
            if response.status_code != 403:
                problems.append(f"{name} {role}: {response.status_code}, expected 403")
            continue
        if response.status_code in (401, 403, 404) and own is not None:
            problems.append(f"{name} {role}: {response.status_code} on its own object")
            continue
        if response.status_code == 200 and not post:
            if response.streaming:
                body = b"".join(response.streaming_content).decode()
                refs = _csv_refs(body)
            else:
                refs = json_refs(response.json(), list_of=LIST_OF.get(name, ""))
            leaks = foreign_refs(refs, walk["scopes"][role])
            if leaks:
                problems.append(f"{name} {role}: foreign rows {leaks[:5]}")
        if foreign is not None:
            response = call(foreign)
            if response.status_code != 404:
                problems.append(f"{name} {role} foreign: {response.status_code}, expected 404")
    return problems


def _csv_refs(body: str) -> Iterator[tuple[str, int]]:
    import csv
    import io

    for row in csv.DictReader(io.StringIO(body)):
        yield "retailers", int(row["id"])
        yield "routes", int(row["route"])
        yield "districts", int(row["district"])


CHECKS: dict[str, Callable] = {
    "page": check_page,
    "object": check_page,
    "action": check_page,
    "api": check_api,
    "api-obj": check_api,
    "api-post": check_api,
}


@pytest.mark.parametrize("name", sorted(n for n, r in TABLE.items() if r.kind in CHECKS))
def test_url(walk, name):
    rule = TABLE[name]
    assert CHECKS[rule.kind](walk, name, rule) == []


@pytest.mark.parametrize("name", sorted(n for n, r in TABLE.items() if r.kind == "public"))
def test_public_urls_answer_without_a_server_error(client, demo, name):
    assert client.get(reverse(name)).status_code < 500


@pytest.mark.parametrize("role", [*SIGNED_IN, "anonymous"])
def test_the_admin_is_for_staff_only(client, demo, role):
    if role != "anonymous":
        client.force_login(demo[role])
    for url in (reverse("admin:index"), reverse("admin:settlement_settlementaccount_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_the_walk_sees_the_rows_it_checks(client, demo):
    """The leak detector is not blind: it finds the retailers a list page shows, and flags
    them for a role that may not see them."""
    client.force_login(demo["manager2"])
    response = client.get(reverse("retailers:list"))
    refs = set(context_refs(flat_context(response)))
    retailers = {pk for kind, pk in refs if kind == "retailers"}
    assert len(retailers) == 24
    assert retailers == scope_of(demo["manager2"]).retailers
    assert len(foreign_refs(iter(refs), scope_of(demo["manager"]))) >= 24


# --- writes cannot set what the role may not -------------------------------------------------


def test_retailer_fields_cannot_be_written_through_the_api(client, demo):
    """No API writes a retailer: route, star and owner stay as they were, whatever is sent."""
    token = api_token(demo["manager"])
    retailer = visible_retailers(demo["manager"]).order_by("pk").first()
    foreign_route = Route.objects.exclude(pk__in=visible_routes(demo["manager"])).first()
    before = Retailer.objects.values("route_id", "star", "owner_name").get(pk=retailer.pk)
    url = reverse("api:retailer-detail", args=[retailer.pk])
    body = {"route": foreign_route.pk, "star": 5, "owner_name": "Mallory"}
    for method in (client.patch, client.put, client.delete):
        response = method(url, body, content_type="application/json", **bearer(token))
        assert response.status_code == 405
    assert Retailer.objects.values("route_id", "star", "owner_name").get(pk=retailer.pk) == before


def test_an_order_cannot_set_its_status_totals_or_author(client, demo):
    from catalog.models import Brand

    token = api_token(demo["manager"])
    retailer = visible_retailers(demo["manager"]).filter(status="active").order_by("pk").first()
    brand = Brand.objects.order_by("pk").first()
    count = Order.objects.count()
    response = client.post(
        reverse("api:order-list"),
        {
            "retailer": retailer.pk,
            "channel": "phone",
            "lines": [{"brand": brand.pk, "cartons": 2}],
            "status": "paid",
            "total_amount": "0.01",
            "rebate_amount": "999.00",
            "entered_by": demo["supervisor"].pk,
        },
        content_type="application/json",
        **bearer(token),
    )
    if response.status_code == 201:
        order = Order.objects.get(pk=response.json()["id"])
        assert order.status == "placed"
        assert order.entered_by == demo["manager"]
        assert order.total_amount == 2 * order.lines.get().unit_price
        assert order.rebate_amount != 999
    else:  # no open cycle today: refused, nothing written
        assert response.status_code == 400
        assert Order.objects.count() == count


def test_a_foreign_retailer_cannot_be_ordered_for(client, demo):
    from catalog.models import Brand

    token = api_token(demo["manager"])
    foreign = Retailer.objects.exclude(pk__in=visible_retailers(demo["manager"])).first()
    count = Order.objects.count()
    response = client.post(
        reverse("api:order-list"),
        {
            "retailer": foreign.pk,
            "channel": "phone",
            "lines": [{"brand": Brand.objects.first().pk, "cartons": 1}],
        },
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code in (400, 404)
    assert Order.objects.count() == count


def test_read_only_tokens_write_nothing(client, demo):
    token = api_token(demo["supervisor"], read_only=True)
    retailer = visible_retailers(demo["supervisor"]).order_by("pk").first()
    count = Order.objects.count()
    response = client.post(
        reverse("api:order-list"),
        {"retailer": retailer.pk, "channel": "phone", "lines": []},
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 403
    assert Order.objects.count() == count


def test_a_manager_cannot_change_a_policy_or_a_supply(client, demo):
    from visits.models import ServicePolicy

    client.force_login(demo["manager"])
    policy = ServicePolicy.objects.get(star=5)
    before = policy.snapshot()
    response = client.post(
        reverse("visits:policy-edit", args=[5]),
        {"visits": "5", "period_cycles": "1", "min_stay_minutes": "1", "activities": []},
    )
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.snapshot() == before
    supply = ScarceSupply.objects.order_by("pk").first()
    quantity = supply.quantity
    response = client.post(
        reverse("allocation:supply-edit", args=[supply.pk]),
        {"quantity": str(quantity * 2), "unit": "1", "min_star": "1"},
    )
    assert response.status_code == 403
    supply.refresh_from_db()
    assert supply.quantity == quantity
