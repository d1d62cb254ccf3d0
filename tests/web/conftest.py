import pytest
from litestar import Litestar
from litestar.testing import TestClient

from web.app import create_app


@pytest.fixture
def app(settings, db) -> Litestar:  # type: ignore[no-untyped-def]
    """The app on the test database and settings."""
    return create_app(settings)


@pytest.fixture
def client(app: Litestar):  # type: ignore[no-untyped-def]
    """The app on the test database, through Litestar's test client."""
    with TestClient(app=app) as c:
        yield c
