import pytest

from tests.factories.publicity import signed_world


@pytest.fixture
def w(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    """A tender whose evaluation report every member signed (tests/factories/publicity.py)."""
    return signed_world(db, make, blobs, tmp_path)
