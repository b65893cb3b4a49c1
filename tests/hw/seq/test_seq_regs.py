"""The layer-sequential engine's registers: the map generated from regs.rdl (Python view, C
header, docs) against the specification, and seq_csr simulated with AxiLiteMaster."""

from __future__ import annotations

import subprocess

import pytest

from hw.gen import seq_regs
from hw.synth import synth_xilinx
from sim import runner

# The register specification (issue 16): name -> byte address.
SPEC = {"ID": 0x00, "CONFIG": 0x04, "CTRL": 0x08, "STATUS": 0x0C, "ERROR_CODE": 0x10,
        "PROGRAM_BASE": 0x14, "PROGRAM_BYTES": 0x18, "DATA_BASE": 0x1C, "INPUT_BASE": 0x20,
        "OUTPUT_BASE": 0x24, "IMAGE_COUNT": 0x28, "CYCLES_LO": 0x30, "CYCLES_HI": 0x34,
        "STALL_LO": 0x38, "STALL_HI": 0x3C, "IMAGES_DONE": 0x40,
        "EXITS_0": 0x44, "EXITS_1": 0x48, "EXITS_2": 0x4C, "EXITS_3": 0x50}
CODES = {"NONE": 0, "AXI_READ": 1, "AXI_WRITE": 2, "BAD_INSTRUCTION": 3,
         "START_WHILE_BUSY": 4, "PROGRAM_OVERRUN": 5}


def test_map_matches_specification() -> None:
    regs = seq_regs.register_map()
    assert {name: r.address for name, r in regs.items()} == SPEC
    config = {n: (f.lsb, f.width) for n, f in regs["CONFIG"].fields.items()}
    assert config == {"PE": (0, 8), "SIMD": (8, 8), "SEGMENTS": (16, 8), "VERSION": (24, 8)}
    assert regs["CTRL"].fields["START"].writable and regs["STATUS"].fields["DONE"].writable
    assert not regs["STATUS"].fields["BUSY"].writable
    assert seq_regs.error_codes() == CODES


def test_doc_is_up_to_date() -> None:
    assert seq_regs.DOC.read_text() == seq_regs.markdown(), "run: python -m hw.gen.seq_regs"


def test_generation_is_cached(tmp_path) -> None:
    first = seq_regs.generate(tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in first.sources}
    again = seq_regs.generate(tmp_path)
    assert again == first
    assert {p: p.stat().st_mtime_ns for p in again.sources} == stamps


def test_c_header_offsets(tmp_path) -> None:
    """The generated C header compiles and puts every register at its specified offset."""
    header = seq_regs.generate(tmp_path / "gen").header
    checks = "\n".join(f'_Static_assert(offsetof(seq_regs_t, {n}) == {a}, "{n}");'
                       for n, a in SPEC.items())
    src = tmp_path / "check.c"
    src.write_text(f'#include <stddef.h>\n#include "{header}"\n{checks}\n')
    done = subprocess.run(["gcc", "-std=c11", "-fsyntax-only", str(src)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.rtl
def test_csr_lint_clean(build_root) -> None:
    """seq_csr -Wall clean (the generated block's own warnings are waived in seq_regs.vlt)."""
    done = runner.lint(seq_regs.csr_sources(build_root / "seq_regs"), top="seq_csr")
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.rtl
@pytest.mark.parametrize("config", [(1, 1, 1, 1), (16, 64, 8, 2)])
def test_csr_simulation(config: tuple[int, int, int, int], tmp_path, build_root) -> None:
    params = dict(zip(("PE", "SIMD", "SEGMENTS", "VERSION"), config, strict=True))
    built = runner.build("seq_csr", seq_regs.csr_sources(build_root / "seq_regs"), params,
                         root=build_root)
    res = runner.run(built, "tb_seq_regs", tmp_path,
                     env={"HCCR_SEQ_CONFIG": ",".join(map(str, config))})
    assert res.passed, res.message
    assert res.tests == 5


@pytest.mark.rtl
def test_csr_refuses_bad_config(build_root) -> None:
    with pytest.raises(runner.SimError, match="seq_csr: PE=0"):
        runner.build("seq_csr", seq_regs.csr_sources(build_root / "seq_regs"), {"PE": 0},
                     root=build_root)


@pytest.mark.synth
@pytest.mark.slow
def test_yosys_accepts_csr(tmp_path) -> None:
    """`synth_xilinx -family xc7` reads the generated block (packed structs) and the wrapper."""
    sources = [p for p in seq_regs.csr_sources(tmp_path / "gen") if p.suffix != ".vlt"]
    result = synth_xilinx("seq_csr", sources, {"PE": 16, "SIMD": 64}, tmp_path / "synth")
    print(f"seq_csr: {result.luts} LUTs, {result.cells.get('FDRE', 0)} FDRE")
    assert result.luts > 0 and result.dsps == 0 and result.brams == 0
