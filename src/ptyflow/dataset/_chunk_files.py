"""Whole chunk files (shards included) encoded in one pass, byte for byte as zarr writes them.

zarr-python encodes a shard through its asyncio codec pipeline: a task and a thread hop
per inner chunk, ~0.5 ms each on this machine, so a 16 × 16 shard of 4 × 4 chunks costs
10-20 ms of mostly Python time, whatever its size. The writer writes only whole shards,
and only with the codec chains ptyflow creates (``bytes`` → Blosc → ``crc32c``, inside a
``sharding_indexed`` codec for ``data``), so it encodes those itself: numcodecs' Blosc
and google-crc32c (both release the GIL), the inner chunks in zarr's Morton order, the
index (offset, length per chunk, little-endian u64, CRC-32C) at the end. The file is
written to a temp name and renamed, as zarr's LocalStore does. Any other chain, or a
write covering part of a chunk, goes through zarr. ``tests/dataset`` checks the files
equal zarr's own, byte for byte.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import google_crc32c
import numcodecs
import numpy as np
import zarr
from numpy.typing import NDArray
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, ShardingCodec
from zarr.core.indexing import morton_order_iter

from ptyflow._files import partial_path
from ptyflow.provenance import ManifestEntry

__all__ = ["ChunkFiles", "manifest_entry"]

_EMPTY = 2**64 - 1  # the shard index's (offset, length) of a chunk that is not stored
_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}

Encode = Callable[[bytes | memoryview], bytes]


def manifest_entry(data: bytes) -> ManifestEntry:
    """The manifest entry of a file holding ``data`` (hashed from memory, not re-read)."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data)}


def _crc32c(data: bytes | memoryview) -> bytes:
    # the C extension takes a numpy array (no copy) but not a memoryview
    crc = int(google_crc32c.value(np.frombuffer(data, np.uint8)))
    return b"".join([data, crc.to_bytes(4, "little")])


def _chain(codecs: Sequence[Any]) -> Encode | None:
    """The bytes → bytes encoder of a chain ``bytes, [blosc], crc32c``, or None if the
    chain holds anything else."""
    if not codecs or not isinstance(codecs[0], BytesCodec) or codecs[0].endian == "big":
        return None
    steps: list[Encode] = []
    for codec in codecs[1:]:
        if isinstance(codec, Crc32cCodec):
            steps.append(_crc32c)
        elif isinstance(codec, BloscCodec):
            blosc = numcodecs.Blosc(
                cname=codec.cname.value,
                clevel=codec.clevel,
                shuffle=_SHUFFLE[codec.shuffle.value],
                blocksize=codec.blocksize,
                typesize=codec.typesize,
            )
            steps.append(blosc.encode)
        else:
            return None

    def encode(data: bytes | memoryview) -> bytes:
        out: Any = data
        for step in steps:
            out = step(out)
        return bytes(out)

    return encode


class ChunkFiles:
    """Writes blocks of ``array`` (in the store at ``root``) whole chunk file by chunk file.

    ``write(nav, block)`` returns the file written and its bytes when the fast path took
    it (the caller may hash them: they are what is on disk), else None after zarr wrote it.
    """

    def __init__(self, array: zarr.Array[Any], root: Path) -> None:
        self._array = array
        self._root = root
        self._dirs: set[Path] = set()  # directories known to exist
        self._chunk: tuple[int, ...] = array.shards or array.chunks  # one file each
        self._fill = np.full((), array.fill_value, dtype=array.dtype)
        self._dtype = np.dtype(array.dtype).newbyteorder("<")
        codecs = array.metadata.codecs  # type: ignore[union-attr]
        self._inner: tuple[int, ...] | None = None
        if len(codecs) == 1 and isinstance(codecs[0], ShardingCodec):
            sharding = codecs[0]
            self._inner = tuple(sharding.chunk_shape)
            self._encode = _chain(sharding.codecs)
            index = _chain(sharding.index_codecs)
            if sharding.index_location.value != "end" or index is None:
                self._encode = None
            self._encode_index = index
        else:
            self._encode = _chain(codecs)

    def key(self, nav: tuple[slice, ...]) -> str:
        """The file holding the chunk (shard) that starts at ``nav``, relative to the root."""
        coords = tuple(s.start // n for s, n in zip(nav, self._chunk, strict=False))
        coords += (0,) * (len(self._chunk) - len(coords))  # frames are never split
        return f"{self._array.path}/{self._array.metadata.encode_chunk_key(coords)}"

    def write(self, nav: tuple[slice, ...], block: NDArray[Any]) -> tuple[str, bytes | None]:
        """Store ``block`` at navigation slices ``nav``; return (file, its bytes or None)."""
        rel = self.key(nav)
        whole = all(  # exactly one chunk, clipped at the array's edge
            s.start % n == 0 and s.stop == min(s.start + n, dim)
            for s, n, dim in zip(nav, self._chunk, self._array.shape, strict=False)
        )
        if self._encode is None or not whole:
            self._array[nav] = block  # zarr reads, patches and rewrites the file
            return rel, None
        data = self._encoded(block)
        path = self._root / rel
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        tmp = partial_path(path)
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk must not leave a stray temp file
            raise
        return rel, data

    def _encoded(self, block: NDArray[Any]) -> bytes:
        assert self._encode is not None
        full = block.astype(self._dtype, copy=False)
        if block.shape != self._chunk:  # clipped at the array's edge: pad with the fill
            full = np.full(self._chunk, self._fill, dtype=self._dtype)
            full[tuple(slice(0, n) for n in block.shape)] = block
        if self._inner is None:
            return self._encode(np.ascontiguousarray(full).data)
        per_shard = tuple(s // c for s, c in zip(self._chunk, self._inner, strict=True))
        index = np.full((*per_shard, 2), _EMPTY, dtype="<u8")
        parts, offset = [], 0
        for coords in morton_order_iter(per_shard):
            if any(c * n >= m for c, n, m in zip(coords, self._inner, block.shape, strict=True)):
                continue  # wholly outside the array: zarr stores no chunk there either
            where = tuple(
                slice(c * n, (c + 1) * n) for c, n in zip(coords, self._inner, strict=True)
            )
            part = self._encode(np.ascontiguousarray(full[where]).data)
            index[coords] = (offset, len(part))
            parts.append(part)
            offset += len(part)
        assert self._encode_index is not None
        parts.append(self._encode_index(index.data))
        return b"".join(parts)
