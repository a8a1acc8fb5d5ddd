"""An ahead-of-time compiler from an int8 TFLite model to dependency-free C, with kernels of our own.

``compile_model(path, out_dir)`` writes ``<name>.h``, ``<name>.c`` and the kernels (``portable.c``, and ``dsp.h``
that it uses under ``-DEM_KERNELS_DSP``); ``host`` builds them for this machine and loads them with ctypes;
``firmware`` builds them with edgemnist's harness
(``harness/``) for a Cortex-M board, ``emulator`` runs that in qemu-system-arm, ``deploy`` is ``edgemnist compile``.
"""

from .compiler import CompiledModel, compile_model

__all__ = ["CompiledModel", "compile_model"]
