"""Writing the files a command is asked to write: one error line instead of a traceback."""
from __future__ import annotations

import os

from ..errors import MannsimError


def check_output(path: str) -> None:
    """Refuse an output path whose folder is missing or not writable, before any work."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise MannsimError("cannot write: the folder does not exist", path)
    if os.path.isdir(path):
        raise MannsimError("cannot write: is a folder", path)
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise MannsimError("cannot write: permission denied", path)


def write_text(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise MannsimError(f"cannot write: {e.strerror}", path) from None
