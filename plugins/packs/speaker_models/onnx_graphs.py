"""The speaker pack's two networks as ONNX graphs, built from their PyTorch weights without torch.

``segmentation.onnx`` is pyannote's segmentation-3.0 (PyanNet: SincNet, 4 bidirectional LSTM
layers, 2 linear layers; MIT): ``waveform`` ``(batch, 1, samples)`` of 16 kHz audio, 10 s at a
time, gives ``logits`` ``(batch, frames, 7)``, log-probabilities of the powerset classes (no
one, speaker 1, 2, 3, 1+2, 1+3, 2+3) every 16.875 ms.

``campplus.onnx`` is CAM++ from 3D-Speaker (Apache-2.0): ``fbank`` ``(batch, frames, 80)`` gives
``frames`` ``(batch, 512, frames / 2)``, the features its statistics pooling reads, and
``embedding`` ``(batch, 192)``, the speaker embedding (pooling, dense layer and batch norm, as
3D-Speaker's ``DenseLayer(config_str='batchnorm_')``: no ReLU after it).

The weights are read with :mod:`taskdeck.helpers.torch_state` and the graphs written with the
``onnx`` package's helpers, once, when the pack is first used; onnxruntime runs them. A test
checks both against the PyTorch modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

OPSET = 18
SEGMENTATION_SOURCE = "pytorch_model.bin"
CAMPPLUS_SOURCE = "campplus_cn_en_common.pt"


class _Graph:
    """A small builder over ``onnx.helper``: named initializers, nodes, fresh names."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value: Any, hint: str = "c") -> str:
        import numpy as np
        from onnx import numpy_helper

        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attrs: Any) -> Any:
        from onnx import helper

        names = [self.name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names

    def model(self, inputs: list[Any], outputs: list[tuple[str, str, Any]]) -> Any:
        from onnx import TensorProto, helper

        outs = []
        for source, name, shape in outputs:
            self.nodes.append(helper.make_node("Identity", [source], [name]))
            outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        graph = helper.make_graph(self.nodes, "taskdeck", inputs, outs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        return model

    # ---- layers ----
    def batch_norm(self, x: str, w: dict[str, Any], prefix: str, affine: bool = True) -> str:
        import numpy as np

        mean, var = w[f"{prefix}.running_mean"], w[f"{prefix}.running_var"]
        scale = w[f"{prefix}.weight"] if affine else np.ones_like(mean)
        bias = w[f"{prefix}.bias"] if affine else np.zeros_like(mean)
        return self.op(
            "BatchNormalization",
            x,
            self.const(scale),
            self.const(bias),
            self.const(mean),
            self.const(var),
            epsilon=1e-5,
        )

    def conv(self, x: str, weight: Any, bias: Any = None, **attrs: Any) -> str:
        inputs = [x, self.const(weight, "w")] + ([self.const(bias, "b")] if bias is not None else [])
        return self.op("Conv", *inputs, **attrs)


# ---- segmentation-3.0 ----
def sinc_filters(w: dict[str, Any], sample_rate: int = 16000, min_low_hz: float = 50, min_band_hz: float = 50) -> Any:
    """SincNet's 80 band-pass filters ``(80, 1, 251)`` from their learnt cut-offs, as
    asteroid-filterbanks' ``ParamSincFB.filters()`` computes them (cosine then sine halves)."""
    import numpy as np

    prefix = "sincnet.conv1d.0.filterbank."
    low = min_low_hz + np.abs(w[prefix + "low_hz_"].astype(np.float64))
    high = np.clip(low + min_band_hz + np.abs(w[prefix + "band_hz_"].astype(np.float64)), min_low_hz, sample_rate / 2)
    band = (high - low)[:, 0]
    n = w[prefix + "n_"].astype(np.float64)
    window = w[prefix + "window_"].astype(np.float64)
    ft_low, ft_high = low @ n, high @ n
    cos_left = (np.sin(ft_high) - np.sin(ft_low)) / (n / 2) * window
    sin_left = (np.cos(ft_low) - np.cos(ft_high)) / (n / 2) * window
    cos = np.concatenate([cos_left, 2 * band[:, None], cos_left[:, ::-1]], axis=1)
    sin = np.concatenate([sin_left, np.zeros((len(band), 1)), -sin_left[:, ::-1]], axis=1)
    filters = np.concatenate([cos, sin]) / (2 * np.concatenate([band, band])[:, None])
    return filters[:, None, :].astype(np.float32)


def _lstm_weights(w: dict[str, Any], layer: int) -> tuple[Any, Any, Any]:
    """ONNX ``W``, ``R``, ``B`` of one bidirectional layer: PyTorch's gates (i, f, g, o)
    reordered to ONNX's (i, o, f, c)."""
    import numpy as np

    def order(m: Any) -> Any:
        i, f, g, o = np.split(m, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    suffixes = (f"l{layer}", f"l{layer}_reverse")
    wi = np.stack([order(w[f"lstm.weight_ih_{s}"]) for s in suffixes])
    wh = np.stack([order(w[f"lstm.weight_hh_{s}"]) for s in suffixes])
    b = np.stack([np.concatenate([order(w[f"lstm.bias_ih_{s}"]), order(w[f"lstm.bias_hh_{s}"])]) for s in suffixes])
    return wi, wh, b


def segmentation_graph(w: dict[str, Any]) -> Any:
    """pyannote segmentation-3.0 as an ONNX model (see the module docstring)."""
    from onnx import TensorProto, helper

    g = _Graph()
    x = g.op(
        "InstanceNormalization",
        "waveform",
        g.const(w["sincnet.wav_norm1d.weight"]),
        g.const(w["sincnet.wav_norm1d.bias"]),
        epsilon=1e-5,
    )
    x = g.op("Abs", g.conv(x, sinc_filters(w), strides=[10]))
    for i in range(3):
        if i:
            x = g.conv(x, w[f"sincnet.conv1d.{i}.weight"], w[f"sincnet.conv1d.{i}.bias"])
        x = g.op("MaxPool", x, kernel_shape=[3], strides=[3])
        x = g.op(
            "InstanceNormalization",
            x,
            g.const(w[f"sincnet.norm1d.{i}.weight"]),
            g.const(w[f"sincnet.norm1d.{i}.bias"]),
            epsilon=1e-5,
        )
        x = g.op("LeakyRelu", x, alpha=0.01)
    x = g.op("Transpose", x, perm=[2, 0, 1])  # (frames, batch, features)
    layers = sum(1 for k in w if k.startswith("lstm.weight_ih_l") and not k.endswith("reverse"))
    hidden = w["lstm.weight_hh_l0"].shape[1]
    for layer in range(layers):
        wi, wh, b = _lstm_weights(w, layer)
        y = g.op(
            "LSTM",
            x,
            g.const(wi, "W"),
            g.const(wh, "R"),
            g.const(b, "B"),
            direction="bidirectional",
            hidden_size=hidden,
        )  # (frames, 2, batch, hidden)
        y = g.op("Transpose", y, perm=[0, 2, 1, 3])
        x = g.op("Reshape", y, g.const([0, 0, 2 * hidden]))
    x = g.op("Transpose", x, perm=[1, 0, 2])  # (batch, frames, 2 * hidden)
    n_linear = sum(1 for k in w if k.startswith("linear.") and k.endswith(".weight"))
    for i in range(n_linear):
        x = g.op("Add", g.op("MatMul", x, g.const(w[f"linear.{i}.weight"].T.copy())), g.const(w[f"linear.{i}.bias"]))
        x = g.op("LeakyRelu", x, alpha=0.01)
    x = g.op("Add", g.op("MatMul", x, g.const(w["classifier.weight"].T.copy())), g.const(w["classifier.bias"]))
    x = g.op("LogSoftmax", x, axis=-1)
    classes = w["classifier.weight"].shape[0]
    waveform = helper.make_tensor_value_info("waveform", TensorProto.FLOAT, ["batch", 1, "samples"])
    return g.model([waveform], [(x, "logits", ["batch", "frames", classes])])


# ---- CAM++ ----
def _res_block(g: _Graph, x: str, w: dict[str, Any], p: str, stride: int) -> str:
    out = g.conv(x, w[f"{p}.conv1.weight"], strides=[stride, 1], pads=[1] * 4)
    out = g.op("Relu", g.batch_norm(out, w, f"{p}.bn1"))
    out = g.batch_norm(g.conv(out, w[f"{p}.conv2.weight"], pads=[1] * 4), w, f"{p}.bn2")
    shortcut = x
    if f"{p}.shortcut.0.weight" in w:
        shortcut = g.batch_norm(g.conv(x, w[f"{p}.shortcut.0.weight"], strides=[stride, 1]), w, f"{p}.shortcut.1")
    return g.op("Relu", g.op("Add", out, shortcut))


def _bn_relu(g: _Graph, x: str, w: dict[str, Any], prefix: str) -> str:
    return g.op("Relu", g.batch_norm(x, w, prefix))


def campplus_graph(w: dict[str, Any], segment: int = 100) -> Any:
    """CAM++ as an ONNX model (see the module docstring); ``segment`` is its context-aware
    masking's pooling length in frames."""
    import numpy as np
    from onnx import TensorProto, helper

    g = _Graph()
    x = g.op("Unsqueeze", g.op("Transpose", "fbank", perm=[0, 2, 1]), g.const(np.array([1])))  # (B, 1, 80, T)
    x = _bn_relu(g, g.conv(x, w["head.conv1.weight"], pads=[1] * 4), w, "head.bn1")
    for layer in (1, 2):
        x = _res_block(g, x, w, f"head.layer{layer}.0", 2)
        x = _res_block(g, x, w, f"head.layer{layer}.1", 1)
    x = _bn_relu(g, g.conv(x, w["head.conv2.weight"], strides=[2, 1], pads=[1] * 4), w, "head.bn2")
    batch, steps = g.op("Shape", x, start=0, end=1), g.op("Shape", x, start=3, end=4)
    flat = g.op("Concat", batch, g.const(np.array([-1])), steps, axis=0)
    x = g.op("Reshape", x, flat)  # (B, 32 * 10, T)
    x = _bn_relu(
        g, g.conv(x, w["xvector.tdnn.linear.weight"], strides=[2], pads=[2, 2]), w, "xvector.tdnn.nonlinear.batchnorm"
    )
    # Segment pooling's sums and counts: frames padded to whole segments of `segment`.
    length = g.op("Shape", x, start=2, end=3)
    seg = g.const(np.array([segment]))
    pad_len = g.op("Mod", g.op("Sub", seg, g.op("Mod", length, seg)), seg)
    pads = g.op("Concat", g.const(np.array([0, 0, 0, 0, 0])), pad_len, axis=0)
    ones = g.op("ConstantOfShape", length, value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]))
    padded_ones = g.op("Pad", ones, g.op("Concat", g.const(np.array([0])), pad_len, axis=0))
    per_segment = g.op("Reshape", padded_ones, g.const(np.array([-1, segment])))
    counts = g.op("ReduceSum", per_segment, g.const(np.array([1])), keepdims=0)
    for block, layers in ((1, 12), (2, 24), (3, 16)):
        dilation = 1 if block == 1 else 2
        for i in range(1, layers + 1):
            p = f"xvector.block{block}.tdnnd{i}"
            h = _bn_relu(g, x, w, f"{p}.nonlinear1.batchnorm")
            h = _bn_relu(g, g.conv(h, w[f"{p}.linear1.weight"]), w, f"{p}.nonlinear2.batchnorm")
            local = g.conv(h, w[f"{p}.cam_layer.linear_local.weight"], dilations=[dilation], pads=[dilation, dilation])
            total = g.op("ReduceMean", h, g.const(np.array([2])), keepdims=1)
            padded = g.op("Pad", h, pads)  # (B, C, S * segment)
            segments = g.op("Reshape", padded, g.const(np.array([0, 0, -1, segment])))
            means = g.op("Div", g.op("ReduceSum", segments, g.const(np.array([3])), keepdims=0), counts)  # (B, C, S)
            wide = g.op("Concat", g.op("Shape", means), seg, axis=0)
            spread = g.op("Expand", g.op("Unsqueeze", means, g.const(np.array([3]))), wide)  # each mean per frame
            spread = g.op("Reshape", spread, g.const(np.array([0, 0, -1])))
            spread = g.op("Slice", spread, g.const(np.array([0])), length, g.const(np.array([2])))
            context = g.op("Add", total, spread)
            gate = g.conv(context, w[f"{p}.cam_layer.linear1.weight"], w[f"{p}.cam_layer.linear1.bias"])
            gate = g.conv(g.op("Relu", gate), w[f"{p}.cam_layer.linear2.weight"], w[f"{p}.cam_layer.linear2.bias"])
            x = g.op("Concat", x, g.op("Mul", local, g.op("Sigmoid", gate)), axis=1)
        x = _bn_relu(g, x, w, f"xvector.transit{block}.nonlinear.batchnorm")
        x = g.conv(x, w[f"xvector.transit{block}.linear.weight"])
    frames = _bn_relu(g, x, w, "xvector.out_nonlinear.batchnorm")
    embedding = pooled_embedding_graph(g, frames, w)
    fbank = helper.make_tensor_value_info("fbank", TensorProto.FLOAT, ["batch", "frames", 80])
    channels = w["xvector.dense.linear.weight"].shape[1] // 2
    size = w["xvector.dense.linear.weight"].shape[0]
    return g.model(
        [fbank], [(frames, "frames", ["batch", channels, "steps"]), (embedding, "embedding", ["batch", size])]
    )


def pooled_embedding_graph(g: _Graph, frames: str, w: dict[str, Any]) -> str:
    """Statistics pooling (mean and unbiased standard deviation over time) and the dense layer."""
    import numpy as np

    axis = g.const(np.array([2]))
    mean = g.op("ReduceMean", frames, axis, keepdims=1)
    n = g.op("Cast", g.op("Shape", frames, start=2, end=3), to=1)
    sq = g.op("ReduceSum", g.op("Mul", g.op("Sub", frames, mean), g.op("Sub", frames, mean)), axis, keepdims=0)
    std = g.op("Sqrt", g.op("Div", sq, g.op("Sub", n, g.const(np.array([1.0], dtype=np.float32)))))
    stats = g.op("Concat", g.op("Squeeze", mean, axis), std, axis=1)
    dense = g.op("MatMul", stats, g.const(w["xvector.dense.linear.weight"][:, :, 0].T.copy()))
    return g.batch_norm(dense, w, "xvector.dense.nonlinear.batchnorm", affine=False)


def dense_weights(w: dict[str, Any]) -> dict[str, Any]:
    """The dense layer after pooling, for embeddings pooled outside the graph: ``weight``
    ``(2 * 512, 192)``, and the batch norm's ``mean`` and ``std``."""
    import numpy as np

    p = "xvector.dense.nonlinear.batchnorm"
    return {
        "weight": w["xvector.dense.linear.weight"][:, :, 0].T.astype(np.float32),
        "mean": w[f"{p}.running_mean"].astype(np.float32),
        "std": np.sqrt(w[f"{p}.running_var"] + 1e-5).astype(np.float32),
    }


def convert_speaker_pack(folder: Path) -> None:
    """Write ``segmentation.onnx``, ``campplus.onnx`` and ``campplus_dense.npz`` in ``folder``
    from the two PyTorch checkpoints there, then remove the checkpoints."""
    import numpy as np
    import onnx

    from taskdeck.helpers.torch_state import state_dict

    segmentation = state_dict(folder / SEGMENTATION_SOURCE, "state_dict")
    campplus = state_dict(folder / CAMPPLUS_SOURCE)
    graphs = {"segmentation.onnx": segmentation_graph(segmentation), "campplus.onnx": campplus_graph(campplus)}
    for name, model in graphs.items():
        onnx.checker.check_model(model)
        tmp = folder / f".{name}.part"
        onnx.save(model, str(tmp))
        tmp.replace(folder / name)
    np.savez(folder / "campplus_dense.npz", **dense_weights(campplus))
    (folder / SEGMENTATION_SOURCE).unlink()
    (folder / CAMPPLUS_SOURCE).unlink()
