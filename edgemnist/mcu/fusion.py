"""Between the typed ops and the memory plan: ops merged where the result stays bit-exact and RAM drops.

A convolution read only by a max-pool whose windows do not overlap (stride equal to the window) becomes one
op that writes pooled values straight away: each convolution value is still computed once, requantized and
clamped as before, and the max-pool takes the largest of its window, so the output is the same bytes; the
convolution's whole output, often the largest tensor of a model, never needs RAM.
"""

from __future__ import annotations

from .ops import Conv2D, MaxPool2D, Op, shape_text


class ConvMaxPool(Op):
    """A CONV_2D and the MAX_POOL_2D that alone reads it, as one kernel call."""

    kind = "CONV_2D+MAX_POOL_2D"
    kernel = "em_conv2d_max_pool2d"

    def __init__(self, conv: Conv2D, pool: MaxPool2D):  # the parts are typed and checked already
        self.name = f"{conv.name}_{pool.name}"
        self.raw = conv.raw
        self.conv, self.pool = conv, pool
        self.sources = conv.sources
        self.result = pool.result

    def arrays(self):
        return self.conv.arrays()

    def fields(self) -> dict:
        return {"conv": self.conv.fields(), "pool": self.pool.fields()}

    def scratch_bytes(self) -> int:
        return self.conv.scratch_bytes()

    def describe(self) -> str:
        return f"{self.conv.describe()}, max-pooled ({self.pool.name}) to {shape_text(self.result)}"


def fuse(ops: list[Op]) -> list[Op]:
    """``ops`` with each fusable convolution and max-pool pair merged."""
    fused: list[Op] = []
    for op in ops:
        previous = fused[-1] if fused else None
        if isinstance(previous, Conv2D) and isinstance(op, MaxPool2D) and fusable(previous, op, ops):
            fused[-1] = ConvMaxPool(previous, op)
        else:
            fused.append(op)
    return fused


def fusable(conv: Conv2D, pool: MaxPool2D, ops: list[Op]) -> bool:
    options = pool.raw.options
    readers = [op for op in ops if any(s.index == conv.result.index for s in op.sources)]
    windows_apart = (options.strideH, options.strideW) == (options.filterHeight, options.filterWidth)
    return readers == [pool] and pool.sources[0].index == conv.result.index and windows_apart
