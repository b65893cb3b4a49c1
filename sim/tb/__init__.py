"""cocotb testbenches, run by `sim.runner.run` (one module per engine kind)."""
