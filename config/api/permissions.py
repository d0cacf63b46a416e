"""Permissions shared by every API view.

The defaults (``REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]``) are :data:`DEFAULT`: signed in,
and a read-only token may only read. A view that needs more extends them, never replaces them::

    permission_classes = [*DEFAULT, IsSupervisorOrAdministrator]

Which *objects* a user may see is not a permission here: it is the app's selector
(``visible_retailers(user)`` …), so that another route's retailer answers 404, not 403.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request

from accounts.permissions import can_view_settlement_data


class ReadOnlyToken(BasePermission):
    """A read-only API token may use GET, HEAD and OPTIONS only (403 otherwise).

    A view that sets ``read_only_token_allowed = True`` accepts it for every method (revoking
    the token itself, for instance).
    """

    message = _("This API token is read-only.")
    code = "read_only_token"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "read_only_token_allowed", False):
            return True
        return not getattr(request.auth, "read_only", False)


class IsSupervisorOrAdministrator(BasePermission):
    message = _("Only supervisors and administrators may do this.")
    code = "role"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            getattr(user, "is_supervisor", False) or getattr(user, "is_administrator", False)
        )


class IsAdministrator(BasePermission):
    message = _("Only administrators may do this.")
    code = "role"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(getattr(request.user, "is_administrator", False))


class CanViewSettlementData(BasePermission):
    """Bank and debit data: see :func:`accounts.permissions.can_view_settlement_data`."""

    message = _("Your role may not see settlement data.")
    code = "role"

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_view_settlement_data(request.user)


#: Every API view's permissions start with these.
DEFAULT = (IsAuthenticated, ReadOnlyToken)
