import pytest

from tests.factories.room import room_world


@pytest.fixture
def r(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    """The room's world (tests/factories/room.py): evaluating, committee confirmed, session booked."""
    return room_world(db, make, blobs, tmp_path)
