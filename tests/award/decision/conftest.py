import pytest

from tests.factories.award import award_world


@pytest.fixture
def a(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    """The award's world (tests/factories/award.py): the candidates published, the publicity running."""
    return award_world(db, make, blobs, tmp_path)
