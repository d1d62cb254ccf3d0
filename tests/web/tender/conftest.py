import pytest

from tests.factories.notices import World


@pytest.fixture
def world(db, make, settings) -> World:  # type: ignore[no-untyped-def]
    """The public site's world (tests/factories/notices.py): the notice pages' and the notice API's tests."""
    return World(db, make, settings)
