"""C libraries the compiled receive and decode kernels call: libzmq and DECTRIS's decoder.

Each library is loaded *globally* (``llvmlite.binding.load_library_permanently``), so
Numba code declares its functions by symbol name (``types.ExternalFunction``) and stays
cacheable (``cache=True``): nothing is compiled when the daemon starts. libzmq must be
the very copy pyzmq loaded (its sockets are passed in as raw pointers), so it is found
among the libraries mapped into this process after importing ``zmq``.
"""

from __future__ import annotations

import functools
import glob
import os
from pathlib import Path
from typing import Any

from llvmlite import binding
from numba import types

from ptyflow.errors import PtyflowError

__all__ = [
    "decompress_buffer",
    "load_native",
    "memcpy",
    "zmq_errno",
    "zmq_msg_close",
    "zmq_msg_data",
    "zmq_msg_init",
    "zmq_msg_more",
    "zmq_msg_recv",
    "zmq_msg_size",
    "zmq_send",
]

# Pointers are passed as uintp: the same register class as void* on every ABI Numba runs on.
_p, _i = types.uintp, types.intc
zmq_msg_init: Any = types.ExternalFunction("zmq_msg_init", _i(_p))
zmq_msg_recv: Any = types.ExternalFunction("zmq_msg_recv", _i(_p, _p, _i))
zmq_msg_data: Any = types.ExternalFunction("zmq_msg_data", _p(_p))
zmq_msg_size: Any = types.ExternalFunction("zmq_msg_size", _p(_p))
zmq_msg_close: Any = types.ExternalFunction("zmq_msg_close", _i(_p))
zmq_msg_more: Any = types.ExternalFunction("zmq_msg_more", _i(_p))
zmq_send: Any = types.ExternalFunction("zmq_send", _i(_p, _p, types.size_t, _i))
zmq_errno: Any = types.ExternalFunction("zmq_errno", _i())
memcpy: Any = types.ExternalFunction("memcpy", _p(_p, _p, _p))
#: size_t compression_decompress_buffer(algorithm, dst, dst_size, src, src_size, elem_size):
#: DECTRIS's single-threaded decoder (dectris-compression's own C library), the routine
#: behind ``dectris.compression.decompress``; returns the size, or SIZE_MAX on error.
decompress_buffer: Any = types.ExternalFunction(
    "compression_decompress_buffer", _p(_i, _p, types.size_t, _p, types.size_t, types.size_t)
)


def _mapped(prefix: str) -> Path | None:
    """A shared library whose file name starts with ``prefix``, mapped into this process."""
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
        if os.path.basename(path).startswith(prefix) and ".so" in path:
            return Path(path)
    return None


def _find(prefix: str, fallbacks: list[str], what: str) -> str:
    """A loaded library named ``prefix*``, else the first of ``fallbacks`` (glob patterns,
    or bare names dlopen resolves), else a PtyflowError naming what was looked for."""
    found = _mapped(prefix)
    for pattern in fallbacks:
        if found is None:
            found = (
                Path(pattern) if "/" not in pattern else next(map(Path, glob.glob(pattern)), None)
            )
    if found is None:
        raise PtyflowError(
            f"cannot find {what}: looked for a loaded library named {prefix}* in "
            f"/proc/self/maps, then for {', '.join(fallbacks) or 'nothing else'}"
        )
    return str(found)


@functools.cache
def load_native() -> dict[str, str]:
    """Load the libraries the kernels call (once); returns their paths, for the logs."""
    import zmq
    from dectris import compression

    zmq_dir = Path(zmq.__file__).parent
    libs = {
        "libzmq": _find("libzmq", [str(zmq_dir.parent / "pyzmq.libs" / "libzmq*.so*")],
                        "pyzmq's libzmq"),
        "dectris-compression": str(compression.__file__),
    }  # fmt: skip
    for path in libs.values():
        binding.load_library_permanently(path)
    return libs
