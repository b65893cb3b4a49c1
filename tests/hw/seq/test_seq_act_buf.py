"""The layer-sequential engine's activation buffer (hw/rtl/seq/seq_act_buf.sv): lint,
elaboration checks, random unaligned access against a Python bytearray."""

from __future__ import annotations

import pytest

from base.paths import ROOT
from sim import runner

SOURCES = [ROOT / "hw" / "rtl" / "seq" / "seq_act_buf.sv"]

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("params", [{"SIMD": 8, "ACT_BYTES": 1024}, {"SIMD": 1, "ACT_BYTES": 64}],
                         ids=str)
def test_lint_clean(params: dict) -> None:
    done = runner.lint(SOURCES, top="seq_act_buf", parameters=params)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.parametrize(("params", "message"), [
    ({"SIMD": 6, "ACT_BYTES": 96}, "seq_act_buf: SIMD=6"),
    ({"SIMD": 8, "ACT_BYTES": 100}, "seq_act_buf: ACT_BYTES=100"),
])
def test_bad_parameters_stop_elaboration(params: dict, message: str, build_root) -> None:
    with pytest.raises(runner.SimError, match=message):
        runner.build("seq_act_buf", SOURCES, params, root=build_root)


@pytest.mark.parametrize(("simd", "size"), [(8, 512), (4, 96)])
def test_random_access(simd: int, size: int, seed: int, tmp_path, build_root) -> None:
    built = runner.build("seq_act_buf", SOURCES, {"SIMD": simd, "ACT_BYTES": size},
                         root=build_root)
    res = runner.run(built, "tb_seq_act_buf", tmp_path,
                     env={"HCCR_ACT_CONFIG": f"{simd},{size}", "HCCR_ACT_SEED": str(seed)})
    assert res.passed, res.message
    assert res.tests == 1
