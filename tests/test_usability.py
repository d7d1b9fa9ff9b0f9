"""Issue 13 (in part): input on the command line, shipped programs by name, output for pipes,
one meaning of `halted`, and messages that say how to fix things."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from conftest import PROGRAMS, ROOT
from helpers import mannsim, one_line_error


# -- input from the command line -------------------------------------------------------------
@pytest.mark.parametrize("backend", ["reference", "symbolic"])
def test_tape_head_and_state_on_the_command_line(backend):
    out = mannsim("run", "binary_increment", "--tape", "1101", "--head", "3", "-b", backend,
                  "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 0 and data["tape"] == "1110" and data["halted"]
    out = mannsim("run", PROGRAMS / "binary_increment.tm", "--tape", "111", "--head", "2",
                  "--state", "carry", "--json", "-b", backend)
    assert json.loads(out.stdout)["tape"] == "1000"


def test_bad_input_on_the_command_line_is_one_line():
    one_line_error(mannsim("run", "binary_increment", "--tape", "12"), "'2' is not a symbol")
    one_line_error(mannsim("run", "binary_increment", "--state", "nowhere"), "not a state")
    one_line_error(mannsim("run", "binary_increment", "--head", "x"), "must be an integer")
    one_line_error(mannsim("run", "binary_increment", "--head", "99999999"), "tape span cap")


def test_input_reaches_plot_compile_and_decode(tmp_path):
    assert mannsim("plot", "binary_increment", "--tape", "1011", "-o",
                   tmp_path / "p.png").returncode == 0
    compiled = tmp_path / "succ.tm"
    made = mannsim("compile", PROGRAMS / "compiled" / "unary_successor.tm", "--tape", "1",
                   "-o", compiled)
    assert made.returncode == 0, made.stderr
    out = mannsim("decode", PROGRAMS / "compiled" / "unary_successor.tm", "--tape", "1",
                  "--program", compiled, "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 0 and data["match"] and data["tape"].rstrip("0") == "11"
    other = mannsim("decode", PROGRAMS / "compiled" / "unary_successor.tm", "--program", compiled)
    one_line_error(other, "is not")  # the default input was not what was compiled


def test_a_resumed_run_keeps_its_input(tmp_path):
    trace = tmp_path / "t.jsonl"
    assert mannsim("run", "bb2", "-b", "symbolic", "--trace", trace).returncode == 0
    out = mannsim("run", "--resume", trace, "--tape", "1")
    assert out.returncode == 2 and "keeps the trace's input" in out.stderr


# -- shipped programs by name ----------------------------------------------------------------
def test_shipped_programs_run_by_name_and_are_listed():
    out = mannsim("run", "u15_2", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["steps"] == 39065
    listing = mannsim("programs").stdout.splitlines()
    names = [line.split()[0] for line in listing]
    assert {"u15_2", "bb2", "bitag/parity.bitag", "compiled/bb2.u15_2"} <= set(names)
    for name in names:  # every listed name runs (or compiles, for a bi-tag system)
        if name.endswith(".bitag"):
            continue
        assert mannsim("show", name).returncode == 0, name
    decoded = mannsim("decode", "bitag/parity.bitag", "--json")
    assert json.loads(decoded.stdout)["match"]


def test_programs_by_name_from_an_installed_wheel(tmp_path):
    """From a wheel (the package alone, no source tree beside it)."""
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if built.returncode != 0 and "hatchling" in built.stderr:
        built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                                str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("mannsim-*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "mannsim" / "programs" / "u15_2.tm").is_file()
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from mannsim.cli import main; "
            "main(['run', 'u15_2', '--json'])")
    out = subprocess.run([sys.executable, "-c", code, str(site)], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["steps"] == 39065
    assert str(site) in subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "from mannsim.resources import find_program; print(find_program('u15_2'))", str(site)],
        capture_output=True, text=True, cwd=tmp_path).stdout


# -- output made for pipes, one meaning of halted ---------------------------------------------
def test_piped_output_is_not_wrapped_and_keeps_the_head_marker():
    out = mannsim("run", "u15_2", "-b", "symbolic", "--memo")  # stdout is a pipe here
    lines = out.stdout.splitlines()
    summary = next(line for line in lines if line.strip().startswith("cycles"))
    assert "checks passed 39,066" in summary and summary.rstrip().endswith("cycles/s)")
    tape = next(line for line in lines if line.strip().startswith("tape"))
    assert "[1]" in tape
    assert not any(line.strip() in ("steps", "cycles/s)") for line in lines)


@pytest.mark.parametrize("backend", ["reference", "symbolic"])
def test_halted_and_reason_mean_the_same_for_every_backend(backend):
    out = json.loads(mannsim("run", "bb2", "--max-steps", "3", "-b", backend, "--json").stdout)
    assert out["halted"] is False and out["reason"] == "max_steps" and "nonblank" in out
    out = json.loads(mannsim("run", "bb2", "-b", backend, "--json").stdout)
    assert out["halted"] is True and out["reason"] == "halt" and out["nonblank"] == 4
    text = mannsim("run", "bb2", "--max-steps", "3", "-b", backend).stdout
    assert "stopped at --max-steps 3" in text


def test_a_run_stopped_by_the_limit_in_a_halting_state_has_halted():
    out = json.loads(mannsim("run", "bb2", "--max-steps", "6", "--json").stdout)
    assert out["final_state"] == "Z" and out["halted"] is True and out["reason"] == "halt"


# -- messages that say how to fix it ---------------------------------------------------------
def test_messages():
    one_line_error(mannsim("run", "---_1RA"), "put it after '--'")
    one_line_error(mannsim("run", "1RB1LB_1LA1R"), "not a standard-format machine")
    one_line_error(mannsim("verify", "bb2", "-b", "hf", "--model", "./no/such/model"),
                   "no such model folder or .gguf file")
    out = mannsim("decode", "bb2", "--program", "bitag/test_vector")
    assert out.returncode == 2 and "mannsim compile" in out.stderr
    one_line_error(mannsim("run", "no_such_program"), "see `mannsim programs`")
    backends = mannsim("backends").stdout
    for name in ("hf", "openai", "symbolic"):
        line = next(line for line in backends.splitlines() if line.startswith(name))
        assert "Options:" in line


def test_help_names_the_input_options():
    for command in (["run"], ["plot"], ["compile"], ["decode"]):
        text = mannsim(*command, "--help").stdout
        assert "--tape" in text and "--head" in text and "--state" in text, command



# -- progress: by time on a terminal, nothing off one, an exact last frame, Ctrl-C summary ------
def run_in_pty(args, stop_when=None, timeout=600):
    """Run mannsim on a pseudo-terminal (160 columns); send Ctrl-C once its output shows
    ``stop_when`` (bytes), so the signal never depends on how fast the machine is. ``timeout``
    only ends a hung test. Returns (exit code, everything it wrote)."""
    import fcntl
    import os
    import pty
    import select
    import signal
    import struct
    import termios
    import time
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "mannsim", *map(str, args)], stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True,
                            env={**__import__("os").environ, "TERM": "xterm-256color"})
    os.close(slave)
    out, t0, sent = b"", time.time(), False
    while time.time() - t0 < timeout:
        if stop_when is not None and not sent and stop_when in out:
            proc.send_signal(signal.SIGINT)
            sent = True
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    if proc.poll() is None:  # never leave a child running past the test
        proc.kill()
    proc.wait(10)
    os.close(master)
    import re
    return proc.returncode, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode("utf-8", "replace"))


NEVER_HALTS = "1RB0LB_1LA0RA"  # moves back and forth for ever, no sweeps


def test_reference_progress_on_a_terminal_and_ctrl_c_summary():
    code, out = run_in_pty(["run", NEVER_HALTS, "--max-steps", "10000000000"],
                           stop_when=b"steps/s")
    assert "of at most 10,000,000,000 steps" in out and "steps/s" in out
    assert code == 130 and "interrupted (Ctrl-C)" in out and "steps  " in out


def test_no_progress_off_a_terminal():
    out = mannsim("run", NEVER_HALTS, "--max-steps", "3000000")
    assert out.returncode == 0 and "steps/s" not in out.stdout + out.stderr
    assert out.stdout.splitlines()[0].endswith("stopped at --max-steps 3,000,000")
    # the decision itself: the same ticker draws on a terminal and stays off (draws nothing,
    # holds no live display) on a pipe; rich alone would also print nothing on a pipe, so
    # the first half cannot catch a ticker that forgot to ask
    import io

    from rich.console import Console

    from mannsim.cli.progress import Ticker
    for terminal in (True, False):
        buf = io.StringIO()
        console = Console(file=buf, force_terminal=terminal, width=100)
        with Ticker(console, "run", 1000) as tick:
            assert tick.on is terminal and (tick._live is not None) is terminal
            tick.update(10)
        assert ("steps/s" in buf.getvalue()) is terminal


def test_backend_live_view_ends_on_an_exact_frame():
    code, out = run_in_pty(["run", "u15_2", "-b", "symbolic"])
    assert code == 0
    assert "39,066 / 39,066 (100.0%)" in out  # the last frame, not a stale one
    assert "checks passed" in out and "39,066" in out


def test_verify_and_plot_show_progress_only_on_a_terminal(tmp_path):
    code, out = run_in_pty(["verify", "u15_2"])
    assert code == 0 and "PASS: 29/29" in out
    code, out = run_in_pty(["plot", "bb5", "-o", tmp_path / "bb5.png", "--max-steps", "3000000"])
    assert code == 0 and "of at most 3,000,000 steps" in out


def test_decode_and_compile_progress_on_a_terminal(tmp_path):
    code, out = run_in_pty(["decode", "compiled/unary_successor"])
    assert code == 0 and "decode: U15,2 on the reference machine" in out and "match" in out
    code, out = run_in_pty(["compile", "bb2", "-o", tmp_path / "bb2.tm"])
    assert code == 0 and "compile: " in out and "wrote" in out


def test_model_loading_bars_only_on_a_terminal():
    out = mannsim("verify", "bb2", "-b", "hf", "--threads", "1")
    assert out.returncode == 0 and "Loading weights" not in out.stderr + out.stdout


# -- hf defaults that are right on a busy machine ----------------------------------------------
@pytest.mark.parametrize("model, words", [
    ("gpt-9000", "not in the Hugging Face cache"),
    ("some-org/some-model", "not in the Hugging Face cache"),
    ("./no/such/folder", "no such model folder or .gguf file"),
])
def test_an_unknown_model_is_answered_before_torch_is_imported(model, words, tmp_path):
    """The answer names the short names and what a folder must hold, and comes from the file
    system alone: neither torch nor transformers is imported, and nothing is downloaded
    (offline unless --online, with HF_HUB_OFFLINE unset)."""
    code = ("import sys\nfrom mannsim.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n    print('exit', e.code)\n"
            "print('torch' in sys.modules, 'transformers' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["HF_HOME"] = str(tmp_path / "hf")  # an empty cache
    out = subprocess.run([sys.executable, "-c", code, "run", "bb2", "-b", "hf", "--model", model],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.stdout.split() == ["exit", "2", "False", "False"], out.stdout + out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert words in line and "gemma3-270m, smollm2-135m" in line
    assert "config.json" in line and "safetensors" in line


def test_the_embedded_model_runs_on_one_thread_by_default_and_auto_chooses():
    import torch

    from mannsim.backends import load_backend
    before = torch.get_num_threads()
    try:
        assert load_backend("hf").threads == 1
        assert load_backend("hf", threads=3).threads == 3
        auto = load_backend("hf", threads="auto")
        from mannsim.backends.hf.threads import torch_default_threads
        assert auto.threads in (1, torch_default_threads())
        assert torch.get_num_threads() == auto.threads
    finally:
        torch.set_num_threads(before)
    out = mannsim("run", "bb2", "-b", "hf", "--threads", "0")
    assert out.returncode == 2 and "not a positive number or 'auto'" in out.stderr
