"""``simulate_csv``: the allocation rule on a CSV file, and its answers to bad input."""

from __future__ import annotations

import io
from fractions import Fraction

import pytest

from allocation.simulate import SimulationError, format_exact, simulate_csv

HEADER = "retailer,points,cap,star,licence\n"
DESIGN_EXAMPLE = HEADER + "A,50,4,5,L1\nB,30,4,4,L2\nC,15,4,3,L3\nD,5,4,,L4\n"


def simulate(text: str, **options) -> str:
    out = io.StringIO()
    simulate_csv(io.StringIO(text, newline=""), out, **{"supply": 10, **options})
    return out.getvalue()


def test_design_worked_example_round_trips():
    assert simulate(DESIGN_EXAMPLE, supply=10, cycle_code="2024W07") == (
        "retailer,points,cap,quota,award\nA,50,4,4,4\nB,30,4,3.6,4\nC,15,4,1.8,2\nD,5,4,0.6,0\n"
    )


def test_quota_without_a_terminating_decimal_is_a_fraction():
    text = HEADER + "A,1,9,3,L1\nB,1,9,3,L2\nC,1,9,3,L3\n"

    out = simulate(text, supply=10, cycle_code="C")

    rows = out.splitlines()[1:]
    assert [row.split(",")[3] for row in rows] == ["10/3", "10/3", "10/3"]
    assert sorted(int(row.split(",")[4]) for row in rows) == [3, 3, 4]


def test_quota_and_award_are_in_cartons_with_a_unit():
    # U = 230 // 50 = 4; see test_rule's whole-case example.
    text = HEADER + "A,10,120,3,L1\nB,30,100,3,L2\nC,30,49,3,L3\nD,20,200,3,L4\n"

    assert simulate(text, supply=230, unit=50) == (
        "retailer,points,cap,quota,award\n"
        "A,10,120,100/3,50\nB,30,100,100,100\nC,30,49,0,0\nD,20,200,200/3,50\n"
    )


def test_quota_with_a_minimum_is_the_sum_of_both_passes():
    # Pass 1 gives each of the four its 1 carton; pass 2 shares 3 with caps 3: quotas
    # 1.5, 0.9, 0.45, 0.15 (B gets a remainder unit for .9, A for .5).
    out = simulate(DESIGN_EXAMPLE, supply=7, minimum=1)

    assert out == (
        "retailer,points,cap,quota,award\nA,50,4,2.5,3\nB,30,4,1.9,2\nC,15,4,1.45,1\nD,5,4,1.15,1\n"
    )


def test_columns_in_any_order_spaces_blank_lines_and_a_byte_order_mark():
    text = "\ufefflicence, star ,cap,points,retailer\nL1,5,4,50,A\n\nL2, ,4, 30 ,B\n\n"

    # s/P = 6/80: quotas 3.75 and 2.25, the remainder unit to A.
    assert simulate(text, supply=6) == (
        "retailer,points,cap,quota,award\nA,50,4,3.75,4\nB,30,4,2.25,2\n"
    )


def test_header_only_gives_header_only():
    assert simulate(HEADER, supply=5) == "retailer,points,cap,quota,award\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(4), "4"),
        (Fraction(0), "0"),
        (Fraction(18, 5), "3.6"),
        (Fraction(3, 5), "0.6"),
        (Fraction(1, 8), "0.125"),
        (Fraction(29, 20), "1.45"),
        (Fraction(10, 3), "10/3"),
        (Fraction(1, 6), "1/6"),
    ],
)
def test_format_exact(value, text):
    assert format_exact(value) == text


@pytest.mark.parametrize(
    ("text", "row", "column", "message"),
    [
        ("", 1, None, "the file is empty"),
        ("retailer,points,cap,star\nA,1,2,3\n", 1, None, "missing column(s) licence"),
        (HEADER.replace("\n", ",note\n") + "A,1,2,3,L1,x\n", 1, None, "unexpected column(s) note"),
        ("retailer,points,cap,star,licence,cap\n", 1, None, "repeated column(s) cap"),
        (HEADER + "A,1,2,3,L1\nB,1,2,3\n", 3, None, "expected 5 fields, got 4"),
        (HEADER + "A,1,2,3,L1\nB,1,2,3,L2,x\n", 3, None, "expected 5 fields, got 6"),
        (HEADER + "A,1,2,3,L1\n,1,2,3,L2\n", 3, "retailer", "must not be empty"),
        (HEADER + "A,x,2,3,L1\n", 2, "points", "'x' is not a whole number"),
        (HEADER + "A,1.5,2,3,L1\n", 2, "points", "'1.5' is not a whole number"),
        (HEADER + "A,,2,3,L1\n", 2, "points", "'' is not a whole number"),
        (HEADER + "A,-1,2,3,L1\n", 2, "points", "must not be negative, got -1"),
        (HEADER + "A,1,2,3,L1\nB,1,-2,3,L2\n", 3, "cap", "must not be negative, got -2"),
        (HEADER + "A,1,٣,3,L1\n", 2, "cap", "'٣' is not a whole number"),
        (HEADER + "A,1,2,6,L1\n", 2, "star", "'6' is not a star rating"),
        (HEADER + "A,1,2,0,L1\n", 2, "star", "'0' is not a star rating"),
        (HEADER + "A,1,2,3,\n", 2, "licence", "must not be empty"),
        (
            HEADER + "A,1,2,3,L1\nB,1,2,3,L2\nA,1,2,3,L3\n",
            4,
            "retailer",
            "duplicate retailer 'A' (first on row 2)",
        ),
        (
            HEADER + "A,1,2,3,L1\nB,1,2,3,L1\n",
            3,
            "licence",
            "duplicate licence 'L1' (first on row 2)",
        ),
    ],
)
def test_bad_input_names_the_row_and_column_and_writes_nothing(text, row, column, message):
    out = io.StringIO()

    with pytest.raises(SimulationError) as caught:
        simulate_csv(io.StringIO(text, newline=""), out, supply=10)

    where = f"row {row}" if column is None else f"row {row}, column {column}"
    assert str(caught.value).startswith(f"{where}: ")
    assert message in str(caught.value)
    assert (caught.value.row, caught.value.column) == (row, column)
    assert out.getvalue() == ""


def test_bad_settings_are_value_errors_and_write_nothing():
    out = io.StringIO()

    with pytest.raises(ValueError, match="unit must be at least 1"):
        simulate_csv(io.StringIO(DESIGN_EXAMPLE, newline=""), out, supply=10, unit=0)

    assert out.getvalue() == ""


def test_simulation_error_is_a_value_error():
    # The command turns every ValueError into a CommandError.
    assert issubclass(SimulationError, ValueError)
