from storage.blobs import (
    BlobInfo,
    BlobStore,
    LocalBlobStore,
    PartInfo,
    PartsMissing,
    TooLarge,
    UploadNotFound,
    open_store,
)

__all__ = ["BlobInfo", "BlobStore", "LocalBlobStore", "PartInfo", "PartsMissing", "TooLarge", "UploadNotFound", "open_store"]
