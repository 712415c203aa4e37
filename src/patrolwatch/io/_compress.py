"""Transparent decompression: gzip, bzip2, Zstandard and zip, recognised by content.

The magic bytes decide, never the suffix: a ``.csv`` that is really gzip is read, and a
``.gz`` that is plain text is read as it is. A zip archive (or a KMZ) gives one input per
member file; a KMZ's images and other non-KML members are skipped.

Examples
--------
>>> import gzip
>>> compression_of(gzip.compress(b"x"))
'gzip'
>>> decompress(gzip.compress(b"hello"), path="a.gz")
(b'hello', 'gzip')
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import InputError

__all__ = ["Member", "compression_of", "decompress", "open_stream", "read_members"]

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\xfd7zXZ\x00", "xz"),
)
_MAX_NESTING = 2


def compression_of(head: bytes) -> str | None:
    """The compression named by the first bytes, or None for none."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def _zstd_decompress(data: bytes, path: str) -> bytes:
    try:
        import zstandard
    except ImportError:  # pragma: no cover - a dependency
        raise InputError(
            "Zstandard-compressed input needs the 'zstandard' package (pip install zstandard)",
            path=path,
        ) from None
    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as r:
            return r.read()
    except zstandard.ZstdError as exc:
        raise InputError(f"corrupt or truncated Zstandard data: {exc}", path=path) from exc


def decompress(data: bytes, *, path: str) -> tuple[bytes, str | None]:
    """Decompress one gzip, bzip2, Zstandard or xz layer (zip is :func:`read_members`).

    Returns
    -------
    (bytes, str or None)
        The content and the compression found (None: the data was not compressed).

    Raises
    ------
    InputError
        Corrupt or truncated compressed data.
    """
    kind = compression_of(data[:8])
    try:
        if kind == "gzip":
            return gzip.decompress(data), kind
        if kind == "bzip2":
            return bz2.decompress(data), kind
        if kind == "xz":
            return lzma.decompress(data), kind
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise InputError(
            f"corrupt or truncated {kind} data ({exc}); check the download or re-compress",
            path=path,
        ) from exc
    if kind == "zstd":
        return _zstd_decompress(data, path), kind
    return data, None


@dataclass
class Member:
    """One input after decompression: its name, its content and how it was packed."""

    name: str
    data: bytes
    compression: tuple[str, ...]


def read_members(path: str | os.PathLike[str]) -> list[Member]:
    """The inputs inside a file: itself (decompressed), or each member of a zip.

    Raises
    ------
    InputError
        The file cannot be read, or its compression is corrupt.
    """
    p = os.fspath(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read()
    except IsADirectoryError:
        raise InputError("is a folder; give the files in it", path=p) from None
    except OSError as exc:
        raise InputError(f"cannot open file: {exc.strerror or exc}", path=p) from exc
    return _unpack(p, data, ())


def _unpack(name: str, data: bytes, chain: tuple[str, ...]) -> list[Member]:
    kind = compression_of(data[:8])
    if kind is None or len(chain) >= _MAX_NESTING:
        return [Member(name, data, chain)]
    if kind != "zip":
        inner, _ = decompress(data, path=name)
        return _unpack(name, inner, (*chain, kind))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
        kml = [i for i in infos if i.filename.lower().endswith(".kml")]
        if kml and name.lower().endswith(".kmz"):
            infos = kml
        out: list[Member] = []
        for info in infos:
            if info.filename.startswith("__MACOSX/"):
                continue
            out += _unpack(f"{name}!{info.filename}", zf.read(info), (*chain, "zip"))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise InputError(
            f"corrupt or truncated zip archive ({exc}); check the download", path=name
        ) from exc
    if not out:
        raise InputError("the zip archive holds no files", path=name)
    return out


class _ZstdStream(io.RawIOBase):
    """A readable stream over a Zstandard file (closes the file with the stream)."""

    def __init__(self, fh: BinaryIO) -> None:
        import zstandard

        self._fh = fh
        self._r = zstandard.ZstdDecompressor().stream_reader(fh)

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._r.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        self._r.close()  # type: ignore[no-untyped-call]  # zstandard has no stubs
        self._fh.close()
        super().close()


def open_stream(path: str | os.PathLike[str]) -> tuple[BinaryIO, str | None]:
    """Open a file for streaming, decompressing gzip, bzip2, xz or Zstandard on the fly.

    Zip archives are not streamed (see :func:`read_members`); the caller falls back.

    Returns
    -------
    (binary stream, compression or None)
    """
    p = os.fspath(path)
    try:
        fh = open(p, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except OSError as exc:
        raise InputError(f"cannot open file: {exc.strerror or exc}", path=p) from exc
    kind = compression_of(fh.read(8))
    fh.seek(0)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=fh, mode="rb"), kind  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.BZ2File(fh, "rb"), kind  # type: ignore[return-value]
    if kind == "xz":
        return lzma.LZMAFile(fh, "rb"), kind  # type: ignore[return-value]
    if kind == "zstd":
        return io.BufferedReader(_ZstdStream(fh)), kind
    return fh, kind


def iter_chunks(stream: BinaryIO, size: int, *, path: str) -> Iterator[bytes]:
    """Read ``stream`` in chunks of about ``size`` bytes, translating decompression errors."""
    while True:
        try:
            chunk = stream.read(size)
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
            raise InputError(f"corrupt or truncated compressed data ({exc})", path=path) from exc
        except Exception as exc:  # zstandard.ZstdError has no common base with the others
            if type(exc).__module__.startswith("zstandard"):
                raise InputError(f"corrupt Zstandard data ({exc})", path=path) from exc
            raise
        if not chunk:
            return
        yield chunk
