"""Prompt dialects: data folders under ``prompts/`` (shipped inside the wheel)."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MannsimError

_HERE = Path(__file__).resolve().parent.parent
#: Where dialect folders are looked for: inside the installed package, then the source tree.
SEARCH_PATH = (_HERE / "prompts", _HERE.parent / "prompts")
FIELDS = ("instruction", "default_line", "override_line", "step", "halt", "halt_named",
          "move_left", "move_right", "move_stay", "answer")


@dataclass(frozen=True)
class Dialect:
    name: str
    summary: str
    boot: str
    templates: dict[str, str]
    stop: tuple[str, ...]
    path: str
    digest: str = field(default="")

    def fmt(self, key: str, **values) -> str:
        return self.templates[key].format(**values)


def available() -> list[str]:
    names = set()
    for base in SEARCH_PATH:
        if base.is_dir():
            names.update(p.name for p in base.iterdir() if (p / "dialect.toml").is_file())
    return sorted(names)


def load_dialect(name: str) -> Dialect:
    """Load a dialect by name (a folder under prompts/) or by a path to its folder."""
    folder = Path(name)
    if not (folder / "dialect.toml").is_file():
        folder = next((b / name for b in SEARCH_PATH if (b / name / "dialect.toml").is_file()), None)
        if folder is None:
            raise MannsimError(f"unknown dialect {name!r} (available: {', '.join(available())})")
    spec_path = folder / "dialect.toml"
    raw = spec_path.read_bytes()
    try:
        spec = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MannsimError(f"invalid dialect file: {e}", str(spec_path)) from None
    missing = [k for k in FIELDS + ("boot",) if k not in spec]
    if missing:
        raise MannsimError(f"dialect misses {missing[0]!r}", str(spec_path))
    boot_bytes = (folder / spec["boot"]).read_bytes() if spec["boot"] else b""
    boot = boot_bytes.decode("utf-8")
    if "@" in boot:
        raise MannsimError("a boot must not contain '@' (it would be rendered again)",
                           str(folder / spec["boot"]))
    digest = hashlib.sha256(raw + b"\0" + boot_bytes).hexdigest()
    return Dialect(name=spec.get("name", folder.name), summary=spec.get("summary", ""), boot=boot,
                   templates={k: spec[k] for k in FIELDS}, stop=tuple(spec.get("stop", ["\n"])),
                   path=str(folder), digest=digest)
