"""design.md: web -> marketplace, evaluation -> tender -> audit, storage -> core; only web imports Litestar;
audit's tables (audit.log, audit.tree, audit.checkpoints) are private to it."""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def test_import_direction_contracts_hold():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken" in result.stdout


def test_alembic_folder_is_not_a_package():
    assert not (ROOT / "alembic" / "__init__.py").exists()


# ---------------------------------------------------------------- tests import builders, never other tests


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imported_names(path: Path) -> Iterator[tuple[int, str]]:
    """Every module `path` may import, as (line, dotted name), imports inside functions included: for
    `from a import b` both a and a.b (b may be a module), importlib.import_module / __import__ with a literal,
    and pytest_plugins."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path).split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            parts = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join([*parts, *([node.module] if node.module else [])])
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in node.targets
        ):
            values = node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    yield node.lineno, value.value


def test_no_test_module_is_imported():
    """A test module is never imported, by another test module or by anything else under tests/ (which would
    only pass it on): what tests share is in tests/factories/ or a helper module, fixtures in a
    conftest.py."""
    test_modules = {_module_name(p) for p in TESTS.rglob("test_*.py")}
    assert "tests.test_architecture" in test_modules  # the walk sees the test modules
    found = sorted(
        {
            f"{p.relative_to(ROOT)}:{line} imports {name}"
            for p in TESTS.rglob("*.py")
            for line, name in _imported_names(p)
            if name in test_modules
        }
    )
    assert not found, (
        "test modules imported (move what they share to tests/factories/ or a conftest.py):\n"
        + ("\n".join(found))
    )
