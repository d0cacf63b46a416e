import pytest


@pytest.fixture(autouse=True)
def _no_demo_rerating(request):
    """Re-rating tests count proposals and thresholds of their own: the demo's (seeded once
    for the session) are removed inside each test's transaction."""
    if "db" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    if request.node.get_closest_marker("browser"):
        return
    request.getfixturevalue("db")
    from retailers.models import RatingProposal, RatingThreshold

    RatingProposal.objects.all().delete()
    RatingThreshold.objects.all().delete()
