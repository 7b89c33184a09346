"""Weight quantization (bitsandbytes) and device maps (accelerate) for the transformers backend.

:func:`load_options` turns ``backend.quantization``, ``double_quant``, ``compute_dtype``,
``device_map``, ``max_memory`` and ``offload_folder`` into ``from_pretrained`` keyword
arguments, after checks that fail in one line before any weight is read. :func:`usage` is
what ``result.json`` records of the loaded model (its footprint, where its modules went).
Text models only (the Auto classes); speech pipelines load unquantized.

On CPU (bitsandbytes 0.50, x86-64 with AVX2): int8, nf4 and fp4 load and generate, and a
device map offloads unquantized weights to disk. Quantized weights cannot be offloaded:
they must all fit on the device.
"""

from __future__ import annotations

import logging
import platform
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from taskdeck import CapabilityError, ConfigError, MissingDependencyError

QUANTIZATIONS = ("none", "int8", "nf4", "fp4")
COMPUTE_DTYPES = ("bf16", "fp16", "fp32")
#: accelerate's placement strategies; a device name (cpu, cuda, cuda:1, mps) puts everything there.
DEVICE_MAP_STRATEGIES = ("auto", "balanced", "balanced_low_0", "sequential")
_DEVICE_NAME = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_GGUF_TYPE = re.compile(r"(?<![A-Za-z0-9])(I?Q\d+(?:_[A-Z0-9]+)*|BF16|F16|F32)(?=[.\-]|$)", re.IGNORECASE)
#: bitsandbytes' log lines that say nothing a user can act on (see :func:`quiet_bitsandbytes`).
_NOISE = (
    # AVX512-BF16 CPUs: an optional fused 4-bit kernel is fetched from the Hub through the
    # `kernels` package; without it (or offline) bitsandbytes uses its own CPU kernel.
    "Failed to load CPU gemm_4bit_forward",
    # int8 matmuls take float16 inputs: logged on every layer's every call for another dtype.
    "MatMul8bitLt: inputs will be cast",
)


def requested(params: Any) -> bool:
    """Whether the options ask for anything beyond a plain load."""
    return params.quantization != "none" or bool(params.device_map) or bool(params.max_memory)


def default_dtype(params: Any) -> Any:
    """The dtype of the unquantized modules when ``dtype=auto``: 4-bit uses its compute dtype,
    int8 float16 (what its matmuls take); None without quantization."""
    import torch

    if params.quantization == "none":
        return None
    if params.quantization == "int8":
        return torch.float16
    return _torch_dtype(params.compute_dtype)


def load_options(backend: Any) -> dict[str, Any]:
    """The extra ``from_pretrained`` kwargs (``quantization_config``, ``device_map``,
    ``max_memory``, ``offload_folder``); raises one line for options that cannot work."""
    params = backend.params
    if not requested(params):
        return {}
    _check_model(backend)
    options: dict[str, Any] = {}
    device_map = params.device_map
    if device_map:
        _check_device_map(device_map)
    if params.quantization != "none":
        _check_bitsandbytes(backend)
        options["quantization_config"] = _bitsandbytes_config(params)
    if not device_map and params.quantization != "none":
        device_map = backend.device  # quantized while loading, straight onto the device
    if params.max_memory:
        if device_map not in DEVICE_MAP_STRATEGIES:
            raise ConfigError(
                f"backend.max_memory needs backend.device_map={' | '.join(DEVICE_MAP_STRATEGIES)} to share the "
                "model out: add backend.device_map=auto"
            )
        options["max_memory"] = parse_max_memory(params.max_memory)
    if params.offload_folder and device_map not in DEVICE_MAP_STRATEGIES:
        raise ConfigError("backend.offload_folder is used with backend.device_map=auto: add it, or drop the folder")
    if device_map:
        options["device_map"] = device_map
    if device_map in DEVICE_MAP_STRATEGIES:
        options["offload_folder"] = str(params.offload_folder or default_offload_folder(backend))
    return options


def default_offload_folder(backend: Any) -> Path:
    """A folder in taskdeck's cache for weights that fit in no memory, removed on unload."""
    import os

    from taskdeck.packs import cache_dir

    name = re.sub(r"[^\w.-]+", "-", str(backend.model.ref)).strip("-")[-60:] or "model"
    folder = cache_dir() / "offload" / f"{name}-{os.getpid()}-{id(backend)}"
    backend._offload_dir = folder  # the backend's unload() removes what it created
    return folder


def remove_offload_folder(backend: Any) -> None:
    """Remove the default offload folder (weights written there are copies)."""
    folder = getattr(backend, "_offload_dir", None)
    if folder is not None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        backend._offload_dir = None


@contextmanager
def offload_removed_on_failure(backend: Any) -> Iterator[None]:
    """A load that fails leaves no default offload folder behind."""
    try:
        yield
    except BaseException:
        remove_offload_folder(backend)
        raise


def parse_max_memory(given: Any) -> dict[Any, int]:
    """``{0: "10GiB", "cpu": "30GiB", "disk": "100GB"}`` as accelerate takes it (bytes), checked:
    keys are GPU indices that exist, ``cpu``, ``mps`` or ``disk``."""
    import torch

    if not isinstance(given, dict):
        raise ConfigError(
            f"backend.max_memory={given} is not a memory per device: write it as 'backend.max_memory={{0:10GiB,"
            "cpu:30GiB}' (quoted, so the shell leaves the braces alone)"
        )
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    parsed: dict[Any, int] = {}
    for key, value in given.items():
        device: Any = int(key) if isinstance(key, int) or str(key).isdigit() else str(key).lower()
        if isinstance(device, int) and device >= gpus:
            there = f"GPUs 0-{gpus - 1}" if gpus else "no CUDA device"
            raise ConfigError(f"backend.max_memory names GPU {device}, but this machine has {there}")
        if not isinstance(device, int) and device not in ("cpu", "mps", "disk"):
            raise ConfigError(
                f"backend.max_memory key '{key}' is not a device: use GPU indices (0, 1, ...), cpu, mps or disk, "
                "e.g. 'backend.max_memory={0:10GiB,cpu:30GiB}'"
            )
        match = _SIZE.match(str(value))
        if not match:
            raise ConfigError(
                f"backend.max_memory={_shown(given)}: '{value}' is not a size; give one such as 500MiB, 10GiB "
                "or 30GB (or bytes)"
            )
        parsed[device] = int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])
    return parsed


def placed_while_loading(options: dict[str, Any]) -> bool:
    """Whether ``from_pretrained`` put the model on its device(s) itself (no ``.to()`` after)."""
    return "device_map" in options


def check_4bit_layers(model: Any, params: Any) -> None:
    """bitsandbytes' AVX512-BF16 CPU kernel repacks 4-bit weights in blocks: 64 inputs by 32
    outputs. Name a layer that does not tile (it would fail at the first forward pass)."""
    if params.quantization not in ("nf4", "fp4"):
        return
    for name, layer in model.named_modules():
        if not getattr(layer, "support_avx512bf16_for_cpu", False) or layer.weight.device.type != "cpu":
            continue
        if layer.in_features % 64 or layer.out_features % 32:
            raise CapabilityError(
                f"backend.quantization={params.quantization}: bitsandbytes' 4-bit CPU kernel needs layers of a "
                f"multiple of 64 inputs and 32 outputs, and {name} has {layer.in_features} inputs and "
                f"{layer.out_features} outputs: use backend.quantization=int8, or a GPU"
            )


def check_placement(model: Any, params: Any) -> None:
    """Raise one line when a device map left nothing on a device that computes (all on disk)."""
    placement = getattr(model, "hf_device_map", None) or {}
    if placement and all(str(where) == "disk" for where in placement.values()):
        embeddings = model.get_input_embeddings().weight
        size = embeddings.numel() * embeddings.element_size() / 2**20
        raise ConfigError(
            f"backend.max_memory={_shown(params.max_memory)} puts the whole model on disk, where nothing runs: "
            f"give cpu (or a GPU) room for its two largest layers (the embeddings alone are {size:.1f} MiB)"
        )


def _shown(memory: Any) -> str:
    return "{" + ",".join(f"{k}:{v}" for k, v in memory.items()) + "}" if isinstance(memory, dict) else str(memory)


def input_device(model: Any) -> str:
    """Where inputs go: the first device of a device map that is not the disk."""
    placement = getattr(model, "hf_device_map", None) or {}
    for where in placement.values():
        if str(where) != "disk":
            return _device_name(where)
    return str(model.device)


def failure(exc: BaseException, params: Any) -> Optional[Exception]:
    """One line for a ``from_pretrained`` failure these options caused, else None."""
    text = str(exc)
    if "dispatched on the CPU or the disk" in text and params.quantization != "none":
        return ConfigError(
            f"backend.quantization={params.quantization}: quantized weights must all fit on the device, "
            "and bitsandbytes cannot offload them to the CPU or disk: raise backend.max_memory, "
            "or drop backend.quantization to offload unquantized weights"
        )
    if "Torch not compiled with CUDA" in text or "no NVIDIA driver" in text:
        given = f"device_map={params.device_map}" if params.device_map else f"device={params.device}"
        return ConfigError(f"backend.{given}: this machine has no CUDA device; use cpu or auto")
    return None


def usage(backend: Any) -> dict[str, Any]:
    """What ``result.json`` records of a loaded text model: its weights' memory (quantized
    sizes), the quantization and dtype, and where a device map put its modules."""
    model = getattr(backend, "hf_model", None)
    if model is None or not hasattr(model, "get_memory_footprint"):
        return {}
    params = backend.params
    record: dict[str, Any] = {
        "memory_footprint_mb": round(model.get_memory_footprint() / 2**20, 1),
        "quantization": params.quantization,
        "dtype": str(model.dtype).removeprefix("torch."),
    }
    if params.quantization in ("nf4", "fp4"):
        record |= {"double_quant": params.double_quant, "compute_dtype": params.compute_dtype}
    placement = getattr(model, "hf_device_map", None)
    if params.device_map and placement:
        record["device_map"] = dict(Counter(_device_name(d) for d in placement.values()))
        record["weights_mb_by_device"] = _weights_by_device(model, placement)
    elif params.device_map:
        record["device_map"] = {str(model.device): "all"}
    return record


def quiet_bitsandbytes() -> None:
    """Drop bitsandbytes' log lines listed in ``_NOISE`` (before it is imported: the first is
    logged at import)."""
    for name in ("bitsandbytes.backends.cpu.ops", "bitsandbytes.autograd._functions"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoiseFilter) for f in logger.filters):
            logger.addFilter(_NoiseFilter())


class _NoiseFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_NOISE)


# ---- checks ----
def _check_model(backend: Any) -> None:
    params = backend.params
    if params.quantization == "none" or backend.model.format != "gguf":
        return
    kind = gguf_quantization(backend.model) or "GGUF"
    converted = backend._converted_dir()
    copy = f" (its dequantized copy: model={converted})" if (converted / ".complete").is_file() else ""
    raise ConfigError(
        f"model '{backend.model.ref}' is a GGUF file, already quantized ({kind}): drop backend.quantization, "
        f"or give a transformers checkpoint{copy}"
    )


def gguf_quantization(model: Any) -> str:
    """The quantization a GGUF model's file name or Hub tag states (Q4_K_M, Q8_0, ...), or ''."""
    names = []
    if model.hub_file is not None:
        names.append(model.hub_file[1])
    if model.pack is not None:
        names += [model.pack.entry, *model.pack.files]
    if model.local is not None:
        names.append(Path(model.local).name)
    for name in names:
        match = _GGUF_TYPE.search(re.sub(r"\.gguf$", "", str(name), flags=re.IGNORECASE))
        if match:
            return match.group(1).upper()
    return ""


def _check_bitsandbytes(backend: Any) -> None:
    import importlib.util

    import torch

    params = backend.params
    if importlib.util.find_spec("bitsandbytes") is None:
        raise MissingDependencyError("bitsandbytes", f"backend.quantization={params.quantization}", "quantization")
    target = params.device_map or backend.device
    on_cpu = target == "cpu" or (target in DEVICE_MAP_STRATEGIES and not torch.cuda.is_available())
    x86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
    if on_cpu and x86 and torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"):
        raise CapabilityError(
            f"backend.quantization={params.quantization}: bitsandbytes needs a CPU with AVX2, and this one has none "
            f"(torch sees {torch.backends.cpu.get_cpu_capability()}): drop backend.quantization, or run a GGUF "
            "model on backend=llama_cpp"
        )
    quiet_bitsandbytes()


def _check_device_map(device_map: str) -> None:
    import torch

    if device_map in DEVICE_MAP_STRATEGIES:
        return
    if not _DEVICE_NAME.match(device_map):
        raise ConfigError(
            f"backend.device_map={device_map} is not allowed: use {', '.join(DEVICE_MAP_STRATEGIES)}, "
            "or a device (cpu, cuda, cuda:N, mps)"
        )
    if device_map.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(device_map.partition(":")[2] or 0)
        if index >= count:
            there = f"GPUs cuda:0-{count - 1}" if count else "no CUDA device"
            raise ConfigError(f"backend.device_map={device_map}: this machine has {there}; use cpu or auto")
    if device_map == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("backend.device_map=mps: this machine has no MPS device; use cpu or auto")


def _bitsandbytes_config(params: Any) -> Any:
    from transformers import BitsAndBytesConfig

    if params.quantization == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=params.quantization,
        bnb_4bit_use_double_quant=params.double_quant,
        bnb_4bit_compute_dtype=_torch_dtype(params.compute_dtype),
    )


def _torch_dtype(name: str) -> Any:
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]


def _device_name(where: Any) -> str:
    return f"cuda:{where}" if isinstance(where, int) else str(where)


def _weights_by_device(model: Any, placement: dict[str, Any]) -> dict[str, float]:
    """MiB of parameters and buffers per device of a device map (a module's entry or its parent's)."""
    sizes: Counter[str] = Counter()
    tensors = [*model.named_parameters(), *model.named_buffers()]
    for name, tensor in tensors:
        owner = name
        while owner and owner not in placement:
            owner = owner.rpartition(".")[0]
        where = placement.get(owner, placement.get("", "?"))
        sizes[_device_name(where)] += tensor.numel() * tensor.element_size()
    return {device: round(size / 2**20, 1) for device, size in sizes.items()}
