"""SHA-256 whose running state can be saved and resumed in a later process.

A rebuild copies most of every dump from the previous release, but SHA256SUMS covers whole files,
so each copied byte used to be hashed again (~580 MB at 1M quads, the longest part of a rebuild's
tail). The bytes before the first changed piece are the previous dump's bytes, so the hash state
the previous build reached at that offset is the state this build would reach: the release index
(splice.py) keeps states at ~8 MB steps and the next build resumes from the last one before the
change. hashlib cannot export its state; OpenSSL's SHA256_Init/Update/Final (the same code hashlib
runs, with the same hardware acceleration) take a caller-owned context, which is plain data.
Where libcrypto is not found, `resumable()` returns None and dumps are hashed whole, as before.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
from typing import Protocol

_CTX_SIZE = 256      # OpenSSL's SHA256_CTX is 112 bytes; room to spare


class Hash(Protocol):
    def update(self, data: bytes) -> None: ...
    def hexdigest(self) -> str: ...


def _load() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        functions = lib.SHA256_Init, lib.SHA256_Update, lib.SHA256_Final
    except (OSError, AttributeError):
        return None
    for func in functions:
        func.restype = ctypes.c_int
    try:
        lib.OpenSSL_version.restype = ctypes.c_char_p
        lib.OpenSSL_version.argtypes = [ctypes.c_int]
    except AttributeError:
        return None
    lib.SHA256_Init.argtypes = [ctypes.c_void_p]
    lib.SHA256_Update.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.SHA256_Final.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    # trust it only if it agrees with hashlib
    probe = Sha256(lib)
    probe.update(b"tieslod")
    return lib if probe.hexdigest() == hashlib.sha256(b"tieslod").hexdigest() else None


class Sha256:
    """update/hexdigest like hashlib's, plus state() and a constructor that resumes from one.
    ctypes releases the GIL during each call, as hashlib does for large buffers."""

    def __init__(self, lib: ctypes.CDLL, state: bytes | None = None) -> None:
        self._lib = lib
        self._ctx = ctypes.create_string_buffer(_CTX_SIZE)
        if state is None:
            lib.SHA256_Init(self._ctx)
        else:
            ctypes.memmove(self._ctx, state, _CTX_SIZE)

    def update(self, data: bytes) -> None:
        if data:
            self._lib.SHA256_Update(self._ctx, data, len(data))

    def state(self) -> bytes:
        return self._ctx.raw

    def hexdigest(self) -> str:
        ctx = ctypes.create_string_buffer(self._ctx.raw, _CTX_SIZE)    # Final consumes its context
        out = ctypes.create_string_buffer(32)
        self._lib.SHA256_Final(out, ctx)
        return out.raw.hex()


# Cache: libcrypto, loaded once per process on first use (to be deleted with this module, issue 12).
_LIB: list[ctypes.CDLL | None] = []


def _lib() -> ctypes.CDLL | None:
    if not _LIB:
        _LIB.append(_load())
    return _LIB[0]


def library() -> str | None:
    """Which libcrypto made the states ("OpenSSL 3.0.19 ..."): a state is resumed only by the same
    one, since the context's layout is OpenSSL's private business. None: states are not available."""
    lib = _lib()
    return None if lib is None else lib.OpenSSL_version(0).decode()


def resumable(state: bytes | None = None, offset: int = 0) -> Sha256 | None:
    """A resumable SHA-256, or None if libcrypto is not available. From `state` if given, which must
    be the state after `offset` bytes: its bit count is checked (OpenSSL keeps it as two 32-bit words
    after the eight words of the hash), so a state that is not what it claims is refused."""
    lib = _lib()
    if lib is None:
        return None
    if state is not None:
        bits = offset * 8
        expected = (bits & 0xFFFFFFFF).to_bytes(4, "little") + (bits >> 32).to_bytes(4, "little")
        if len(state) != _CTX_SIZE or state[32:40] != expected:
            return None
    return Sha256(lib, state)
