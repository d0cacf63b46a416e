"""Who may see what, by role: one function per question, used by pages and the API alike."""

from __future__ import annotations

from typing import Any


def can_view_settlement_data(user: Any) -> bool:
    """Supervisors and administrators see settlement data (bank, masked account number);
    account managers do not (DESIGN §1: supervisors review e-settlement success)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_supervisor or user.is_administrator)


def can_reveal_account_number(user: Any) -> bool:
    """Who may see a full bank account number, once per audited request (SECURITY.md):
    supervisors (for their districts' accounts) and administrators. Everyone else sees only
    the masked number, or nothing."""
    return can_view_settlement_data(user)
