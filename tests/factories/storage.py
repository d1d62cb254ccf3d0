"""Blob stores for tests: the part size of the contract tests, and a minio client for moto's S3 server."""

from __future__ import annotations

PART_LIMIT = 64 * 1024  # small parts keep the contract tests fast; test_s3.py also covers 5 MiB parts


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    """The real minio client on moto's S3 server at `endpoint` (host:port), with moto's test credentials."""
    from minio import Minio

    return Minio(endpoint, access_key="testing", secret_key="testing", secure=False, region="us-east-1")
