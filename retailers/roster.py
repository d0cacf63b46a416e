"""The retailer roster file: its columns and how one row's cells become field values.

Pure parsing (no database): ``services.roster_check`` looks the districts, routes and existing
retailers up and decides creates, updates, unchanged rows and errors (DESIGN §7).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.errors import ApplicationError
from config.imports import RowError
from retailers.models import (
    BusinessType,
    IntegrityLevel,
    OrderingChannel,
    PaymentMethod,
    licence_validator,
)


@dataclass(frozen=True)
class Column:
    key: str
    label_zh: str
    required: bool
    help: str


COLUMNS = (
    Column(
        "licence_number", "许可证号", True, gettext_lazy("6–20 letters, digits or dashes; the key")
    ),
    Column("name", "店名", True, gettext_lazy("up to 100 characters")),
    Column("district", "辖区代码", True, gettext_lazy("district code, one of yours")),
    Column("route", "线路代码", True, gettext_lazy("route code within the district")),
    Column(
        "business_type",
        "业态",
        True,
        gettext_lazy(
            "convenience, supermarket, grocery, tobacco_liquor, catering, entertainment, other"
        ),
    ),
    Column("stop_order", "拜访顺序", False, gettext_lazy("whole number, 1 or more")),
    Column("owner_name", "负责人", False, gettext_lazy("up to 50 characters")),
    Column("phone", "电话", False, gettext_lazy("up to 20 characters")),
    Column("address", "地址", False, gettext_lazy("up to 200 characters")),
    Column(
        "star",
        "星级",
        False,
        gettext_lazy("1–5 for a new retailer; for an existing one it must stay as it is (locked)"),
    ),
    Column("integrity_level", "诚信等级", False, gettext_lazy("A, B, C or D")),
    Column("ordering_channel", "订货方式", False, gettext_lazy("phone or online")),
    Column("payment_method", "结算方式", False, gettext_lazy("e_settlement or cash")),
    Column("needs_assistance", "需要协助", False, gettext_lazy("yes or no")),
    Column("opened_on", "开业日期", False, gettext_lazy("date, YYYY-MM-DD")),
)
KEYS = tuple(c.key for c in COLUMNS)
REQUIRED = tuple(c.key for c in COLUMNS if c.required)
ALIASES = {c.label_zh: c.key for c in COLUMNS} | {k: k for k in KEYS}
YES = {"yes", "y", "true", "1", "是", "需要"}
NO = {"no", "n", "false", "0", "否", "不需要"}


def header_keys(header: list[str]) -> list[str]:
    """The column keys the header names (key or Chinese label), or an error naming the
    problem: a missing required column, an unknown or a repeated one."""
    keys = [ALIASES.get(name.strip().lower(), ALIASES.get(name.strip(), "")) for name in header]
    unknown = [name for name, key in zip(header, keys, strict=True) if not key]
    missing = [k for k in REQUIRED if k not in keys]
    repeated = sorted({k for k in keys if k and keys.count(k) > 1})
    problems = []
    if missing:
        problems.append(_("missing columns: %(names)s") % {"names": ", ".join(missing)})
    if unknown:
        problems.append(_("unknown columns: %(names)s") % {"names": ", ".join(unknown)})
    if repeated:
        problems.append(_("repeated columns: %(names)s") % {"names": ", ".join(repeated)})
    if problems:
        raise ApplicationError(
            _("The header row is wrong (%(problems)s). Download the template.")
            % {"problems": "; ".join(problems)}
        )
    return keys


def _choices(choices) -> dict[str, str]:
    """Accept a choice's code, or its label in English or Chinese."""
    found = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            found |= {str(label).strip().lower(): value for value, label in choices}
    return found | {value.lower(): value for value, _label in choices}


@dataclass
class ParsedRow:
    row: int
    values: dict[str, object]
    district: str
    route: str


def parse_row(number: int, cells: dict[str, str]) -> tuple[ParsedRow | None, list[RowError]]:
    """One row's values by field (only the cells given: an empty optional cell is left out),
    or the errors naming each bad field."""
    errors: list[RowError] = []
    values: dict[str, object] = {}

    def bad(key: str, message: str) -> None:
        errors.append(RowError(number, message, key))

    for key in REQUIRED:
        if not cells.get(key):
            bad(key, _("must not be empty."))
    licence = cells.get("licence_number", "")
    if licence:
        try:
            licence_validator(licence)
            values["licence_number"] = licence
        except ValidationError as exc:
            bad("licence_number", " ".join(exc.messages))
    for key, limit in (("name", 100), ("owner_name", 50), ("phone", 20), ("address", 200)):
        value = cells.get(key, "")
        if value:
            if len(value) > limit:
                bad(key, _("at most %(n)s characters.") % {"n": limit})
            else:
                values[key] = value
    for key, choices in (
        ("business_type", BusinessType.choices),
        ("integrity_level", IntegrityLevel.choices),
        ("ordering_channel", OrderingChannel.choices),
        ("payment_method", PaymentMethod.choices),
    ):
        value = cells.get(key, "")
        if value:
            code = _choices(choices).get(value.lower())
            if code is None:
                bad(
                    key,
                    _("%(value)s is not one of %(choices)s.")
                    % {"value": value, "choices": ", ".join(v for v, _l in choices)},
                )
            else:
                values[key] = code
    stop = cells.get("stop_order", "")
    if stop:
        if stop.isdigit() and 1 <= int(stop) <= 100_000:
            values["stop_order"] = int(stop)
        else:
            bad("stop_order", _("a whole number from 1 to 100000, not %(v)s.") % {"v": stop})
    star = cells.get("star", "").replace("★", "")
    if cells.get("star"):
        text = cells["star"]
        count = text.count("★")
        number_star = int(star) if star.isdigit() else (count if count and not star else None)
        if number_star is None or not 1 <= number_star <= 5:
            bad("star", _("a star is 1 to 5, not %(v)s.") % {"v": text})
        else:
            values["star"] = number_star
    assist = cells.get("needs_assistance", "").lower()
    if assist:
        if assist in YES | NO:
            values["needs_assistance"] = assist in YES
        else:
            bad("needs_assistance", _("yes or no, not %(v)s.") % {"v": assist})
    opened = cells.get("opened_on", "")
    if opened:
        try:
            day = dt.date.fromisoformat(opened.replace("/", "-")[:10])
        except ValueError:
            bad("opened_on", _("a date such as 2024-03-01, not %(v)s.") % {"v": opened})
        else:
            if day > timezone.localdate():
                bad("opened_on", _("the date is in the future."))
            else:
                values["opened_on"] = day
    if errors:
        return None, errors
    return ParsedRow(number, values, cells["district"], cells["route"]), []
