"""Pass 3 of the compiler: the C library, as a person would write it.

One header (the entry point, the arena's size) and one source: the pixel table, each layer's constants and
parameters under the layer's name with a comment saying what it is, the arena, and ``<name>_run`` calling
the kernels in order. No floating point and no allocation: the kernels' file does the arithmetic.
"""

from __future__ import annotations

import numpy as np

from .ops import Op
from .plan import Buffer, MemoryPlan

KERNEL_HEADER = "portable.h"
VALUES_PER_LINE = {"int8_t": 16, "int32_t": 8}


def c_array(name: str, ctype: str, values: np.ndarray, meaning: str) -> str:
    flat = [int(v) for v in np.asarray(values).ravel()]
    step = VALUES_PER_LINE[ctype]
    lines = [", ".join(str(v) for v in flat[i : i + step]) for i in range(0, len(flat), step)]
    body = ",\n    ".join(lines)
    return f"/* {meaning} */\nstatic const {ctype} {name}[{len(flat)}] = {{\n    {body}\n}};\n"


def layer_constants(op: Op) -> str:
    parts = [c_array(f"{op.name}_{a.suffix}", a.ctype, a.values, a.meaning) for a in op.arrays()]
    struct = f"{op.kernel}_params"
    parts.append(f"static const {struct} {op.name} = {{\n" + initializer(op.name, op.fields(), 1) + "\n};\n")
    return f"/* {op.name}: {op.describe()} */\n" + "\n".join(parts)


def initializer(layer: str, fields: dict, depth: int) -> str:
    """A struct's designated initializers: a number, one of the layer's arrays (named by suffix), or a
    nested struct (a fused op's parts)."""
    indent = "    " * depth
    lines = []
    for key, value in fields.items():
        if isinstance(value, dict):
            lines.append(f"{indent}.{key} = {{\n{initializer(layer, value, depth + 1)}\n{indent}}},")
        else:
            lines.append(
                f"{indent}.{key} = {layer}_{value}," if isinstance(value, str) else f"{indent}.{key} = {int(value)},"
            )
    return "\n".join(lines)


def header(name: str, source: str, plan: MemoryPlan, input_size: int, output_size: int, output_note: str) -> str:
    guard = f"{name.upper()}_H"
    return f"""/* {name}: {source} compiled to C by edgemnist. */
#ifndef {guard}
#define {guard}

#include <stdint.h>

#define {name.upper()}_RAM_BYTES {plan.arena_bytes} /* the static arena: every activation of one inference */
#define {name.upper()}_INPUT_SIZE {input_size}
#define {name.upper()}_OUTPUT_SIZE {output_size}

/* Reads {input_size} uint8 pixels (28x28, row by row, 0 black) and writes the {output_size} int8 scores;
 * {output_note}. Returns 0. Uses a static arena: one call at a time. */
int {name}_run(const uint8_t pixels[{input_size}], int8_t scores[{output_size}]);

#endif
"""


def buffer_name(buffer: Buffer) -> str:
    """The C pointer to a buffer: ``input``, ``<layer>_out`` for a layer's result, ``<layer>_scratch``."""
    return buffer.name if buffer.tensor is None or buffer.name == "input" else f"{buffer.name}_out"


def source_file(name: str, ops: list[Op], plan: MemoryPlan, input_table: np.ndarray, output_index: int) -> str:
    """The model's C source: constants, arena and the entry point."""
    upper = name.upper()
    arena = f"{upper}_RAM_BYTES"
    by_tensor = {b.tensor: buffer_name(b) for b in plan.buffers if b.tensor is not None}

    def pointer(tensor) -> str:
        if tensor.index == output_index:
            return "scores"
        return by_tensor[plan.views.get(tensor.index, tensor.index)]

    def arguments(op: Op) -> str:
        scratch = [f"{op.name}_scratch"] if op.scratch_bytes() else []
        return ", ".join([f"&{op.name}", *(pointer(t) for t in op.sources), pointer(op.result), *scratch])

    pointers = [
        f"    int8_t *const {buffer_name(b)} = arena.bytes + {b.offset}; /* {b.size} B */" for b in plan.buffers
    ]
    calls = [f"    {op.kernel}({arguments(op)});" for op in ops if op.kernel]
    return "\n".join(
        [
            f'#include "{name}.h"',
            f'#include "{KERNEL_HEADER}"',
            "",
            c_array("input_table", "int8_t", input_table, "the model's int8 input for each pixel value 0..255"),
            *(layer_constants(op) for op in ops if op.kernel),
            f"/* {plan.describe()} */",
            f"static union {{\n    int32_t words[({arena} + 3) / 4];\n    int8_t bytes[{arena}];\n}} arena;\n",
            f"int {name}_run(const uint8_t pixels[{upper}_INPUT_SIZE], int8_t scores[{upper}_OUTPUT_SIZE])",
            "{",
            *pointers,
            "    int i;",
            f"    for (i = 0; i < {upper}_INPUT_SIZE; i++) {{",
            "        input[i] = input_table[pixels[i]];",
            "    }",
            *calls,
            "    return 0;",
            "}",
            "",
        ]
    )
