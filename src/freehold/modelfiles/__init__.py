"""Model files on disk: pulling GGUF files over HTTP(S) (resumable, verified), the catalogue
of short names, and reading what a GGUF file holds from its header.

A stage package of its own: it imports only ``core`` and ``config``. GGUF headers are read
by freehold itself (``gguf_header``), with no optional dependency.
"""

from freehold.modelfiles.catalog import (
    CatalogEntry,
    CatalogError,
    UnknownModel,
    default_models_dir,
    load_catalog,
    lookup,
)
from freehold.modelfiles.download import (
    Downloaded,
    DownloadError,
    IntegrityError,
    ProgressCallback,
    download,
    fetch,
)
from freehold.modelfiles.gguf_info import GGUFInfo, read_info, scan

__all__ = [
    "CatalogEntry",
    "CatalogError",
    "DownloadError",
    "Downloaded",
    "GGUFInfo",
    "IntegrityError",
    "ProgressCallback",
    "UnknownModel",
    "default_models_dir",
    "download",
    "fetch",
    "load_catalog",
    "lookup",
    "read_info",
    "scan",
]
