"""Errors that reach the user as one line: ``file:line: problem``."""
from __future__ import annotations

import os

#: Exit code of an error in what the user gave: a file, an option, a missing setting.
EXIT_BAD_INPUT = 2
#: Exit code of a backend that failed while answering: a server that is unreachable, times
#: out, keeps failing or sends a malformed or refused response.
EXIT_BACKEND = 3


class MannsimError(Exception):
    """Base class of every error mannsim reports to a user without a traceback; the command
    line exits with its ``exit_code``."""

    exit_code: int = EXIT_BAD_INPUT

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        elif self.line:
            where = f"line {self.line}: "
        return f"{where}{self.message}"

    def located(self, path: str | None) -> MannsimError:
        """Return this error with ``path`` filled in when it had none."""
        if self.path is None and path is not None:
            self.path = path
        return self


class MachineError(MannsimError):
    """An invalid machine or machine file."""


class FormatError(MachineError):
    """A file that does not parse in its format."""


def read_bounded(path: str | os.PathLike[str], limit: int,
                 error: type[MannsimError] = MannsimError,
                 what: str = "") -> bytes:
    """The bytes of the file at ``path``, at most ``limit`` of them: a file that cannot be read,
    or is larger, is ``error`` (one line naming the file; ``what`` names what it should be)."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise error(f"cannot read: {e.strerror}", str(path)) from None
    if len(data) > limit:
        raise error(f"larger than {limit} bytes" + (f": not {what}" if what else ""), str(path))
    return data
