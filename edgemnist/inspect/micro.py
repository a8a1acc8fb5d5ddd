"""The arena TensorFlow Lite Micro needs for a TFLite model: a bound, checked against the real interpreter.

TFLM splits its arena in two (``micro_allocator.cc``):

- the **head**, where its ``GreedyMemoryPlanner`` places every activation (and each kernel's scratch
  buffer) by size, largest first, at the lowest offset free during its lifetime, sizes rounded up to
  16 bytes. ``planned_bytes`` replays that placement, so the head is exact, not a sum of live tensors.
- the **tail**, its bookkeeping: a ``TfLiteEvalTensor`` per tensor, a node and registration per op, the
  op's builtin options and its kernel's data (per-channel multipliers and shifts for convolutions),
  full ``TfLiteTensor`` structs for the graph's inputs and outputs, the allocator and planner objects.
  ``tflm_arena`` bounds it with per-item sizes of TFLM's 64-bit host build (what ``tflite_micro``
  runs; a 32-bit MCU's pointers make it smaller), rounded up from what its RecordingMicroAllocator reports.

Checked (tests/inspect/test_micro.py): for the float32 and int8 exports of the seed and edge models the
estimate is at least the smallest arena the real interpreter runs in, and 0.8–2.4 % above it (the tests
hold it to 15 %).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

ALIGNMENT = 16  # MicroArenaBufferAlignment(): every planned buffer and the head are rounded up to it
# Tail items, bytes on TFLM's 64-bit build, from its RecordingMicroAllocator on our models and on one-op
# models: 24 per eval tensor, 64 per node, 64 + 32 per I/O tensor, kernel data and builtin options 60–100
# per op besides per-channel arrays, ≈ 500 fixed plus ≈ 20 of options per op.
FIXED_TAIL = 640  # allocator, planner, builtin-data allocator and subgraph objects
PER_TENSOR = 24  # TfLiteEvalTensor: data and dims pointers, type
PER_OP = 64 + 128  # NodeAndRegistration, plus its builtin options and kernel op data (bound)
PER_CHANNEL = 8  # int32 output multiplier + shift per output channel (conv, depthwise, fully connected)
PER_IO_TENSOR = 64 + 32 + 16  # TfLiteTensor, its quantization params, the interpreter's pointer to it
PER_SCRATCH = 16  # ScratchBufferHandle (aligned)
PLANNING_PER_BUFFER = 96  # AllocationInfo and planner entries, held in the head while it is planned
PER_CHANNEL_OPS = {
    "CONV_2D": 0,
    "TRANSPOSE_CONV": 0,
    "FULLY_CONNECTED": 0,
    "DEPTHWISE_CONV_2D": 3,
}  # channel axis of the weights
REDUCE_OPS = {"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"}
# The ops of the models these bounds were checked on (seed, edge, mcu, a depthwise/residual model, one-op
# models); others get a note suggesting --measure.
CHECKED_OPS = {
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "MAX_POOL_2D",
    "AVERAGE_POOL_2D",
    "MEAN",
    "SOFTMAX",
    "RESHAPE",
    "SHAPE",
    "STRIDED_SLICE",
    "PACK",
    "QUANTIZE",
    "ADD",
}


@dataclass
class Buffer:
    """A planned block: its bytes and the first and last op (0 = before the first op) that need it."""

    bytes: int
    first: int
    last: int


def align(size: int) -> int:
    return -(-size // ALIGNMENT) * ALIGNMENT


def planned_bytes(buffers: list[Buffer]) -> int:
    """The head size TFLM's GreedyMemoryPlanner reaches for ``buffers`` given in the order TFLM adds them."""
    sizes = [align(b.bytes) for b in buffers]
    # TFLM fills its sort array from the end, then bubble-sorts by size, descending and stable.
    order = sorted(reversed(range(len(buffers))), key=lambda i: -sizes[i])
    placed: list[tuple[int, int]] = []  # (offset, buffer) sorted by offset, later ties after earlier ones
    for i in order:
        offset = 0
        for start, j in placed:
            if buffers[j].first > buffers[i].last or buffers[i].first > buffers[j].last:
                continue  # never alive together
            if start - offset >= sizes[i]:
                break  # the gap before this block is big enough
            offset = max(offset, start + sizes[j])
        bisect.insort_right(placed, (offset, i), key=lambda entry: entry[0])
    return max((start + sizes[i] for start, i in placed), default=0)


def scratch_bytes(op: dict, tensors: dict) -> list[int]:
    """Scratch buffers TFLM's reference kernels ask for in Prepare (reduce ops: an int32 accumulator
    for integer inputs, the input's iteration index and the resolved axes)."""
    if op["op_name"] not in REDUCE_OPS:
        return []
    source, axes, output = (tensors[op["inputs"][0]], tensors[op["inputs"][1]], tensors[op["outputs"][0]])
    sizes = [4 * len(source["shape"]), 4 * max(1, math.prod(axes["shape"]))]
    if op["op_name"] in ("MEAN", "SUM") and source["dtype"] in ("int8", "int16"):
        sizes.insert(0, 4 * math.prod(output["shape"]))
    return sizes


def per_channel_count(op: dict, tensors: dict) -> int:
    axis = PER_CHANNEL_OPS.get(op["op_name"])
    if axis is None or len(op["inputs"]) < 2:
        return 0
    return int(tensors[op["inputs"][1]]["shape"][axis])


def lifetimes(ops: list[dict], inputs, outputs) -> dict[int, tuple[int, int]]:
    """TFLM's AllocationInfoBuilder: graph inputs are alive from 0, op i's tensors from i + 1 until the
    last op that reads them, graph outputs until the end."""
    alive: dict[int, tuple[int, int]] = {}

    def use(tensor: int, scope: int) -> None:
        alive[tensor] = (alive.get(tensor, (scope,))[0], scope)

    for tensor in inputs:
        use(tensor, 0)
    for scope, op in enumerate(ops, 1):
        for tensor in [*(t for t in op["inputs"] if t >= 0), *op["outputs"]]:
            use(tensor, scope)
    for tensor in outputs:
        use(tensor, len(ops))
    return alive


def tflm_arena(ops: list[dict], tensors: dict, activations: list[int], inputs, outputs) -> tuple[int, int]:
    """(head, tail) bytes for a graph: ``ops`` in order ({op_name, inputs, outputs}), ``tensors`` by index
    ({shape, dtype, bytes}), ``activations`` the non-constant tensors in index order."""
    alive = lifetimes(ops, inputs, outputs)
    buffers = [Buffer(tensors[t]["bytes"], *alive.get(t, (-1, -1))) for t in activations if tensors[t]["bytes"]]
    scratch = [Buffer(size, scope, scope) for scope, op in enumerate(ops, 1) for size in scratch_bytes(op, tensors)]
    planning = PLANNING_PER_BUFFER * (len(buffers) + len(scratch))
    head = max(planned_bytes(buffers + scratch), align(planning))
    tail = (
        FIXED_TAIL
        + PER_TENSOR * len(tensors)
        + PER_OP * len(ops)
        + PER_IO_TENSOR * (len(inputs) + len(outputs))
        + PER_SCRATCH * len(scratch)
        + PER_CHANNEL * sum(per_channel_count(op, tensors) for op in ops)
    )
    return head, align(tail)


def unchecked_ops(ops: list[dict]) -> list[str]:
    return sorted({op["op_name"] for op in ops} - CHECKED_OPS)
