"""Blob storage: the `BlobStore` protocol and its helpers (storage.base), the local-filesystem store
(storage.local, the default) and the S3 store (storage.s3). open_store() picks one from the settings."""

from __future__ import annotations

from core.settings import Settings
from storage.base import (
    BlobInfo,
    BlobStore,
    PartInfo,
    PartsMissing,
    TooLarge,
    UploadNotFound,
    put_file,
    read_all,
)
from storage.local import LocalBlobStore

__all__ = [
    "BlobInfo",
    "BlobStore",
    "LocalBlobStore",
    "PartInfo",
    "PartsMissing",
    "TooLarge",
    "UploadNotFound",
    "open_store",
    "put_file",
    "read_all",
]


def open_store(settings: Settings) -> BlobStore:
    if settings.blob_store == "file":
        return LocalBlobStore(settings.blob_dir, part_limit=settings.upload_part_bytes)
    if settings.blob_store == "s3":
        from storage.s3 import S3BlobStore

        return S3BlobStore.from_settings(settings)
    raise ValueError(f"unknown blob store {settings.blob_store!r} (ETENDER_BLOB_STORE: file or s3)")
