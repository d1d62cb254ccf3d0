import pytest

from core import tasks
from core.settings import Settings
from storage import open_store
from storage.local import LocalBlobStore


@pytest.fixture
def store(settings: Settings) -> LocalBlobStore:
    """The app's blob store on the test settings, with the tasks configured for them: the decrypt task opens
    its own unit of work on the test database and this store (the opening's and no-early-opening tests)."""
    tasks.configure(settings)
    return open_store(settings)  # type: ignore[return-value]
