"""Tiny hostile files under a memory limit: each must be refused in seconds, within the limit.

Each file is given to ``mannsim`` in a child process whose address space is capped (RLIMIT_AS,
1.5 GiB); its wall time and peak resident memory (ru_maxrss) are measured, against the same
command on a valid program (``mannsim show programs/bb2.tm``) as the baseline. The worst
model answer found for the memory layer's parser (at the 4,096-character cap) is timed too.

The compact-trace bomb (issue "trust, round 3") is bb2's trace with 45 meta blocks of 64 MiB
each (four prompts of nearly 16 MiB, distinct and matching their hashes): about 109 KB on disk,
3.0 GB decompressed. Every command that reads a trace must refuse it from the block index
(``MAX_TRACE_META``); the reader before it took `trace stats` to 3 GB without a limit and
ended in a MemoryError traceback under this one.
"""
from __future__ import annotations

import hashlib
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1536 << 20


def _files(folder: Path) -> dict[str, list[str]]:
    levels = ["a: &a [x,x,x,x,x,x,x,x,x]"] + [
        f"{chr(98 + k)}: &{chr(98 + k)} [" + ",".join([f"*{chr(97 + k)}"] * 9) + "]"
        for k in range(8)]
    texts = {
        "head.tm": "head: 1000000000\nA 0 1 R B\nB 0 1 L A\n",
        "wide.tm": ("states: " + " ".join(f"q{i}" for i in range(3000)) + "\nsymbols: "
                    + " ".join(f"s{i}" for i in range(3000)) + "\nblank: s0\n* * * R *\n"),
        "bomb.yaml": "blank: '0'\nstart state: A\n" + "\n".join(levels) + "\ntable: {A: {'0': R}}\n",
        "wide.bitag": ("A: " + " ".join(f"a{i}" for i in range(3000)) + "\nE: e1 e2\nword: e1 a0\n"
                       + "".join(f"e1 a{i} -> a{i} e2\n" for i in range(3000))),
        "tape.tm": "tape: " + "1" * (15 << 20) + "\nA 1 1 R A\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text)
    bomb = _trace_bomb(folder)
    size, raw = bomb.stat().st_size, _meta_bytes(bomb)
    what = f"bomb.jsonl.zst ({size / 1000:.0f} KB, {raw / 1e9:.1f} GB of meta)"
    return {
        f"{what}: trace stats": ["trace", "stats", str(bomb)],
        f"{what}: trace show": ["trace", "show", str(bomb), "--steps", "3:3"],
        f"{what}: run --resume": ["run", "--resume", str(bomb)],
        f"{what}: decode --trace": ["decode", str(ROOT / "programs" / "bb2.tm"), "--trace",
                                    str(bomb)],
        "head.tm (30 bytes)": ["run", str(folder / "head.tm"), "-b", "symbolic"],
        "wide.tm (3,000 x 3,000 wildcard)": ["show", str(folder / "wide.tm")],
        "bomb.yaml (alias bomb)": ["run", str(folder / "bomb.yaml")],
        "wide.bitag (3,000 A symbols)": ["compile", str(folder / "wide.bitag"), "-o",
                                         str(folder / "out.tm")],
        "tape.tm (15 MB tape)": ["run", str(folder / "tape.tm"), "-b", "symbolic"],
        "baseline: show bb2.tm": ["show", str(ROOT / "programs" / "bb2.tm")],
    }


def _trace_bomb(folder: Path, blocks: int = 45) -> Path:
    """bb2's compact trace with ``blocks`` meta blocks of 64 MiB (decompressed) after its header."""
    import zstandard

    from mannsim.trace import compact
    clean = folder / "bb2.jsonl.zst"
    subprocess.run([sys.executable, "-m", "mannsim", "run", str(ROOT / "programs" / "bb2.tm"),
                    "-b", "symbolic", "--no-live", "--trace", str(clean)], check=True,
                   stdout=subprocess.DEVNULL)
    data = clean.read_bytes()
    cut = compact.scan_blocks(data, str(clean), [])[1].offset  # after the header block
    z = zstandard.ZstdCompressor(level=3)
    out = [data[:cut]]
    for b in range(blocks):
        lines = []
        for i in range(4):
            text = b"%08d" % (4 * b + i) + b"a" * (compact.MAX_BLOCK // 4 - 108)
            digest = hashlib.sha256(text).hexdigest()[:16].encode()
            lines.append(b'{"t":"prompt","hash":"' + digest + b'","text":"' + text + b'"}\n')
        raw = b"".join(lines)
        frame = z.compress(raw)
        out.append(struct.pack("<II", compact.SKIP_MAGIC, compact.BLOCK.size)
                   + compact.BLOCK.pack(compact.META, len(frame), len(raw), 4, 0, 0) + frame)
    out.append(data[cut:])
    bomb = folder / "bomb.jsonl.zst"
    bomb.write_bytes(b"".join(out))
    return bomb


def _meta_bytes(path: Path) -> int:
    from mannsim.trace import compact
    data = path.read_bytes()
    return sum(b.raw_size for b in compact.scan_blocks(data, str(path), [])
               if b.kind == compact.META)


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def _measure(args: list[str]) -> tuple[float, int, int]:
    """(wall seconds, the child's own peak RSS in KiB, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mannsim", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=_limit)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss, proc.returncode


def _worst_answer_ms() -> float:
    from mannsim.memory import Memory, MemoryError_, apply_answer
    worst = 0.0
    for unit in ('a="\n', 'a="\n\n', 'a="x\n', '-="\n', 'a="b" ', "i+=1 "):
        text = (unit * (4096 // len(unit) + 1))[:4096]
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            try:
                apply_answer(text, Memory({"i": "0"}, default="0"))
            except MemoryError_:
                pass
            best = min(best, time.perf_counter() - t0)
        worst = max(worst, best)
    return worst * 1000


def bench() -> dict:
    out: dict = {"name": "tiny hostile files under a 1.5 GiB address-space limit"}
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for label, args in _files(Path(tmp)).items():
            wall, peak_kib, code = _measure(args)
            refused = code == 2 or label.startswith("baseline")
            ok &= refused and wall < 20
            out[label] = f"exit {code}, {wall:.2f} s, peak RSS {peak_kib / 1024:.0f} MiB"
    out["worst parse of a 4,096-char answer"] = f"{_worst_answer_ms():.1f} ms"
    out["bar"] = "every hostile file refused (exit 2) within the limit, in under 20 s"
    out["pass"] = ok
    return out
