"""The apps import only leftwards (DESIGN §3); the allocation rule imports no Django."""

import ast
from pathlib import Path

from django.conf import settings

ORDER = ["accounts", "catalog", "territory", "retailers", "settlement", "allocation", "visits"]
RANK = {
    "accounts": 0,
    "catalog": 0,
    "territory": 1,
    "retailers": 2,
    "settlement": 3,
    "allocation": 4,
    "visits": 5,
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_apps_import_only_leftwards():
    root = Path(settings.BASE_DIR)
    wrong = []
    for app in ORDER:
        for path in (root / app).rglob("*.py"):
            for module in imported_modules(path):
                target = module.split(".")[0]
                if target in RANK and target != app and RANK[target] >= RANK[app]:
                    wrong.append(f"{path.relative_to(root)} imports {module}")
    assert wrong == []


def test_allocation_rule_is_pure():
    root = Path(settings.BASE_DIR) / "allocation"
    for name in ("rule.py", "simulate.py"):
        path = root / name
        if path.exists():
            modules = imported_modules(path)
            assert not any(m.split(".")[0] in ("django", "rest_framework") for m in modules), name
