from __future__ import annotations

import datetime as dt

from accounts.models import Grade, Role, User
from accounts.services import grade_evaluation_record
from config.demo import DemoContext

DEMO_USERS = (
    # username, full name, role, grade, superuser
    ("admin", "系统管理员", Role.ADMIN, "", True),
    ("supervisor", "王建国", Role.SUPERVISOR, "", False),
    ("manager", "李明", Role.ACCOUNT_MANAGER, Grade.SENIOR, False),
    ("manager2", "张伟", Role.ACCOUNT_MANAGER, Grade.JUNIOR, False),
)


def seed(ctx: DemoContext) -> None:
    for username, full_name, role, grade, superuser in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "role": role,
                "grade": grade,
                "is_staff": superuser,
                "is_superuser": superuser,
            },
        )
        if created or not user.check_password(ctx.password):
            user.set_password(ctx.password)
            user.save(update_fields=["password"])
            ctx.count("users" if created else "password changes")

    _seed_evaluations(ctx)


def _half_years_before(day: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The two half-years before the one holding ``day``, oldest first."""
    start = dt.date(day.year, 1 if day.month <= 6 else 7, 1)
    halves = []
    for _ in range(2):
        end = start - dt.timedelta(days=1)
        start = dt.date(end.year, 1 if end.month <= 6 else 7, 1)
        halves.append((start, end))
    return halves[::-1]


def _seed_evaluations(ctx: DemoContext) -> None:
    """Two half-yearly evaluations of ``manager`` by ``supervisor``: intermediate, then senior
    (DESIGN §2.6: grades with the evaluation record). Once."""
    manager = User.objects.filter(username="manager").first()
    supervisor = User.objects.filter(username="supervisor").first()
    if manager is None or supervisor is None or manager.evaluations.exists():
        return
    for (start, end), score, grade, notes in zip(
        _half_years_before(ctx.today),
        (78, 91),
        (Grade.INTERMEDIATE, Grade.SENIOR),
        ("拜访到位率 92%，电子结算推广良好。", "拜访到位率 98%，低焦油品牌培育超额完成。"),
        strict=True,
    ):
        grade_evaluation_record(
            manager=manager,
            by=supervisor,
            period_start=start,
            period_end=end,
            score=score,
            grade=grade,
            notes=notes,
        )
        ctx.count("grade evaluations")
