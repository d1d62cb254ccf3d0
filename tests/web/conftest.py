import pytest
from litestar.testing import TestClient

from web.app import create_app


@pytest.fixture
def client(settings, db):
    """The app on the test database, through Litestar's test client."""
    with TestClient(app=create_app(settings)) as c:
        yield c
