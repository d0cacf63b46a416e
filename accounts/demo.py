from __future__ import annotations

from accounts.models import Grade, Role, User
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
