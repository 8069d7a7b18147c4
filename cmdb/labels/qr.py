"""QR symbols as boolean module matrices.

The ``qrcode`` package encodes the data (segments, Reed-Solomon, placement). Its own mask
selection renders the symbol eight times in pure Python (about 9 ms a code), which alone
would use up the time budget of a 1,000-label sheet; here the symbol is placed once with
mask 0 and the eight masks are scored with numpy on the same data bits, using the
ISO/IEC 18004 penalty rules.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import qrcode
import qrcode.util
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.exceptions import DataOverflowError

from cmdb.errors import InvalidInput
from cmdb.i18n import _

ERROR_CORRECTION = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q,
                    "H": ERROR_CORRECT_H}
QUIET_ZONE = 4  # modules of light margin the standard requires around the symbol
MIN_MODULE_MM = 0.25  # below this, phone cameras and handheld scanners start to miss codes


def error_correction_level(level: str) -> str:
    normalised = str(level).strip().upper()
    if normalised not in ERROR_CORRECTION:
        raise InvalidInput(_("Unknown QR error correction level %(level)r; allowed: L, M, Q, H",
                             level=level),
                           field="error_correction", value=level, allowed=list(ERROR_CORRECTION))
    return normalised


def qr_matrix(data: str, level: str = "Q") -> np.ndarray:
    """The symbol for ``data`` as a square bool array (True = dark), without quiet zone."""
    ecc = ERROR_CORRECTION[error_correction_level(level)]
    try:
        code = _made(data, ecc, optimize=20)
    except ValueError as exc:
        # qrcode 8.2's Reed-Solomon step fails with "glog(0)" for some long runs of digits
        # (upstream issue #330); one byte-mode segment encodes the same text without it.
        if "glog" not in str(exc):
            raise
        code = _made(data, ecc, optimize=0)
    except DataOverflowError:
        raise InvalidInput(_("%(data)r is too long for a QR code at error correction %(level)s",
                             data=data, level=level),
                           field="key", value=data) from None
    masked0 = np.array(code.modules, dtype=bool)
    data_cells, function_modules = _layout(code.version, ecc)  # function_modules: (8, n, n)
    n = masked0.shape[0]
    masks = _mask_grids(n)
    bits = masked0 ^ (data_cells & masks[0])
    candidates = np.where(data_cells, bits ^ masks, function_modules)
    return candidates[int(np.argmin(_penalties(candidates)))]


def _made(data: str, ecc: int, *, optimize: int) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ecc, border=0, mask_pattern=0)
    code.add_data(data, optimize=optimize)
    code.make(fit=True)
    return code


def qr_version_for_bytes(length: int, level: str = "Q") -> int:
    """The smallest version holding ``length`` bytes in byte mode (the worst case)."""
    return _version_for_bytes(length, ERROR_CORRECTION[error_correction_level(level)])


@lru_cache(maxsize=4096)
def _version_for_bytes(length: int, ecc: int) -> int:
    for version in range(1, 41):
        needed = 4 + qrcode.util.length_in_bits(qrcode.util.MODE_8BIT_BYTE, version) + 8 * length
        if needed <= qrcode.util.BIT_LIMIT_TABLE[ecc][version]:
            return version
    raise InvalidInput(_("%(length)s bytes are too many for a QR code", length=length), field="key", value=length)


def modules_for_version(version: int) -> int:
    return version * 4 + 17


@lru_cache(maxsize=None)
def _mask_grids(n: int) -> np.ndarray:
    """The eight mask patterns for an n x n symbol, as an (8, n, n) stack."""
    rules = [qrcode.util.mask_func(mask) for mask in range(8)]
    return np.array([[[bool(rule(i, j)) for j in range(n)] for i in range(n)] for rule in rules])


@lru_cache(maxsize=None)
def _layout(version: int, ecc: int) -> tuple[np.ndarray, np.ndarray]:
    """Which modules carry data, and the function patterns (with format info) per mask."""
    shell = qrcode.QRCode(version=version, error_correction=ecc, border=0)
    per_mask = []
    data_cells = None
    for mask in range(8):
        n = shell.modules_count = modules_for_version(version)
        shell.modules = [[None] * n for _ in range(n)]
        shell.setup_position_probe_pattern(0, 0)
        shell.setup_position_probe_pattern(n - 7, 0)
        shell.setup_position_probe_pattern(0, n - 7)
        shell.setup_position_adjust_pattern()
        shell.setup_timing_pattern()
        shell.setup_type_info(False, mask)
        if version >= 7:
            shell.setup_type_number(False)
        if data_cells is None:
            data_cells = np.array([[m is None for m in row] for row in shell.modules])
        per_mask.append(np.array([[m is True for m in row] for row in shell.modules]))
    return data_cells, np.stack(per_mask)


_FINDER_LIKE = (np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], dtype=np.int8),
                np.array([0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1], dtype=np.int8))


def _penalties(stack: np.ndarray) -> np.ndarray:
    """The penalty score of each candidate symbol in a (masks, n, n) stack."""
    transposed = stack.transpose(0, 2, 1)
    score = _run_penalties(stack) + _run_penalties(transposed)
    top_left = stack[:, :-1, :-1]
    same = ((top_left == stack[:, 1:, :-1]) & (top_left == stack[:, :-1, 1:])
            & (top_left == stack[:, 1:, 1:]))
    score += 3 * same.sum(axis=(1, 2))
    score += 40 * (_finder_like(stack) + _finder_like(transposed))
    dark_percent = 100.0 * stack.sum(axis=(1, 2)) / stack[0].size
    score += 10 * (np.abs(dark_percent - 50) // 5).astype(np.int64)
    return score


def _run_penalties(stack: np.ndarray) -> np.ndarray:
    """Rule 1: 3 + (length - 5) for every run of five or more same-coloured modules in a row."""
    count = stack.shape[0]
    padded = np.pad(stack.astype(np.int8), ((0, 0), (0, 0), (0, 1)), constant_values=2)
    per_mask = padded.reshape(count, -1)
    flat = per_mask.ravel()
    flat = np.concatenate((flat, [3]))
    change = np.flatnonzero(np.diff(flat)) + 1
    starts = np.concatenate(([0], change[:-1]))
    lengths = change - starts
    values = flat[starts]
    scores = np.where((lengths >= 5) & (values < 2), lengths - 2, 0)
    return np.bincount(starts // per_mask.shape[1], weights=scores, minlength=count).astype(np.int64)


def _finder_like(stack: np.ndarray) -> np.ndarray:
    if stack.shape[2] < 11:
        return np.zeros(stack.shape[0], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(stack.astype(np.int8), 11, axis=2)
    return sum((windows == pattern).all(axis=3).sum(axis=(1, 2)) for pattern in _FINDER_LIKE)
