"""Both blob stores for the contract tests: the local one on a temporary directory, the S3 one against moto's
S3 server on loopback, reached through the real minio client (a fresh bucket per test)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from storage.local import LocalBlobStore
from tests.support import missing_service

PART_LIMIT = 64 * 1024  # small parts keep the contract tests fast; test_s3.py also covers 5 MiB parts


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        missing_service(f"moto[server] is not installed ({e}); pip install -r requirements.lock")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    from minio import Minio

    return Minio(endpoint, access_key="testing", secret_key="testing", secure=False, region="us-east-1")


@pytest.fixture
def s3_store(s3_endpoint: str):  # type: ignore[no-untyped-def]
    from storage.s3 import S3BlobStore

    return S3BlobStore(s3_client(s3_endpoint), f"test-{uuid.uuid4().hex[:12]}", part_limit=PART_LIMIT)


@pytest.fixture(params=["file", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "file":
        return LocalBlobStore(tmp_path / "blobs", part_limit=PART_LIMIT)
    return request.getfixturevalue("s3_store")
