"""config.api.pagination.CursorPagination: keyset pages that survive changes and bad cursors."""

from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.api.pagination import CURSOR_SALT, CursorPagination
from retailers.models import Retailer
from retailers.tests.factories import RetailerFactory
from territory.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops():
    """Twelve retailers on one route, stars 1, 2, None repeating."""
    route = RouteFactory()
    return [
        RetailerFactory(route=route, star=(1, 2, None)[n % 3], name=f"店{n:02d}") for n in range(12)
    ]


def page(queryset, *, ordering=("pk",), size=4, link=None):
    url = link or f"/api/v1/x/?page_size={size}"
    request = Request(APIRequestFactory().get(url))
    paginator = CursorPagination()
    rows = paginator.paginate_queryset(queryset, request, SimpleNamespace(ordering=ordering))
    return [row.pk for row in rows], paginator.next_link, paginator.previous_link


def ours(shops):
    return Retailer.objects.filter(pk__in=[s.pk for s in shops])


def test_walks_forward_and_back_with_nulls_last(shops):
    queryset = ours(shops)
    expected = [s.pk for s in sorted(shops, key=lambda s: (s.star is None, s.star or 0, s.pk))]
    seen, link, links = [], None, []
    while True:
        rows, link, previous = page(queryset, ordering=("star",), size=5, link=link)
        seen += rows
        links.append(previous)
        if link is None:
            break
    assert seen == expected
    assert links[0] is None
    rows, _next, _previous = page(queryset, ordering=("star",), size=5, link=links[-1])
    assert rows == expected[5:10]


def test_descending_keeps_nulls_last(shops):
    queryset = ours(shops)
    seen, link = [], None
    while True:
        rows, link, _previous = page(queryset, ordering=("-star",), size=3, link=link)
        seen += rows
        if link is None:
            break
    stars = {s.pk: s.star for s in shops}
    assert [stars[pk] for pk in seen] == [2] * 4 + [1] * 4 + [None] * 4
    assert seen[:4] == sorted(seen[:4], reverse=True)  # the pk follows the last direction


def test_a_cursor_survives_the_deletion_of_the_row_it_points_at(shops):
    queryset = ours(shops)
    rows, link, _previous = page(queryset, size=4)
    Retailer.objects.filter(pk=rows[-1]).delete()
    rest = []
    while link:
        more, link, _previous = page(queryset, link=link)
        rest += more
    assert rest == sorted(s.pk for s in shops)[4:]


def test_an_empty_page_past_the_end_still_leads_back(shops):
    queryset = ours(shops)
    rows, link, _previous = page(queryset, size=6)
    Retailer.objects.filter(pk__in=[s.pk for s in shops][6:]).delete()
    rows, next_link, previous = page(queryset, size=6, link=link)
    assert (rows, next_link) == ([], None)
    back, _next, _previous = page(queryset, size=6, link=previous)
    assert back == sorted(s.pk for s in shops)[:6]


def test_relations_order_by_their_column_not_their_model_ordering(shops):
    _rows, link, _previous = page(ours(shops), ordering=("route", "-name"), size=2)
    token = parse_qs(urlparse(link).query)["cursor"][0]
    assert signing.loads(token, salt=CURSOR_SALT)["o"] == ["route_id", "-name", "-id"]


@pytest.mark.parametrize(
    "payload",
    [
        {"o": ["id"], "r": False, "v": ["not a number"]},
        {"o": ["id"], "r": False, "v": []},
        {"o": ["id"], "r": False},
        {"o": ["name", "id"], "r": False, "v": ["a", 1]},
        ["id"],
    ],
)
def test_a_signed_but_malformed_cursor_is_a_400(shops, payload):
    token = signing.dumps(payload, salt=CURSOR_SALT)
    with pytest.raises(ValidationError) as caught:
        page(ours(shops), link=f"/api/v1/x/?cursor={token}")
    assert list(caught.value.detail) == ["cursor"]


def test_a_cursor_signed_for_something_else_is_a_400(shops):
    token = signing.dumps({"o": ["id"], "r": False, "v": [1]}, salt="another purpose")
    with pytest.raises(ValidationError):
        page(ours(shops), link=f"/api/v1/x/?cursor={token}")


def test_ordering_by_an_unknown_field_is_a_programming_error(shops):
    with pytest.raises(ImproperlyConfigured):
        page(ours(shops), ordering=("nope",))
    with pytest.raises(ImproperlyConfigured):
        page(ours(shops), ordering=("star_history",))
