"""Prompt dialects: data folders under ``prompts/`` (shipped inside the wheel)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import tomllib

from ..errors import MannsimError, read_bounded
from ..resources import data_dirs

if TYPE_CHECKING:
    from .shape import Shape

#: Where dialect folders are looked for: inside the installed package, then the source tree.
SEARCH_PATH = data_dirs("prompts")
#: The dialect a run, verify, prompts, views and the symbolic CPU use when none is named.
DEFAULT_DIALECT = "schuurmans"
FIELDS = ("instruction", "default_line", "override_line", "step", "halt", "halt_named",
          "move_left", "move_right", "move_stay", "answer")


#: The placeholders each template must hold (the shape's grammar reads them back).
REQUIRED = {"instruction": ("{lines}",), "default_line": ("{result}",),
            "override_line": ("{result}", "{symbol}", "@[@[i]]"), "answer": ("{result}",)}


@dataclass(frozen=True)
class Dialect:
    name: str
    summary: str
    boot: str
    templates: dict[str, str]
    stop: tuple[str, ...]
    path: str
    digest: str = field(default="")

    def fmt(self, key: str, **values: object) -> str:
        return self.templates[key].format(**values)

    @cached_property
    def shape(self) -> Shape:
        """The instruction grammar these templates define, for reading text back."""
        from .shape import Shape
        return Shape(self.templates)


def available() -> list[str]:
    names: set[str] = set()
    for base in SEARCH_PATH:
        if base.is_dir():
            names.update(p.name for p in base.iterdir() if (p / "dialect.toml").is_file())
    return sorted(names)


_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.ASCII)
#: Largest dialect.toml or boot file read (bytes).
MAX_DIALECT_BYTES = 1 << 20


def load_dialect(name: str, allow_path: bool = True) -> Dialect:
    """Load a dialect by name (a folder under prompts/) or, when ``allow_path`` (a name the
    user typed), by a path to its folder. Names read from files (traces, certificates) are
    loaded with ``allow_path=False``: only a shipped dialect, never a path from the file."""
    if not isinstance(name, str):
        raise MannsimError("a dialect name must be a string")
    folder = Path(name) if allow_path else None
    if folder is None or not (folder / "dialect.toml").is_file():
        shipped = _NAME.fullmatch(name) is not None
        folder = next((b / name for b in SEARCH_PATH
                       if shipped and (b / name / "dialect.toml").is_file()), None)
        if folder is None:
            raise MannsimError(f"unknown dialect {_shown(name)} (available: "
                               f"{', '.join(available())})")
    spec_path = folder / "dialect.toml"
    raw = _read(spec_path)
    try:
        spec = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MannsimError(f"invalid dialect file: {e}", str(spec_path)) from None
    missing = [k for k in FIELDS + ("boot",) if k not in spec]
    if missing:
        raise MannsimError(f"dialect misses {missing[0]!r}", str(spec_path))
    if not isinstance(spec["boot"], str) or not all(isinstance(spec[k], str) for k in FIELDS):
        raise MannsimError("dialect fields must be strings", str(spec_path))
    for key, needs in REQUIRED.items():
        missing = [n for n in needs if n not in spec[key]]
        if missing:
            raise MannsimError(f"dialect field {key!r} must contain {missing[0]}", str(spec_path))
    if spec["default_line"].startswith(("{", "@[")):
        raise MannsimError("dialect field 'default_line' must start with fixed text (it marks "
                           "where an instruction begins)", str(spec_path))
    boot_bytes = b""
    if spec["boot"]:
        boot_path = (folder / spec["boot"]).resolve()
        if Path(spec["boot"]).is_absolute() or folder.resolve() not in boot_path.parents:
            raise MannsimError("'boot' must name a file inside the dialect's folder",
                               str(spec_path))
        boot_bytes = _read(boot_path)
    try:
        boot = boot_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise MannsimError("the boot is not UTF-8 text", str(folder / spec["boot"])) from None
    if "@" in boot:
        raise MannsimError("a boot must not contain '@' (it would be rendered again)",
                           str(folder / spec["boot"]))
    for key in FIELDS:
        # A prompt may read MEMORY only through the boot and the head cell: then it is a
        # function of (state, symbol under the head), which is what verify asks (the theorem's
        # first step). A template reading any other key (@[1], @[i]) would show the run prompts
        # verify never asked.
        if "@" in spec[key].replace("@[boot]", "").replace("@[@[i]]", ""):
            raise MannsimError(f"dialect field {key!r} reads MEMORY other than @[boot] and the "
                               "head cell @[@[i]]: its prompts would depend on more than the "
                               "state and the symbol read", str(spec_path))
    for key in ("default_line", "override_line", "answer"):
        for placeholder in REQUIRED[key]:
            if spec[key].count(placeholder) > 1:
                raise MannsimError(f"dialect field {key!r} holds {placeholder} more than once",
                                   str(spec_path))
    digest = hashlib.sha256(raw + b"\0" + boot_bytes).hexdigest()
    dialect = Dialect(name=spec.get("name", folder.name), summary=spec.get("summary", ""),
                      boot=boot, templates={k: spec[k] for k in FIELDS},
                      stop=tuple(spec.get("stop", ["\n"])), path=str(folder), digest=digest)
    try:
        _ = dialect.shape  # the grammar read back: built now, so a bad template fails here
    except (re.error, KeyError, ValueError) as e:
        raise MannsimError(f"dialect templates cannot be read back: {e}", str(spec_path)) from None
    return dialect


@lru_cache(maxsize=16)
def shipped_dialect(name: object, digest: object) -> Dialect | None:
    """The shipped dialect a file (a trace, a certificate) names, when it has the digest the
    file records; None otherwise. The one place a recorded dialect is looked up: never a path
    from the file, never a dialect that differs from the one the file was written with."""
    if not isinstance(name, str) or not isinstance(digest, str):
        return None
    try:
        dialect = load_dialect(name, allow_path=False)
    except MannsimError:
        return None
    return dialect if dialect.digest == digest else None


def _shown(name: str) -> str:
    return repr(name[:60])


def _read(path: Path) -> bytes:
    return read_bounded(path, MAX_DIALECT_BYTES)
