"""Pass 2 of the compiler: where each activation lives in one static arena.

Step 0 writes the quantized pixels; step i runs op i. A tensor's bytes are needed from the step that writes
it to the last step that reads it (a RESHAPE is a view: it extends its source's life instead of owning
bytes). Tensors whose lives overlap get disjoint byte ranges; the rest may share, so the arena is the
largest total the graph ever holds at once, or close to it. A kernel's scratch memory (a convolution's
widened patches) is a buffer too, live for its own step only. The graph's output goes straight to the
caller's ``scores`` and takes no arena bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .graph import Tensor
from .ops import Op

ALIGNMENT = 4  # word-aligned buffers, so kernels may read 32 bits at a time


@dataclass
class Buffer:
    name: str  # the layer that writes it ("input" for the quantized pixels), "<layer>_scratch" for scratch
    tensor: int | None  # None for a kernel's scratch
    size: int
    first: int  # the step that writes it
    last: int  # the last step that reads it
    offset: int = -1

    def overlaps(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class MemoryPlan:
    buffers: list[Buffer]
    arena_bytes: int
    busiest_step: int  # the step with the most bytes live
    busiest: list[str] = field(default_factory=list)  # the buffers live then
    views: dict = field(default_factory=dict)  # tensor index -> the tensor index whose bytes it reads

    def offset_of(self, tensor: Tensor) -> int:
        index = self.views.get(tensor.index, tensor.index)
        return next(b.offset for b in self.buffers if b.tensor == index)

    def describe(self) -> str:
        live = sum(b.size for b in self.buffers if b.name in self.busiest)
        return f"arena {self.arena_bytes} B; busiest step {self.busiest_step} holds {live} B: " + ", ".join(
            f"{b.name} {b.size} B @ {b.offset}" for b in self.buffers if b.name in self.busiest
        )


def plan_memory(ops: list[Op], model_input: Tensor, model_output: Tensor) -> MemoryPlan:
    views = {op.result.index: op.sources[0].index for op in ops if not op.kernel}
    buffers = {model_input.index: Buffer("input", model_input.index, model_input.size, 0, 0)}
    for step, op in enumerate(ops, start=1):
        for source in op.sources:
            buffers[resolve(views, source.index)].last = step
        if op.kernel and op.result.index != model_output.index:
            buffers[op.result.index] = Buffer(op.name, op.result.index, op.result.size, step, step)
    scratch = [
        Buffer(f"{op.name}_scratch", None, op.scratch_bytes(), step, step)
        for step, op in enumerate(ops, start=1)
        if op.scratch_bytes()
    ]
    placed = smallest_placement([*buffers.values(), *scratch])
    busiest_step = max(range(len(ops) + 1), key=lambda s: sum(b.size for b in placed if b.first <= s <= b.last))
    return MemoryPlan(
        sorted(placed, key=lambda b: b.first),
        max((b.offset + b.size for b in placed), default=0),
        busiest_step,
        [b.name for b in sorted(placed, key=lambda b: b.first) if b.first <= busiest_step <= b.last],
        views,
    )


def resolve(views: dict, index: int) -> int:
    while index in views:
        index = views[index]
    return index


def smallest_placement(buffers: list[Buffer]) -> list[Buffer]:
    """First fit in two orders, the one with the smaller arena: largest first, and largest in bytes times
    steps first (which keeps a short-lived scratch from pushing a long-lived tensor up)."""
    orders = [lambda b: (-b.size, b.first), lambda b: (-b.size * (b.last - b.first + 1), b.first)]
    placements = [place([replace(b) for b in sorted(buffers, key=order)]) for order in orders]
    return min(placements, key=lambda placed: max((b.offset + b.size for b in placed), default=0))


def place(buffers: list[Buffer]) -> list[Buffer]:
    """First fit in the order given: each buffer at the lowest aligned offset clear of every placed buffer
    whose life overlaps its own."""
    placed: list[Buffer] = []
    for buffer in buffers:
        offset = 0
        for other in sorted((p for p in placed if p.overlaps(buffer)), key=lambda p: p.offset):
            if offset + buffer.size <= other.offset:
                break
            offset = max(offset, aligned(other.offset + other.size))
        buffer.offset = offset
        placed.append(buffer)
    return placed


def aligned(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT
