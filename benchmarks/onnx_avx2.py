"""int8 ONNX on x86 without VNNI: each MODEL on this host and on an emulated Haswell (AVX2 and FMA, no AVX-512,
no VNNI), over all 10,000 test digits, and which kernel explains each digit whose output differs.

    EDGEMNIST_DATA=/path/to/mnist python -m benchmarks.onnx_avx2 edgemnist/pretrained/*_int8.onnx export/*.onnx

Prints a Markdown table (accuracy on both CPUs, top-1 agreement, max |Δp| in int8 output steps, where the outputs
part) and one line per digit read differently; ``--json-file F`` keeps every figure. The script is its own worker:
``--worker MODEL OUT`` runs onnxruntime directly (one thread, the CPU execution provider) and saves the
probabilities and the CPU features the process sees, here and under ``qemu-x86_64 -cpu Haswell`` with this host's
own Python, so only the CPU differs. For each digit whose output differs, the worker runs again with every
QuantizeLinear output exposed: the first quantized tensor that differs names the layer (an int8 Gemm or Conv, the
float convolution, the softmax) where the two CPUs part. In that layer it counts the u8·s8 pairs whose sum leaves
int16 on the host's own activations: VPMADDUBSW, MLAS's U8S8 instruction without VNNI, saturates them (VNNI's
VPDPBUSD does not), which is ONNX Runtime's documented U8S8 caveat on x86.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

QEMU = ("qemu-x86_64", "-cpu", "Haswell")
FEATURES = ("AVX2", "FMA3", "AVX512F", "AVX512BW", "AVX512VNNI", "AVXVNNI")
BATCH = 500
INT16 = 32767


def cpu_features() -> dict:
    """What CPUID tells this process (numpy's runtime dispatch reads it, as ONNX Runtime's MLAS does)."""
    from numpy._core._multiarray_umath import __cpu_features__

    return {name: bool(__cpu_features__.get(name, False)) for name in FEATURES}


def exposed(model):
    """The model with every QuantizeLinear output added as a graph output (the tensors fused kernels write)."""
    import onnx

    proto = onnx.load(model)
    known = {output.name for output in proto.graph.output}
    for node in proto.graph.node:
        if node.op_type == "QuantizeLinear" and node.output[0] not in known:
            proto.graph.output.append(onnx.helper.make_empty_tensor_value_info(node.output[0]))
    return proto.SerializeToString()


def run_worker(model: str, out: str, digits: list[int] | None) -> None:
    import onnxruntime as ort

    from edgemnist.contract import to_float01
    from edgemnist.data import load_mnist

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    source = exposed(model) if digits else model
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    images = load_mnist().x_test
    images = images[digits] if digits else images
    names = [output.name for output in session.get_outputs()]
    feed = session.get_inputs()[0].name
    batches = [session.run(names, {feed: to_float01(images[i : i + BATCH])}) for i in range(0, len(images), BATCH)]
    tensors = {f"t{n}": np.concatenate([batch[n] for batch in batches]) for n in range(len(names))}
    meta = {"names": names, "features": cpu_features(), "onnxruntime": ort.__version__}
    np.savez(out, meta=json.dumps(meta), **tensors)


def run(model: str, emulated: bool, digits: list[int] | None = None) -> tuple[dict, list[np.ndarray]]:
    """(meta, tensors) of a worker run here or under qemu; tensors[0] is the model's own output."""
    with tempfile.TemporaryDirectory(prefix="onnx-avx2-") as tmp:
        out = Path(tmp) / "out.npz"
        command = [sys.executable, __file__, "--worker", model, str(out)]
        if digits:
            command += ["--digits", ",".join(map(str, digits))]
        subprocess.run([*QEMU, *command] if emulated else command, check=True, stderr=subprocess.DEVNULL)
        saved = np.load(out)
        meta = json.loads(str(saved["meta"]))
        return meta, [saved[f"t{n}"] for n in range(len(meta["names"]))]


def output_step(proto) -> float:
    """The scale of the DequantizeLinear that makes the graph's float output: one int8 output step."""
    from onnx import numpy_helper

    values = {tensor.name: tensor for tensor in proto.graph.initializer}
    (last,) = [node for node in proto.graph.node if node.output[0] == proto.graph.output[0].name]
    return float(numpy_helper.to_array(values[last.input[1]]))


MOVES_DATA = ("Reshape", "Squeeze", "Flatten", "Transpose", "Identity", "MaxPool")  # exact on any CPU


def producers(proto) -> dict:
    """QuantizeLinear output → the op that computed what it quantizes, past ops that only move data."""
    made_by = {output: node for node in proto.graph.node for output in node.output}
    found = {}
    for node in proto.graph.node:
        if node.op_type == "QuantizeLinear":
            source = made_by[node.input[0]]
            while source.op_type in MOVES_DATA and source.input[0] in made_by:
                source = made_by[source.input[0]]
            found[node.output[0]] = source
    return found


def kernel_name(proto, node) -> str:
    """'Gemm (int8)' when ONNX Runtime fuses it with its DequantizeLinear inputs, else 'Conv (float)'."""
    made_by = {output: n for n in proto.graph.node for output in n.output}
    source = made_by.get(node.input[0])
    return f"{node.op_type} ({'int8' if source is not None and source.op_type == 'DequantizeLinear' else 'float'})"


def saturating_pairs(proto, tensors: dict, node) -> np.ndarray | None:
    """Per digit, how many u8·s8 pairs (adjacent along K, as MLAS packs them) of this Gemm/Conv leave int16."""
    from onnx import numpy_helper

    if node.op_type not in ("Gemm", "Conv"):
        return None
    made_by = {output: n for n in proto.graph.node for output in n.output}
    values = {tensor.name: numpy_helper.to_array(tensor) for tensor in proto.graph.initializer}
    source, weight = made_by.get(node.input[0]), made_by.get(node.input[1])
    if source is None or weight is None or source.op_type != "DequantizeLinear" or source.input[0] not in tensors:
        return None  # a float layer
    a = tensors[source.input[0]].astype(np.int32)
    w = values[weight.input[0]].astype(np.int32)
    if node.op_type == "Gemm":
        transposed = any(attr.name == "transB" and attr.i for attr in node.attribute)
        w = w if transposed else w.T  # N×K
        k = a.shape[1] - a.shape[1] % 2
        pairs = a[:, None, 0:k:2] * w[None, :, 0:k:2] + a[:, None, 1:k:2] * w[None, :, 1:k:2]
        return (np.abs(pairs) > INT16).sum(axis=(1, 2))
    if any(attr.name == "group" and attr.i > 1 for attr in node.attribute):
        return None  # depthwise or grouped: MLAS pairs these differently, not counted
    attrs = {attr.name: list(attr.ints) for attr in node.attribute}
    pads, strides = attrs.get("pads", [0, 0, 0, 0]), attrs.get("strides", [1, 1])
    zero_point = int(values[source.input[2]]) if len(source.input) > 2 else 0
    a = np.pad(a, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=zero_point)
    kh, kw = w.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(a, (kh, kw), axis=(2, 3))[:, :, :: strides[0], :: strides[1]]
    c = w.shape[1] - w.shape[1] % 2  # pairs of input channels at one kernel position
    even = np.einsum("ncyxij,ocij->noyxcij", windows[:, 0:c:2], w[:, 0:c:2], optimize=False)
    odd = np.einsum("ncyxij,ocij->noyxcij", windows[:, 1:c:2], w[:, 1:c:2], optimize=False)
    return (np.abs(even + odd) > INT16).reshape(len(a), -1).sum(axis=1)


def explain(model: str, proto, digits: list[int], plain: tuple[np.ndarray, np.ndarray]) -> list[dict]:
    """For each digit: the first quantized tensor that differs, the op it quantizes, its largest difference in
    steps of that tensor, and the saturating u8·s8 pairs in that layer on the host's activations."""
    host_meta, host = run(model, emulated=False, digits=digits)
    _, guest = run(model, emulated=True, digits=digits)
    for exposed_output, plain_output in zip((host[0], guest[0]), plain):
        if not np.array_equal(exposed_output, plain_output[digits]):
            raise SystemExit(f"{model}: exposing the quantized tensors changed the output; no explanation")
    names = host_meta["names"]
    host_by, guest_by = dict(zip(names, host)), dict(zip(names, guest))
    made = producers(proto)
    order = [node.output[0] for node in proto.graph.node if node.output[0] in made]
    found = []
    for row, digit in enumerate(digits):
        first = next(name for name in order if not np.array_equal(host_by[name][row], guest_by[name][row]))
        pairs = saturating_pairs(proto, host_by, made[first])
        found.append(
            {
                "digit": digit,
                "kernel": kernel_name(proto, made[first]),
                "layer": made[first].name,
                "steps_there": int(np.abs(host_by[first][row].astype(int) - guest_by[first][row]).max()),
                "saturating_pairs_there": None if pairs is None else int(pairs[row]),
            }
        )
    return found


def measure(model: str, labels: np.ndarray) -> dict:
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(model)
    host_meta, (host,) = run(model, emulated=False)
    guest_meta, (guest,) = run(model, emulated=True)
    steps = np.abs(host.astype(np.float64) - guest) / output_step(proto)
    differing = np.flatnonzero(steps.max(axis=1) > 0.5).tolist()
    found = explain(model, proto, differing, (host, guest)) if differing else []
    for entry in found:
        digit = entry["digit"]
        entry.update(
            label=int(labels[digit]),
            host_reads=int(host[digit].argmax()),
            haswell_reads=int(guest[digit].argmax()),
            output_steps=int(round(steps[digit].max())),
        )
    weights = [numpy_helper.to_array(t) for t in proto.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    return {
        "model": model,
        "max_abs_int8_weight": max(int(np.abs(w.astype(np.int32)).max()) for w in weights),
        "host": {"accuracy": float((host.argmax(1) == labels).mean()), **host_meta},
        "haswell": {"accuracy": float((guest.argmax(1) == labels).mean()), **guest_meta},
        "agreement": float((host.argmax(1) == guest.argmax(1)).mean()),
        "max_steps": int(round(steps.max())),
        "differing_digits": found,
    }


def kernels(result: dict) -> str:
    """Where the two CPUs part, by kernel: how many digits, how many of them with saturating pairs there."""
    counts = Counter(entry["kernel"] for entry in result["differing_digits"])
    saturated = Counter(entry["kernel"] for entry in result["differing_digits"] if entry["saturating_pairs_there"])
    return ", ".join(f"{kernel} {n} ({saturated[kernel]} saturating)" for kernel, n in counts.items()) or "-"


def table(results: list[dict]) -> str:
    from edgemnist.common.render import markdown_table

    rows = [
        [
            result["model"],
            f"±{result['max_abs_int8_weight']}",
            f"{result['host']['accuracy']:.2%}",
            f"{result['haswell']['accuracy']:.2%}",
            f"{result['agreement']:.2%}",
            result["max_steps"],
            len(result["differing_digits"]),
            kernels(result),
        ]
        for result in results
    ]
    headers = ["model", "int8 weights", "host", "haswell", "agreement", "max Δ (steps)", "digits ≠", "first ≠ in"]
    return markdown_table(headers, rows)


def flips(results: list[dict]) -> list[str]:
    """One line per digit the two CPUs read differently."""
    return [
        f"- {Path(result['model']).name}, test digit {e['digit']} (a {e['label']}): host reads {e['host_reads']}, "
        f"haswell {e['haswell_reads']}; first difference in {e['kernel']} `{e['layer']}`, "
        f"{e['steps_there']} steps there, {e['saturating_pairs_there']} saturating u8·s8 pairs"
        for result in results
        for e in result["differing_digits"]
        if e["host_reads"] != e["haswell_reads"]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "OUT"))
    parser.add_argument("--digits", type=lambda s: [int(d) for d in s.split(",")])
    parser.add_argument("--json-file", type=Path)
    args = parser.parse_args()
    if args.worker:
        return run_worker(*args.worker, args.digits)
    from edgemnist.data import load_mnist

    labels = load_mnist().y_test.astype(int)
    results = [measure(model, labels) for model in args.models]
    if args.json_file:
        args.json_file.write_text(json.dumps(results, indent=1))
    print(table(results))
    print("\n".join(flips(results)))


if __name__ == "__main__":
    main()
