"""Both blob stores for the contract tests: the local one on a temporary directory, the S3 one against moto's
S3 server on loopback, reached through the real minio client (a fresh bucket per test; `s3_store` and its
server are in tests/conftest.py, shared with the submission tests)."""

from __future__ import annotations

import pytest

from storage.local import LocalBlobStore
from tests.factories.storage import PART_LIMIT


@pytest.fixture(params=["file", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "file":
        return LocalBlobStore(tmp_path / "blobs", part_limit=PART_LIMIT)
    return request.getfixturevalue("s3_store")
