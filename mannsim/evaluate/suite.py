"""eval's suite: the shipped programs and random machines of three distributions, each named by
an id from which :func:`machine_from_id` draws it again (``mannsim eval --rerun ID``)."""
from __future__ import annotations

import random
import re
from collections.abc import Iterable

from ..errors import MannsimError
from ..machine import Machine, load
from ..resources import data_dir
from ..safe_text import one_line
from ..train import data

DISTRIBUTIONS = ("training", "human", "large")
#: The default seed: never used in training (training seeds are small integers).
DEFAULT_SEED = 1_000_003
#: ``--rerun`` draws the machines before the one it names again (about 0.2 ms each).
MAX_INDEX = 1_000_000
_RANDOM_ID = re.compile(r"([a-z]+):(-?[0-9]{1,30}):([0-9]{1,12})", re.ASCII)

Suite = list[tuple[str, Machine]]


def random_machine(distribution: str, rng: random.Random) -> Machine:
    """One machine drawn from a named distribution (see :mod:`mannsim.evaluate`)."""
    if distribution == "training":
        return data.random_machine(rng)
    if distribution == "human":
        return data.human_machine(rng)
    if distribution == "large":
        return data.large_machine(rng)
    raise ValueError(f"unknown distribution {distribution!r} (choose from {', '.join(DISTRIBUTIONS)})")


def draw(distribution: str, seed: int, n: int) -> list[Machine]:
    """The first ``n`` machines eval draws from ``distribution`` with ``seed`` (one stream per
    (seed, distribution), so machine k is the same whatever ``n`` is)."""
    rng = random.Random(f"{seed}:{distribution}")
    return [random_machine(distribution, rng) for _ in range(n)]


def machine_id(suite: str, seed: int, index: int, name: str | None = None) -> str:
    """A machine's id on the card, exactly what ``mannsim eval --rerun`` takes:
    ``DIST:SEED:INDEX`` (the INDEX-th machine, from 0, of a distribution) or ``programs:NAME``."""
    return f"programs:{name}" if suite == "programs" else f"{suite}:{seed}:{index}"


def shipped_machines() -> Suite:
    """(name, machine) of every shipped program, by name."""
    base = data_dir("programs")
    return [(p.stem, load(str(p))) for p in sorted(base.glob("*.tm"))] if base else []


def machine_from_id(mid: str) -> tuple[str, Machine]:
    """(what the id names, in words; the machine), drawn again from its id (see
    :func:`machine_id`); a MannsimError for an id that names no machine."""
    text = str(mid).strip()
    if text.startswith("programs:"):
        name = text[len("programs:"):]
        found = dict(shipped_machines())
        if name not in found:
            raise MannsimError(f"no shipped program {one_line(name, 40)!r} (the programs suite has "
                               f"{', '.join(sorted(found)) or 'none'})")
        return f"shipped program {name}", found[name]
    m = _RANDOM_ID.fullmatch(text)
    if m is None or m.group(1) not in DISTRIBUTIONS:
        raise MannsimError(f"{one_line(mid, 60)!r} is not a machine id of mannsim eval "
                           "(DIST:SEED:INDEX, e.g. human:1000003:17, with DIST one of "
                           f"{', '.join(DISTRIBUTIONS)}; or programs:NAME)")
    dist, seed, index = m.group(1), int(m.group(2)), int(m.group(3))
    if index >= MAX_INDEX:
        raise MannsimError(f"machine index {index:,} is past --rerun's limit ({MAX_INDEX - 1:,})")
    return (f"machine {index} of the {dist} distribution, seed {seed}",
            draw(dist, seed, index + 1)[-1])


def suites(distributions: Iterable[str], n: int, seed: int = DEFAULT_SEED,
           programs: bool = True) -> list[tuple[str, Suite]]:
    """(suite name, [(machine id, machine)]) of an eval: the shipped programs, then ``n``
    machines of each distribution."""
    out: list[tuple[str, Suite]] = []
    if programs:
        out.append(("programs", [(machine_id("programs", seed, k, name), m)
                                 for k, (name, m) in enumerate(shipped_machines())]))
    for dist in distributions:
        out.append((dist, [(machine_id(dist, seed, k), m)
                           for k, m in enumerate(draw(dist, seed, n))]))
    return out
