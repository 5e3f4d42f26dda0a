"""The spec's shuffle hash (``docs/spec/hashing.md``): Spark's Murmur3
x86_32 with seed 42, key columns chained, ``partition = pmod(hash, n)``.

Every executor must put a row in the same reduce partition, or a reducer
misses rows without an error; the Rust reference is
``rust/ballista-core/src/hash.rs`` and the shared vectors are
``integration/conformance/hash/vectors.json`` (the tests check every one).

Fixed-width types are hashed vectorised with numpy on ``uint32`` words
(numpy's unsigned arithmetic wraps modulo 2^32, which is what the spec
asks for); strings, binaries and wide decimals row by row.
"""

from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa

from ballista.executor.errors import ExecutorError

#: The seed of the first key column.
SEED = 42

_C1 = np.uint32(0xCC9E2D51)
_C2 = np.uint32(0x1B873593)
_M = 0xFFFFFFFF


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _mix_k1(k1: np.ndarray) -> np.ndarray:
    return _rotl(k1 * _C1, 15) * _C2


def _mix_h1(h1: np.ndarray, k1: np.ndarray) -> np.ndarray:
    h1 = _rotl(h1 ^ k1, 13)
    return h1 * np.uint32(5) + np.uint32(0xE6546B64)


def _fmix(h1: np.ndarray, length: int) -> np.ndarray:
    h1 = h1 ^ np.uint32(length)
    h1 = h1 ^ (h1 >> np.uint32(16))
    h1 = h1 * np.uint32(0x85EBCA6B)
    h1 = h1 ^ (h1 >> np.uint32(13))
    h1 = h1 * np.uint32(0xC2B2AE35)
    out: np.ndarray = h1 ^ (h1 >> np.uint32(16))
    return out


def hash_int(v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """``hashInt`` of 32-bit words ``v`` (any integer dtype, low 32 bits)."""
    with np.errstate(over="ignore"):
        return _fmix(_mix_h1(seed, _mix_k1(v.astype(np.uint32))), 4)


def hash_long(v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """``hashLong`` of 64-bit integers ``v`` (two's complement)."""
    u = v.astype(np.int64).view(np.uint64)
    low = (u & np.uint64(_M)).astype(np.uint32)
    high = (u >> np.uint64(32)).astype(np.uint32)
    with np.errstate(over="ignore"):
        h1 = _mix_h1(seed, _mix_k1(low))
        h1 = _mix_h1(h1, _mix_k1(high))
        return _fmix(h1, 8)


# Scalar versions (Python ints) for variable-length values.


def _s_rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M


def _s_mix_k1(k1: int) -> int:
    return (_s_rotl((k1 * 0xCC9E2D51) & _M, 15) * 0x1B873593) & _M


def _s_mix_h1(h1: int, k1: int) -> int:
    return (_s_rotl(h1 ^ k1, 13) * 5 + 0xE6546B64) & _M


def _s_fmix(h1: int, length: int) -> int:
    h1 ^= length & _M
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & _M
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & _M
    return h1 ^ (h1 >> 16)


def hash_bytes(b: bytes, seed: int) -> int:
    """Spark's ``hashUnsafeBytes`` of ``b`` (tail bytes mixed one by one,
    sign-extended), as an unsigned 32-bit word."""
    h1 = seed & _M
    n = len(b)
    aligned = n - n % 4
    for i in range(0, aligned, 4):
        h1 = _s_mix_h1(h1, _s_mix_k1(int.from_bytes(b[i : i + 4], "little")))
    for i in range(aligned, n):
        byte = b[i] - 256 if b[i] >= 128 else b[i]
        h1 = _s_mix_h1(h1, _s_mix_k1(byte & _M))
    return _s_fmix(h1, n)


def min_bytes(u: int) -> bytes:
    """Shortest big-endian two's-complement bytes of ``u`` keeping its sign
    (Java's ``BigInteger.toByteArray()``)."""
    length = max(1, (u.bit_length() + 8) // 8) if u >= 0 else max(1, ((~u).bit_length() + 8) // 8)
    return u.to_bytes(length, "big", signed=True)


def _float_bits(values: np.ndarray, width: int) -> np.ndarray:
    if width == 32:
        bits = values.astype(np.float32).view(np.uint32).copy()
        bits[values == 0] = 0
        bits[np.isnan(values)] = 0x7FC00000
        return bits
    bits64 = values.astype(np.float64).view(np.uint64).copy()
    bits64[values == 0] = 0
    bits64[np.isnan(values)] = 0x7FF8000000000000
    return bits64.view(np.int64)


def unscaled(d: decimal.Decimal, scale: int) -> int:
    """The unscaled integer of ``d`` at ``scale``, exactly (no context
    rounding: decimal256 values have up to 76 digits)."""
    sign, digits, exp = d.as_tuple()
    n = int("".join(map(str, digits)) or "0")
    shift = int(exp) + scale
    n = n * 10**shift if shift >= 0 else n // 10 ** (-shift)
    return int(-n if sign else n)


def _hash_column(col: pa.Array, seed: np.ndarray) -> np.ndarray:
    """Hash of each non-null value of ``col`` chained onto ``seed``; null
    rows keep their seed."""
    t = col.type
    valid = np.ones(len(col), dtype=bool) if col.null_count == 0 else col.is_valid().to_numpy(
        zero_copy_only=False
    )
    if pa.types.is_dictionary(t):
        return _hash_column(col.dictionary_decode(), seed)
    if pa.types.is_null(t):
        return seed
    out: np.ndarray
    if pa.types.is_boolean(t):
        v = col.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint32)
        out = hash_int(v, seed)
    elif t in (pa.int8(), pa.int16(), pa.int32(), pa.uint8(), pa.uint16()):
        v = col.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        out = hash_int(v, seed)
    elif t in (pa.int64(), pa.uint32()):
        v = col.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        out = hash_long(v, seed)
    elif t == pa.uint64():
        vals = col.to_pylist()
        out = seed.copy()
        for i, x in enumerate(vals):
            if x is not None:
                out[i] = hash_bytes(min_bytes(x), int(seed[i]))
    elif t in (pa.float16(), pa.float32()):
        v = col.cast(pa.float32()).fill_null(0).to_numpy(zero_copy_only=False)
        out = hash_int(_float_bits(v, 32), seed)
    elif t == pa.float64():
        v = col.fill_null(0).to_numpy(zero_copy_only=False)
        out = hash_long(_float_bits(v, 64), seed)
    elif pa.types.is_decimal(t):
        scale = t.scale
        vals = col.to_pylist()
        out = seed.copy()
        if t.precision <= 18:
            ints = np.array(
                [0 if x is None else unscaled(x, scale) for x in vals], dtype=np.int64
            )
            out = hash_long(ints, seed)
        else:
            for i, x in enumerate(vals):
                if x is not None:
                    out[i] = hash_bytes(min_bytes(unscaled(x, scale)), int(seed[i]))
    elif pa.types.is_date32(t) or pa.types.is_time32(t):
        v = col.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
        out = hash_int(v, seed)
    elif (
        pa.types.is_date64(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_time64(t)
        or pa.types.is_duration(t)
    ):
        v = col.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        out = hash_long(v, seed)
    elif t == pa.month_day_nano_interval():
        vals = col.to_pylist()
        months = np.array([0 if x is None else x.months for x in vals], dtype=np.int64)
        days = np.array([0 if x is None else x.days for x in vals], dtype=np.int64)
        nanos = np.array([0 if x is None else x.nanoseconds for x in vals], dtype=np.int64)
        out = hash_long(nanos, hash_int(days, hash_int(months, seed)))
    elif (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or str(t) in ("string_view", "binary_view")
    ):
        is_text = pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view"
        out = seed.copy()
        for i, x in enumerate(col.to_pylist()):
            if x is not None:
                out[i] = hash_bytes(x.encode() if is_text else x, int(seed[i]))
    else:
        raise ExecutorError(
            f"the spec hash does not support key columns of type {t} (docs/spec/hashing.md)",
            code="unimplemented",
        )
    return np.where(valid, out, seed).astype(np.uint32)


def row_hashes(columns: list[pa.Array], num_rows: int) -> np.ndarray:
    """The spec hash of each row over ``columns`` chained, as signed i32."""
    h = np.full(num_rows, SEED, dtype=np.uint32)
    for col in columns:
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        h = _hash_column(col, h)
    return h.view(np.int32)


def partitions(columns: list[pa.Array], num_rows: int, n: int) -> np.ndarray:
    """``pmod(hash, n)`` of each row: its reduce partition."""
    if n < 1:
        raise ExecutorError("HashPartitioning.partition_count must be at least 1")
    return np.mod(row_hashes(columns, num_rows).astype(np.int64), n)


__all__ = ["SEED", "hash_bytes", "hash_int", "hash_long", "min_bytes", "partitions", "row_hashes"]
