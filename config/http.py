"""The client's address, decided in one place for throttles, login lockouts and logs."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent ``request``.

    ``REMOTE_ADDR`` unless ``API_NUM_PROXIES`` (``REST_FRAMEWORK["NUM_PROXIES"]``) says that many
    proxies in front append to ``X-Forwarded-For``: then the address the outermost of them saw.
    A client can write anything into that header, so it is read only as far as our proxies
    vouch for it — the same rule as the API throttles (DRF's ``get_ident``).
    """
    return BaseThrottle().get_ident(request) or ""
