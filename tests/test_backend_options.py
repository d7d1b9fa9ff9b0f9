"""The backend contract: declared, typed options and capabilities, read by load_backend and
describe; classes written to the earlier contract (constructor keywords, an OPTIONS tuple,
**kwargs) still load through the legacy shim. No model is loaded here."""
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mannsim import backends
from mannsim.backends import BUILTIN, BackendError, describe, load_backend, tuning
from mannsim.backends.base import Completion
from mannsim.backends.contract import NoOptions
from mannsim.machine import load
from mannsim.program import compile_program, load_dialect
from mannsim.program.dialect import DEFAULT_DIALECT

from conftest import PROGRAMS

BACKENDS = Path(backends.__file__).resolve().parent
COMPACT = load_dialect("compact")


class Base:
    """A test backend."""
    name = "test"

    def identity(self):
        return {"name": self.name}

    def complete(self, prompts):
        return [Completion("") for _ in prompts]

    def close(self):
        pass


# -- the earlier contract: built as cls(**options), read by mannsim.backends.legacy --------------
class Keywords(Base):
    """Takes its constructor's keywords."""

    def __init__(self, model=None, temperature=0.0, stop=("\n",)):
        self.model, self.temperature, self.stop = model, temperature, stop


class Listed(Base):
    """Lists its user options in OPTIONS."""
    OPTIONS = ("model",)

    def __init__(self, model=None, warmup=False, stop=("\n",), dialect=None):
        self.model, self.warmup, self.stop, self.dialect = model, warmup, stop, dialect


class Anything(Base):
    """Takes anything."""
    thread_safe = True

    def __init__(self, **options):
        self.options = options


# -- the declared contract ---------------------------------------------------------------------
@dataclass(frozen=True)
class MyOptions:
    model: str | None = None
    retries: int = 3
    warmup: bool = tuning(False)


class Declared(Base):
    """Declares its options."""
    Options = MyOptions
    takes_dialect = False

    def __init__(self, options, *, stop=("\n",), **never):
        assert not never, never  # a dialect is never passed to it
        self.options, self.stop = options, stop


class Reader(Base):
    """Reads prompts itself."""
    Options = NoOptions
    takes_dialect = True

    def __init__(self, options, *, stop=("\n",), dialect=None):
        self.options, self.dialect = options, dialect


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    for cls in (Keywords, Listed, Anything, Declared, Reader):
        monkeypatch.setitem(BUILTIN, cls.__name__.lower(), f"{__name__}:{cls.__name__}")


def test_a_keyword_constructor_still_loads_and_is_checked():
    b = load_backend("keywords", stop=("$",), dialect=COMPACT, model="m", temperature=0.5)
    assert (b.model, b.temperature, b.stop) == ("m", 0.5, ("$",))  # no dialect parameter: none
    with pytest.raises(BackendError) as err:
        load_backend("keywords", device="cuda")
    assert str(err.value) == ("backend 'keywords' does not take --device (it takes --model, "
                              "--temperature)")
    assert describe("keywords") == "Takes its constructor's keywords. Options: --model, --temperature."


def test_an_options_tuple_still_loads_and_names_the_user_options():
    b = load_backend("listed", stop=("$",), dialect=COMPACT, model="m", warmup=True)
    assert (b.model, b.warmup, b.dialect) == ("m", True, COMPACT)  # a dialect parameter: given
    assert load_backend("listed").dialect.name == DEFAULT_DIALECT
    with pytest.raises(BackendError, match=r"^backend 'listed' does not take --api-key \(it "
                                           r"takes --model\)$"):
        load_backend("listed", api_key="k")
    assert describe("listed").endswith("Options: --model.")


def test_a_kwargs_constructor_still_takes_anything():
    b = load_backend("anything", dialect=COMPACT, model="m", whatever=1)
    assert b.options == {"model": "m", "whatever": 1}  # no dialect parameter, no dialect
    assert describe("anything").endswith("Options: any options.")


def test_declared_options_are_validated_and_built_typed():
    b = load_backend("declared", stop=("$",), dialect=COMPACT, model="m", warmup=True)
    assert b.options == MyOptions(model="m", retries=3, warmup=True) and b.stop == ("$",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.options.model = "other"
    for wrong in ({"device": "cuda"}, {"dialect_name": "x"}):
        with pytest.raises(BackendError) as err:
            load_backend("declared", **wrong)
        flag = "--" + next(iter(wrong)).replace("_", "-")
        # the tuning option is taken but not offered as a flag
        assert str(err.value) == (f"backend 'declared' does not take {flag} (it takes --model, "
                                  "--retries)")
    assert describe("declared") == "Declares its options. Options: --model, --retries."


def test_the_dialect_reaches_only_a_backend_that_declares_it():
    assert load_backend("reader", dialect=COMPACT).dialect is COMPACT
    assert load_backend("reader", dialect=[COMPACT]).dialect == [COMPACT]
    assert load_backend("reader").dialect.name == DEFAULT_DIALECT  # the default, when none named
    load_backend("declared", dialect=COMPACT)  # Declared asserts it gets none
    assert describe("reader").endswith("Options: no options.")


def test_the_built_in_backends_refuse_options_in_one_unchanged_line():
    with pytest.raises(BackendError) as err:
        load_backend("symbolic", model="gpt-4")
    assert str(err.value) == "backend 'symbolic' does not take --model (it takes no options)"
    with pytest.raises(BackendError) as err:
        load_backend("openai", device="cuda")
    assert str(err.value) == ("backend 'openai' does not take --device (it takes --api-key, "
                              "--api-mode, --base-url, --model, --retries, --timeout)")
    with pytest.raises(BackendError) as err:
        load_backend("hf", base_url="http://x")  # refused before any model is loaded
    assert str(err.value) == ("backend 'hf' does not take --base-url (it takes --allow-pickle, "
                              "--device, --dtype, --model, --online, --threads)")


def test_the_command_line_flags_are_the_options_the_built_ins_declare():
    from mannsim.backends import contract_of
    from mannsim.backends.hf import HFBackend
    from mannsim.backends.openai_backend import OpenAIBackend
    from mannsim.backends.symbolic import SymbolicBackend
    from mannsim.cli.options import BACKEND_OPTIONS
    declared = set()
    for cls in (HFBackend, OpenAIBackend, SymbolicBackend):
        declared |= set(contract_of(cls).flags)
    assert set(BACKEND_OPTIONS) == declared


def test_capabilities_are_declared_on_the_built_ins():
    from mannsim.backends import contract_of
    from mannsim.backends.hf import HFBackend, HFOptions
    from mannsim.backends.openai_backend import OpenAIBackend, OpenAIOptions
    from mannsim.backends.symbolic import SymbolicBackend
    assert [(c.Options, c.takes_dialect, c.thread_safe) for c in (HFBackend, OpenAIBackend,
                                                                   SymbolicBackend)] == \
        [(HFOptions, False, False), (OpenAIOptions, False, True), (NoOptions, True, True)]
    assert contract_of(Anything).thread_safe is True and contract_of(Keywords).thread_safe is False
    assert "sk-secret" not in repr(OpenAIOptions(api_key="sk-secret"))


def test_only_the_legacy_shim_reads_constructor_signatures():
    assert "inspect" in (BACKENDS / "legacy.py").read_text()
    for name in ("__init__.py", "contract.py", "base.py", "symbolic.py", "openai_backend.py"):
        assert "inspect" not in (BACKENDS / name).read_text(), name


def test_the_symbolic_backend_is_handed_its_dialect():
    from mannsim.backends.symbolic import SymbolicBackend
    text = (BACKENDS / "symbolic.py").read_text()
    assert "load_dialect" not in text and "DEFAULT_DIALECT" not in text
    with pytest.raises(BackendError, match="dialect"):
        SymbolicBackend()
    assert SymbolicBackend(dialect=COMPACT.shape).shapes == [COMPACT.shape]
    assert load_backend("symbolic", dialect=COMPACT).shapes == [COMPACT.shape]
    default = load_dialect(DEFAULT_DIALECT)
    prompt = compile_program(load(str(PROGRAMS / "bb2.tm")), default).cases()[0].prompt
    answers = load_backend("symbolic").complete([prompt])  # the default dialect's, handed in
    assert answers[0].text == default.shape.evaluate(prompt) != ""


def test_max_answer_lives_in_limits_only():
    import mannsim.backends.base as base
    assert not hasattr(backends, "MAX_ANSWER") and not hasattr(base, "MAX_ANSWER")


def test_listing_backends_imports_no_heavy_library():
    import subprocess
    code = ("import sys; from mannsim.backends import describe, registry\n"
            "[describe(n) for n in registry()]\n"
            "print(sorted(m for m in ('torch', 'transformers', 'openai') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class ListedOpen(Base):
    """Lists its user options and takes anything else from code."""
    OPTIONS = ("model",)

    def __init__(self, **options):
        self.options = options


@dataclass(frozen=True)
class _Required:
    model: str  # no default


class DeclaredRequired(Base):
    """Declares an option with no default."""
    Options = _Required

    def __init__(self, options, *, stop=("\n",)):
        self.options = options


@dataclass(frozen=True)
class _Tuned:
    model: str | None = None
    device: str = tuning("cpu")


class DeclaredTuning(Base):
    """Declares device as a knob for code, not a flag."""
    Options = _Tuned

    def __init__(self, options, *, stop=("\n",)):
        self.options = options


def test_the_contract_holds_at_its_edges(monkeypatch):
    """Found by a review: a legacy class with OPTIONS and **kwargs takes other options from code
    (as before the contract); a class that does not fit its own declarations is a one-line
    BackendError, not a TypeError; a command-line flag a backend declares only as a code knob
    is refused, as describe() says."""
    real = backends.registry
    monkeypatch.setattr(backends, "registry", lambda: {
        **real(), **{n: f"{__name__}:{n}" for n in ("ListedOpen", "DeclaredRequired",
                                                     "DeclaredTuning")}})
    assert load_backend("ListedOpen", warmup=1).options == {"warmup": 1}
    with pytest.raises(BackendError, match="does not take --device"):
        load_backend("ListedOpen", device="cuda")
    with pytest.raises(BackendError, match="cannot be built as it declares"):
        load_backend("DeclaredRequired")
    with pytest.raises(BackendError, match="does not take --device"):
        load_backend("DeclaredTuning", device="cuda")
    assert "--device" not in describe("DeclaredTuning")
