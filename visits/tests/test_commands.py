import io

import pytest
from django.core.management import CommandError, call_command

from visits.models import VisitPlan

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("plan_visits", *args, stdout=out)
    return out.getvalue()


def test_plan_visits_command(world):
    output = run("--cycle", world.c1.code, "--district", world.district.code)
    count = VisitPlan.objects.filter(cycle=world.c1).count()
    assert f"Cycle {world.c1.code}: {count} visits planned." in output
    assert "0 visits planned" in run("--cycle", world.c1.code, "--district", world.district.code)


def test_plan_visits_command_today(demo):
    assert "0 visits planned" in run()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--cycle", "1999-W01"], "no cycle with code"), (["--district", "NOPE"], "unknown code")],
)
def test_plan_visits_command_bad_input(demo, args, message):
    before = VisitPlan.objects.count()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert VisitPlan.objects.count() == before
