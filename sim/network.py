"""Simulate a generated network top (`hw.gen.network`) on whole images."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from hw.gen.network import Network
from sim import runner
from sim.stream import StreamRun, dtype_port, run_stream


def build_network(net: Network, root: Path | None = None, waves: bool = False) -> runner.Build:
    """Compile the generated top with the hw/rtl modules it uses (cached by content)."""
    return runner.build(net.top, [net.top_file, *runner.rtl_sources(*net.modules)], root=root,
                        waves=waves)


def simulate_network(net: Network, x: np.ndarray, directory: str | Path, *,
                     src_pause: str | None = None, sink_pause: str | None = None,
                     seed: int = 0, root: Path | None = None, waves: bool = False
                     ) -> StreamRun:
    """Stream images `x [N, H, W, C]` through the network; ROM images are copied alongside."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for mem in net.mem_files:
        if mem.parent.resolve() != directory.resolve():
            shutil.copy(mem, directory / mem.name)
    built = build_network(net, root, waves)
    out_elems = int(np.prod(net.out_spec.shape))
    timeout = 20 * net.pipeline_cycles + 20 * sum(e.bound_cycles for e in net.engines) + 5000
    return run_stream(built, directory, x, dtype_port("s_axis", net.in_spec.dtype),
                      dtype_port("m_axis", net.out_spec.dtype), out_elems,
                      src_pause=src_pause, sink_pause=sink_pause, seed=seed,
                      timeout_cycles=timeout, waves=waves)
