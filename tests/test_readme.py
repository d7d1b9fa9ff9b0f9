"""The README cannot drift: every command of its tour runs, from a wheel of this checkout, in an
empty folder, and prints the numbers its comment states; the ``--json`` keys it lists are the
keys each kind of backend prints."""
import json
import os
import re
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text()


def tour() -> list[tuple[str, str]]:
    """(command, comment) for every line of the README's tour block."""
    block = README.split("## A tour of the CLI", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = []
    for line in block.splitlines():
        command, _, comment = line.partition("  #")
        if command.strip():
            lines.append((command.strip(), comment.strip()))
    return lines


def stated(comment: str) -> list[str]:
    """What a comment promises the output holds: its numbers (``39,065``, ``1110``; not the 15
    of ``U15,2``) and its standard-format machines (``1RB1LB_1LA0LC_…``)."""
    numbers = re.findall(r"(?<![\w.,:-])\d[\d,]*\d(?![\w])|(?<![\w.,:-])\d(?![\w,.:])", comment)
    machines = re.findall(r"\b[0-9A-Z_\-]*[0-9][A-Z][0-9A-Z_\-]{4,}\b", comment)
    return numbers + machines


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A `mannsim` command on PATH that runs the package of a wheel built from this checkout
    (the package alone: no source tree beside it), with this interpreter's dependencies."""
    where = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(where), str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    site = where / "site"
    zipfile.ZipFile(next(where.glob("mannsim-*.whl"))).extractall(site)
    bin_dir = where / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "mannsim"
    exe.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(site)!r})\n"
                   "from mannsim.cli import main\nmain()\n")
    exe.chmod(0o755)
    return bin_dir, site


@pytest.fixture(scope="module")
def server():
    from servers import HostileServer
    s = HostileServer("ok")
    yield s
    s.stop()


def test_the_tour_runs_from_an_installed_wheel_and_prints_what_it_states(installed, server,
                                                                          tmp_path):
    bin_dir, site = installed
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               HF_HUB_OFFLINE="1", OPENAI_API_KEY="sk-dummy")
    env.pop("OPENAI_BASE_URL", None)
    commands = tour()
    assert len(commands) >= 20
    for command, comment in commands:
        line = command.replace("http://127.0.0.1:8000/v1", server.url).replace("NAME", "m")
        out = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=900)
        text = out.stdout + out.stderr
        assert out.returncode == 0, f"{command}\n{text[-3000:]}"
        assert "Traceback" not in text, command
        for fact in stated(comment):
            assert fact in text, f"{command}: the README says {fact!r}\n{text[-3000:]}"
    # the tour ran the wheel's package, not the checkout's
    probe = subprocess.run(["mannsim", "programs"], env=env, cwd=tmp_path, capture_output=True,
                           text=True)
    assert probe.returncode == 0 and (site / "mannsim" / "programs" / "u15_2.tm").is_file()


def test_the_tour_names_programs_that_work_outside_a_checkout():
    for command, _ in tour():
        assert "programs/" not in command, command


def json_keys(kind: str) -> list[str]:
    """The `--json` keys the README lists for ``kind`` ("every run" or "Backend runs add")."""
    section = README.split("`--json` prints one object", 1)[1].split("\n\n", 1)[0]
    part = section.split(kind, 1)[1].split(":", 1)[1].split(".", 1)[0]
    return re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", part))  # not the values in (…)


@pytest.mark.parametrize("backend", ["reference", "symbolic"])
def test_the_json_keys_are_those_the_readme_lists(backend, tmp_path):
    from helpers import run_cli
    every, added = json_keys("every run"), json_keys("Backend runs add")
    assert len(every) >= 10 and len(added) >= 5
    out = json.loads(run_cli(["run", "bb2", "-b", backend, "--json"], check=True).stdout)
    expected = set(every) | (set(added) if backend != "reference" else set())
    assert set(out) == expected


def test_stated_reads_numbers_and_machines():
    assert stated("reference simulator: 39,065 steps, halts in J") == ["39,065"]
    assert stated("U15,2 runs 29 prompts: 1RB1LB_1LA0LC_1RZ1LD_1RD0RA") == [
        "29", "1RB1LB_1LA0LC_1RZ1LD_1RD0RA"]
    assert stated("read bb2's tape back: 1111, match") == ["1111"]
