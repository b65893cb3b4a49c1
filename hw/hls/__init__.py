"""hls4ml back end: IR → Vivado HLS project (io_stream), C-simulated bit-exact against golden.

`lower` maps IR ops to hls4ml layers with every type set (`fixed`, `conv2d`, `dense`,
`maxpool`, `concat`), `config` holds part, clock, Strategy and ReuseFactor, `project` writes
and compiles the project, `compare` checks it against `quant/golden.py`, and `report` reads a
Vivado HLS `csynth.xml`.
"""
