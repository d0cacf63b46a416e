"""schemathesis hooks for ``tests/test_api_live.py`` (loaded with ``SCHEMATHESIS_HOOKS``).

A cursor is opaque and signed (``config.api.pagination``): a generated one can never be
valid, and is rightly a 400, which the unit tests pin. Requests go without one, as in the
in-process fuzzing (``tests/test_api_schema.py``, ``prepare``).
"""

import schemathesis


@schemathesis.hook
def map_query(ctx, query):
    if query:
        query.pop("cursor", None)
    return query
