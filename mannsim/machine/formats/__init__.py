"""Machine file formats: detection, loading and writing.

| format     | extension      | module     |
|------------|----------------|------------|
| ``tm``     | ``.tm``        | native     |
| ``std``    | ``.txt``/arg   | standard   |
| ``morphett`` | ``.morphett``/``.mt`` | morphett |
| ``yaml``   | ``.yaml``/``.yml`` | tmio (turingmachine.io) |
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ...errors import FormatError, MachineError
from ...limits import MAX_FILE_BYTES
from ...resources import find_program
from ..model import Machine
from . import morphett, native, standard, tmio

FORMATS = {
    "tm": (native.parse, native.dump),
    "std": (standard.parse, standard.dump),
    "morphett": (morphett.parse, morphett.dump),
    "yaml": (tmio.parse, tmio.dump),
}
EXTENSIONS = {
    ".tm": "tm", ".std": "std", ".bb": "std", ".morphett": "morphett", ".mt": "morphett",
    ".yaml": "yaml", ".yml": "yaml",
}
FORMAT_NAMES = tuple(FORMATS)


def detect(path: str, text: str) -> str:
    ext = Path(path).suffix.lower()
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    if standard.looks_like(text):
        return "std"
    stripped = text.lstrip()
    if any(line.startswith(("table:", "start state:", "blank:")) for line in stripped.splitlines()):
        return "yaml"
    return "tm"


def parse(text: str, fmt: str, path: str | None = None) -> Machine:
    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})", path)
    try:
        return FORMATS[fmt][0](text, path)
    except MachineError as e:
        raise e.located(path) from None


def dump(machine: Machine, fmt: str) -> str:
    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return FORMATS[fmt][1](machine)


def load(spec: str, fmt: str | None = None) -> Machine:
    """Load a machine from a file path, or from a standard-format string given in its place."""
    if not os.path.exists(spec) and standard.looks_like(spec):
        return standard.parse(spec, None).replace(name=spec)
    if not os.path.exists(spec):
        found = find_program(spec)
        if found is None and re.fullmatch(r"[0-9A-Z_-]{3,}", spec) and re.search(r"[LR]", spec):
            standard.parse(spec, spec)  # almost a standard-format machine: say what is wrong
        spec = found or spec
    try:
        size = os.path.getsize(spec)
        if size > MAX_FILE_BYTES:
            raise FormatError(f"file is larger than {MAX_FILE_BYTES} bytes", spec)
        with open(spec, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FormatError("no such file, shipped program (see `mannsim programs`) or "
                          "standard-format machine like 1RB1LB_1LA1RZ", spec) from None
    except IsADirectoryError:
        raise FormatError("is a directory, not a machine file", spec) from None
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror}", spec) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise FormatError("not UTF-8 text", spec, line) from None
    if "\x00" in text:
        raise FormatError("binary data (NUL byte) in a machine file", spec,
                          text[: text.index("\x00")].count("\n") + 1)
    return parse(text, fmt or detect(spec, text), spec)
