"""CRC-32C (Castagnoli), the checksum of TensorFlow's checkpoint files, in numpy at a few hundred MB/s.

Python's ``zlib.crc32`` is the other polynomial. A byte-at-a-time loop in Python would take seconds per
megabyte, so the data is cut into equal lanes that advance together, one numpy step per byte position,
and the lanes' checksums are then joined as zlib's ``crc32_combine`` joins two: a CRC register is a linear
function of its input over GF(2), and running it over n zero bytes is a 32x32 bit matrix, squared up to n.
The cost is linear in the data's length.
"""

from __future__ import annotations

import math

import numpy as np

_POLY = 0x82F63B78  # CRC-32C, reflected


def _byte_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1).astype(np.uint32)
    return table


_TABLE = _byte_table()


def _apply(matrix: list[int], vector: int) -> int:
    """matrix (32 column ints) times vector over GF(2)."""
    result, column = 0, 0
    while vector:
        if vector & 1:
            result ^= matrix[column]
        vector >>= 1
        column += 1
    return result


def _zeros_operator(count: int) -> list[int]:
    """The matrix that runs a CRC register over ``count`` zero bytes."""
    one_bit = [_POLY] + [1 << (n - 1) for n in range(1, 32)]  # one zero bit
    operator = [1 << n for n in range(32)]  # identity
    power = one_bit
    for _ in range(3):  # one zero byte = one bit squared three times
        power = [_apply(power, column) for column in power]
    while count:
        if count & 1:
            operator = [_apply(power, column) for column in operator]
        count >>= 1
        if count:
            power = [_apply(power, column) for column in power]
    return operator


def _raw(lanes: np.ndarray) -> np.ndarray:
    """CRC registers (from 0, no final xor) of each row of ``lanes`` (L, m) uint8 -> (L,) uint32."""
    crc = np.zeros(len(lanes), dtype=np.uint32)
    for column in lanes.T:
        crc = _TABLE[(crc ^ column) & 0xFF] ^ (crc >> 8)
    return crc


def crc32c(data: bytes | memoryview | np.ndarray) -> int:
    """The CRC-32C of ``data`` (initial value and final xor 0xFFFFFFFF, as TF and LevelDB compute it)."""
    array = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.reshape(-1)
    length = len(array)
    # Lane length ~ sqrt(length): numpy steps and Python-level joins then cost about the same.
    width = max(1, min(length, int(math.sqrt(length / 2)) + 1))
    lanes = length // width
    raw = 0
    if lanes:
        registers = _raw(array[: lanes * width].reshape(lanes, width))
        join = _zeros_operator(width)
        for register in registers.tolist():
            raw = _apply(join, raw) ^ register
    tail = array[lanes * width :]
    if len(tail):
        raw = _apply(_zeros_operator(len(tail)), raw) ^ int(_raw(tail[None])[0])
    start = _apply(_zeros_operator(length), 0xFFFFFFFF)  # the initial value, run over the data
    return raw ^ start ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    """LevelDB's and TF's masked form of a CRC, as stored in their files."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
