"""The engine's AXI4 master DMA (hw/rtl/seq/axi_dma*.sv): lint, elaboration checks, Yosys, and
the cocotb tests of tb_seq_dma against cocotbext-axi's AxiRam with random latency and
backpressure."""

from __future__ import annotations

import pytest

from base.paths import ROOT
from hw.gen.seq_regs import AXI_MACROS
from hw.synth import synth_xilinx
from sim import runner

SEQ = ROOT / "hw" / "rtl" / "seq"
# Each module's sources in compile order (itself last).
SOURCES = {
    "axi_burst": [SEQ / AXI_MACROS, SEQ / "axi_burst.sv"],
}
SOURCES["axi_dma_rd"] = [*SOURCES["axi_burst"], runner.RTL_DIR / "fifo.sv", SEQ / "axi_dma_rd.sv"]
SOURCES["axi_dma_wr"] = [*SOURCES["axi_burst"], runner.RTL_DIR / "fifo.sv", SEQ / "axi_dma_wr.sv"]
SOURCES["axi_dma"] = [*SOURCES["axi_dma_rd"], SEQ / "axi_dma_wr.sv", SEQ / "axi_dma.sv"]

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("top", list(SOURCES))
@pytest.mark.parametrize("params", [{}, {"MAX_BURST": 1, "OUTSTANDING": 1},
                                    {"MAX_BURST": 256, "OUTSTANDING": 3}], ids=str)
def test_lint_clean(top: str, params: dict) -> None:
    if top == "axi_burst":
        params = {k: v for k, v in params.items() if k != "OUTSTANDING"}
    done = runner.lint(SOURCES[top], top=top, parameters=params)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.parametrize(("params", "message"), [
    ({"MAX_BURST": 0}, "axi_burst: MAX_BURST=0"),
    ({"MAX_BURST": 257}, "axi_burst: MAX_BURST=257"),
    ({"OUTSTANDING": 0}, "axi_dma_rd: OUTSTANDING=0"),
])
def test_bad_parameters_stop_elaboration(params: dict, message: str, build_root) -> None:
    with pytest.raises(runner.SimError, match=message):
        runner.build("axi_dma", SOURCES["axi_dma"], params, root=build_root)


# (MAX_BURST, OUTSTANDING, pause pattern of the RAM channels and the streams)
CASES = [(16, 4, "random"), (16, 4, "none"), (4, 2, "1110"),
         pytest.param(16, 1, "random", marks=pytest.mark.slow)]


@pytest.mark.parametrize(("burst", "outstanding", "pause"), CASES)
def test_dma_against_axi_ram(burst: int, outstanding: int, pause: str, seed: int, tmp_path,
                             build_root) -> None:
    built = runner.build("axi_dma", SOURCES["axi_dma"],
                         {"MAX_BURST": burst, "OUTSTANDING": outstanding}, root=build_root)
    res = runner.run(built, "tb_seq_dma", tmp_path,
                     env={"HCCR_DMA_CONFIG": f"{burst},{outstanding}", "HCCR_DMA_PAUSE": pause,
                          "HCCR_DMA_SEED": str(seed)})
    assert res.passed, res.message
    assert res.tests == 6


@pytest.mark.synth
@pytest.mark.slow
def test_yosys_accepts_dma(tmp_path) -> None:
    """`synth_xilinx -family xc7` maps the DMA at its default parameters onto LUTs and flops."""
    result = synth_xilinx("axi_dma", SOURCES["axi_dma"], {}, tmp_path)
    print(f"axi_dma: {result.luts} LUTs, {result.cells.get('FDRE', 0)} FDRE, "
          f"{result.brams} BRAMs, cells {result.cells}")
    assert result.luts > 0 and result.dsps == 0
