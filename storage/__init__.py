from storage.blobs import BlobInfo, BlobStore, LocalBlobStore, TooLarge, open_store

__all__ = ["BlobInfo", "BlobStore", "LocalBlobStore", "TooLarge", "open_store"]
