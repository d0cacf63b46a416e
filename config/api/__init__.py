"""The REST API under ``/api/v1/``: shared machinery, and how every app adds its endpoints.

What is here, used by every endpoint through ``REST_FRAMEWORK`` in ``config/settings/base.py``:

- ``exceptions``: one handler; every error is ``{"error": {"status", "code", "message",
  "fields"}}``. ``ApplicationError`` and Django's ``ValidationError`` become 400s, ``Http404``
  404, throttling 429 with ``Retry-After``. Unknown paths under ``/api/v1/`` are JSON 404s too.
- ``pagination.CursorPagination`` (the default): keyset pages, ``?page_size=`` from 1 to
  ``API_MAX_PAGE_SIZE``, ``next``/``previous`` links; a bad cursor or page size is a 400.
- ``throttling``: per token (scope ``user``), per anonymous address (``anon``), and extra
  per-view scopes (``throttle_scope = "export"`` with ``ScopedRateThrottle``).
- ``permissions``: ``DEFAULT`` (signed in; read-only tokens only read) and role checks.
- ``filters``: strict django-filter filters (``IntegerFilter``, ``BooleanFilter``,
  ``DateTimeFilter``, ``DateFilter``, ``TextFilter``) that reject malformed input with a 400
  and document their exact schema.
- ``schema.AutoSchema``: documents 400/401/403/404/415/429 with the ``Error`` body on every
  operation, as they apply; ``error_response(description)`` documents anything else.
- Authentication: ``accounts.authentication.ApiTokenAuthentication`` (``Authorization: Bearer
  <token>``, from ``POST /api/v1/auth/token/``), then the browser's session.

How to add an endpoint (say, visits)
------------------------------------

1. **The view** goes in ``visits/api.py``: one class per operation, thin (parse with a
   serializer or a FilterSet, call a selector or a service, serialize). Input and output
   serializers live beside it (or in ``visits/serializers.py`` when they grow). End the module
   with its URLs, named ``<thing>-<action>``::

       class VisitListApi(ListAPIView):
           serializer_class = VisitSerializer
           filter_backends = [DjangoFilterBackend]
           filterset_class = VisitFilter          # visits/filters.py, built from config.api.filters
           ordering = ("-checked_in_at",)         # the pk is appended; NULLs sort last

           def get_queryset(self):
               return selectors.visit_list(user=self.request.user)   # scoped, N+1-free

       class VisitCheckOutApi(APIView):
           permission_classes = [*DEFAULT, IsAccountManager]          # extend, never replace
           def post(self, request, pk):
               visit = get_object_or_404(selectors.visible_visits(request.user), pk=pk)
               form = CheckOutSerializer(data=request.data)
               form.is_valid(raise_exception=True)
               visit = services.visit_check_out(visit=visit, by=request.user, **form.validated_data)
               return Response(VisitSerializer(visit).data)

       urlpatterns = [
           path("visits/", VisitListApi.as_view(), name="visit-list"),
           path("visits/<int:pk>/check-out/", VisitCheckOutApi.as_view(), name="visit-check-out"),
       ]

2. **Register** the app once in ``config/api/urls.py``: ``path("", include("visits.api")),``
   (before the final catch-all). Reverse with ``reverse("api:visit-list")``.

3. **Scope with the selectors, never a second rule.** Lists start from the app's selector
   (``retailers.selectors.visible_retailers(user)``, ``territory.selectors.visible_routes``,
   ``route_scope(user, prefix=...)``); a single object is looked up *in* the visible set, so
   another route's object answers 404, exactly like the pages. Load what the serializer reads
   with ``select_related``/``prefetch_related`` in the selector, and pin the list's query count
   at page sizes 1 and 100 in ``visits/tests/test_api.py`` (``django_assert_num_queries``).

4. **Errors**: do not catch ``ApplicationError``/``ValidationError`` in the view; raise them
   (from services) or let ``is_valid(raise_exception=True)`` do it. Missing objects:
   ``get_object_or_404`` on the scoped queryset. Everything then has the one JSON shape.

5. **Document**: the schema is generated. The standard errors are added by ``AutoSchema``;
   add ``@extend_schema(responses={201: VisitSerializer, 409: error_response(_("…"))})`` for a
   non-default success code or an error the machinery does not know. Query parameters come
   from the FilterSet; use ``config.api.filters`` classes so malformed values are 400s and the
   bounds appear in the schema. Every operation is fuzzed by ``tests/test_api_schema.py``
   (schemathesis): no 5xx, responses as documented. Run it after adding an endpoint.

6. **Writes** (POST/PUT/PATCH/DELETE): keep ``DEFAULT`` in ``permission_classes`` so read-only
   tokens get a 403 (``tests/test_api_schema.py`` checks this for every view); browser sessions
   need the CSRF token, API tokens do not.

7. **Test** in ``<app>/tests/test_api.py`` with ``config.api.testing``: ``api_token(user)``,
   ``client.get(url, **bearer(token))``, ``error_of(response)`` (checks the error shape). Cover
   each filter, scoping for every role (list, detail: 404), bad input (400 naming the field)
   and the query-count pin. Throttle counts live in the cache: ``cache.clear()`` in a fixture.

8. **Translate** user-visible strings (``gettext_lazy``), in the app's catalogue.
"""
