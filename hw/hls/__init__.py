"""hls4ml back end: IR → Vivado HLS project (io_stream), C-simulated bit-exact against golden.

`lower` maps IR ops to hls4ml layers with every type set (`fixed`, `conv2d`, `dense`,
`maxpool`, `concat`, ...; `extension` + `hccr_ops.h` are the custom layers for sigmoid, mul,
reshape, channel max and overlapping pools), `config` holds part, clock, Strategy and
ReuseFactor, `project` writes and compiles the project, `compare` checks it against
`quant/golden.py`, and `report` reads a Vivado HLS `csynth.xml`.
"""
