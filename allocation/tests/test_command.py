"""``manage.py simulate_allocation`` through Django: DESIGN §4's example, and bad files."""

import io

import pytest
from django.core.management import CommandError, call_command

from allocation import services
from allocation.models import AllocationLine
from allocation.tests.factories import make_world

EXAMPLE = (
    "retailer,points,cap,star,licence\nA,50,4,3,L-A\nB,30,4,3,L-B\nC,15,4,3,L-C\nD,5,4,3,L-D\n"
)


def simulate(tmp_path, text: str, *args: str) -> str:
    path = tmp_path / "candidates.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("simulate_allocation", str(path), *args, stdout=out)
    return out.getvalue()


def test_reproduces_the_worked_example(tmp_path):
    assert simulate(tmp_path, EXAMPLE, "--supply", "10", "--cycle", "2026-W48") == (
        "retailer,points,cap,quota,award\nA,50,4,4,4\nB,30,4,3.6,4\nC,15,4,1.8,2\nD,5,4,0.6,0\n"
    )


@pytest.mark.django_db
def test_matches_a_database_run_of_the_same_inputs(tmp_path):
    """What-if answers come from the same code as the real runs: same awards, any row order."""
    world = make_world()
    shops = {
        name: world.retailer(points=p, name=name)
        for name, p in zip("DBAC", (5, 30, 50, 15), strict=False)
    }
    world.points()
    supply = world.supply(quantity=10, minimum=1)
    run, _created = services.allocation_run_request(
        supply=supply, by=world.supervisor, enqueue=False
    )
    services.allocation_run_compute(run_id=run.pk)
    rows = "".join(
        f"{name},{p},4,3,{shops[name].licence_number}\n"
        for name, p in (("D", 5), ("B", 30), ("A", 50), ("C", 15))
    )
    out = simulate(
        tmp_path,
        "retailer,points,cap,star,licence\n" + rows,
        "--supply",
        "10",
        "--minimum",
        "1",
        "--cycle",
        world.cycle.code,
    )
    assert out.splitlines()[1:] == ["D,5,4,1.3,1", "B,30,4,2.8,3", "A,50,4,4,4", "C,15,4,1.9,2"]
    database = dict(AllocationLine.objects.filter(run=run).values_list("retailer__name", "award"))
    assert database == {"D": 1, "B": 3, "A": 4, "C": 2}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "retailer,points,cap,star,licence\nA,50,4,3,L-A\nB,lots,4,3,L-B\n",
            "row 3, column points",
        ),
        ("retailer,points,cap,star,licence\nA,50,-4,3,L-A\n", "row 2, column cap"),
        ("retailer,points,cap,star,licence\nA,50,4,9,L-A\n", "row 2, column star"),
        ("retailer,points,cap,star,licence\nA,50,4,3\n", "row 2"),
        ("retailer,points,cap,star,licence\nA,50,4,3,L-A\nA,5,4,3,L-B\n", "row 3, column retailer"),
        ("retailer,points,star,licence\nA,50,3,L-A\n", "row 1"),
        ("", "row 1"),
    ],
)
def test_a_malformed_file_is_a_command_error_naming_the_row(tmp_path, text, where):
    with pytest.raises(CommandError, match=where):
        simulate(tmp_path, text, "--supply", "10")


def test_bad_options_and_a_missing_file_are_command_errors(tmp_path):
    with pytest.raises(CommandError, match="supply must not be negative"):
        simulate(tmp_path, EXAMPLE, "--supply", "-1")
    with pytest.raises(CommandError, match="unit must be at least 1"):
        simulate(tmp_path, EXAMPLE, "--supply", "10", "--unit", "0")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("simulate_allocation", str(tmp_path / "missing.csv"), "--supply", "1")
