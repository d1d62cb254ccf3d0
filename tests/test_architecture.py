"""design.md: web -> marketplace, evaluation -> tender -> audit, storage -> core; only web imports Litestar."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_direction_contracts_hold():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_alembic_folder_is_not_a_package():
    assert not (ROOT / "alembic" / "__init__.py").exists()
