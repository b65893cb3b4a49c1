"""Exact ap_fixed types for integer data: the smallest type that holds given values unchanged.

Every value the back end hands hls4ml is dyadic, `n · 2^-s` with integer n and s, so it has an
exact `ap_fixed<W, I>` (W bits, I of them above the binary point, signed) or `ap_ufixed<W, I>`.
Weights are loaded through a C `double` (hls4ml's `load_weights_from_txt`), so a value may
carry at most 53 significant bits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DOUBLE_BITS = 53


@dataclass(frozen=True)
class Fixed:
    """An `ap_fixed` / `ap_ufixed` type in hls4ml's notation.

    Attributes:
        width: total bits W.
        integer: bits above the binary point I (may be negative or exceed W).
        signed: ap_fixed (True) or ap_ufixed (False).
        rounding: quantisation mode (`TRN` truncates, `RND` rounds half up: floor(x + 1/2)).
        saturation: overflow mode (`WRAP` or `SAT`).
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    saturation: str = "WRAP"

    @property
    def frac(self) -> int:
        """Bits below the binary point."""
        return self.width - self.integer

    @property
    def lo(self) -> int:
        """Smallest value, in units of the last bit."""
        return -(2 ** (self.width - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        """Largest value, in units of the last bit."""
        return 2 ** (self.width - 1) - 1 if self.signed else 2**self.width - 1

    def __str__(self) -> str:
        mode = "" if (self.rounding, self.saturation) == ("TRN", "WRAP") else (
            f",{self.rounding},{self.saturation}")
        return f"{'' if self.signed else 'u'}fixed<{self.width},{self.integer}{mode}>"


def integer_range(lo: int, hi: int) -> Fixed:
    """The smallest integer type (no fraction) holding every value of `[lo, hi]`."""
    if lo >= 0:
        width = max(hi.bit_length(), 1)
        return Fixed(width, width, signed=False)
    width = max(_width(lo), _width(hi))
    return Fixed(width, width)


def saturating(lo: int, hi: int) -> Fixed | None:
    """The integer type whose range is exactly `[lo, hi]`, rounding and saturating; else None.

    Casting a fraction to it computes `clip(floor(x + 1/2), lo, hi)`.
    """
    size = hi - lo + 1
    if size < 2 or size & (size - 1):
        return None
    width = size.bit_length() - 1
    if lo == 0:
        return Fixed(width, width, signed=False, rounding="RND", saturation="SAT")
    if lo == -(size // 2):
        return Fixed(width, width, rounding="RND", saturation="SAT")
    return None


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def _width(n: int) -> int:
    """Bits of the smallest signed integer type holding n."""
    return (n if n >= 0 else -n - 1).bit_length() + 1


def dyadic(values: Iterable[tuple[int, int]]) -> Fixed:
    """The smallest signed type holding every `n · 2^-s` of `values` (pairs `(n, s)`) exactly.

    Raises:
        ValueError: a value needs more than 53 significant bits.
    """
    pairs = [(n, s) for n, s in values if n]
    for n, s in pairs:
        significant = abs(n).bit_length() - _trailing_zeros(n)
        if significant > DOUBLE_BITS:
            raise ValueError(f"value {n}·2^-{s} needs {significant} significant bits, more than "
                             f"the {DOUBLE_BITS} a double carries")
    frac = max([0, *(s - _trailing_zeros(n) for n, s in pairs)])
    width = max((_width(n << (frac - s) if frac >= s else n >> (s - frac)) for n, s in pairs),
                default=1)
    return Fixed(width, width - frac)


def with_integer_bit(t: Fixed) -> Fixed:
    """`t` widened to at least one integer bit.

    A rounding cast from a type with no integer bit (`ap_fixed<22, -5>` to an integer type)
    reads a bit above the source's MSB and trips an assertion inside ap_private.
    """
    return t if t.integer >= 1 else Fixed(t.frac + 1, 1, t.signed, t.rounding, t.saturation)
