"""The files shipped with mannsim (programs, dialects, the model), found the same way from a
source checkout and from an installed wheel (where they live inside the package)."""
from __future__ import annotations

import re
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
#: Program files by extension, in the order a bare name is tried.
PROGRAM_EXTENSIONS = (".tm", ".bitag", ".yaml", ".yml", ".morphett", ".mt", ".std")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*", re.ASCII)


def data_dirs(name: str) -> tuple[Path, ...]:
    """Where ``programs``, ``prompts`` or ``models`` are looked for, in order: inside the
    installed package, then the source tree (the one lookup every shipped file goes through)."""
    return tuple(b for b in (_PACKAGE / name, _PACKAGE.parent / name) if b.is_dir())


def data_dir(name: str) -> Path | None:
    """The first of :func:`data_dirs`, or None."""
    dirs = data_dirs(name)
    return dirs[0] if dirs else None


def model_dir(name: str) -> Path:
    """A model shipped inside the package (``mannsim-tiny``: the embedded default)."""
    return _PACKAGE / "models" / name


def find_program(name: str) -> str | None:
    """The path of a shipped program called ``name`` (``u15_2``, ``bb2.tm``,
    ``bitag/parity``, ``compiled/bb2.u15_2``), or None."""
    base = data_dir("programs")
    if base is None or not _NAME.fullmatch(name) or ".." in name:
        return None
    for candidate in [name] + [name + ext for ext in PROGRAM_EXTENSIONS]:
        path = base / candidate
        if path.is_file():
            return str(path)
    return None


def list_programs() -> list[tuple[str, str]]:
    """(name to type, path) of every shipped program, sorted by name."""
    base = data_dir("programs")
    if base is None:
        return []
    out = []
    for path in sorted(base.rglob("*")):
        if path.is_file() and path.suffix in PROGRAM_EXTENSIONS:
            rel = path.relative_to(base).as_posix()
            out.append((rel[:-3] if path.suffix == ".tm" else rel, str(path)))
    return out


def resolve(spec: str) -> str:
    """``spec`` itself when it names a file, else the shipped program of that name (else
    ``spec`` unchanged, for the caller's own error)."""
    if Path(spec).exists():
        return spec
    return find_program(spec) or spec
