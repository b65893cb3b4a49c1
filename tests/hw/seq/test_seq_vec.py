"""The engine's vector unit (hw/rtl/seq/seq_vec.sv): lint, elaboration checks, and every vector
opcode bit-exact against the NumPy program model (hw/gen/seq/executor.py) on random single-op
models, with batch 1 and 2, and its cycles against the timing contract (hw/gen/seq/cycles.py).

Each case compiles a random single-op IR model for PE 4 × SIMD 8, runs the executor up to the
op's instruction (the activation buffer before it, and after it: the expected bytes), and runs
the instruction on the unit (tb_seq_vec: ACT buffer and DMA read channel as Python models, with
random DDR stalls in half of the cases); the whole activation buffer must equal the executor's.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from ir_factory import random_batch, single_op

from base.paths import ROOT
from hw.gen.seq import cycles, executor
from hw.gen.seq.compiler import Program, compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.isa import Opcode
from sim import runner

SEQ = ROOT / "hw" / "rtl" / "seq"
SOURCES = [runner.RTL_DIR / "hccr_pkg.sv", SEQ / "seq_isa_pkg.sv",
           runner.RTL_DIR / "requantiser.sv", SEQ / "seq_vec_iter.sv", SEQ / "seq_vec_wbuf.sv",
           SEQ / "seq_vec.sv"]
CFG = EngineConfig(pe=4, simd=8)
PARAMS = {"SIMD": CFG.simd, "MAX_C": 64}
# The fixed cycles of one instruction on the unit: 1 of set-up (+ 5 for a window's address
# products), 10 of pipeline drain (RD_LAT 2, accumulate, requantiser 4, write), the done pulse.
UNIT_FIXED = 12
WINDOW_SETUP = 5

# case id → (IR op kind, fixed factory parameters, the opcode it compiles to)
OPS = {
    "COPY": ("concat", {}, Opcode.COPY),
    "REQUANT": ("requant", {"out_dtype": None}, Opcode.REQUANT),
    "ADD": ("add", {"out_dtype": None}, Opcode.ADD),
    "MUL_NONE": ("mul", {"out_dtype": None, "shape2": "same"}, Opcode.MUL),  # b as big as a
    "MUL_CHANNEL": ("mul", {"out_dtype": None, "shape2": "channel"}, Opcode.MUL),
    "MUL_PIXEL": ("mul", {"out_dtype": None, "shape2": "pixel"}, Opcode.MUL),
    "LUT": ("sigmoid", {"out_dtype": None}, Opcode.LUT),
    "PRELU": ("prelu", {"out_dtype": None}, Opcode.PRELU),
    "MAXPOOL": ("maxpool", {}, Opcode.MAXPOOL),
    "AVGPOOL": ("avgpool", {"out_dtype": None}, Opcode.AVGPOOL),
    "GAVG": ("global_avgpool", {"out_dtype": None}, Opcode.GAVG),
    "GWAP": ("gwap", {"out_dtype": None}, Opcode.GWAP),
    "CHMAX": ("reduce_channels", {"mode": "max"}, Opcode.CHMAX),
    "CHMEAN": ("reduce_channels", {"mode": "mean", "out_dtype": None}, Opcode.CHMEAN),
}
MODELS = 3  # random models per opcode, each run with batch 1 and 2

pytestmark = pytest.mark.rtl


def _model(case: str, rng: np.random.Generator):
    kind, fixed, _ = OPS[case]
    h, w = (int(v) for v in rng.integers(1, 7, 2))
    c = int(rng.choice([1, 3, 8, 13, 20]))
    if fixed.get("shape2") == "same":  # the IR broadcasts: equal shapes need C = 1 or 1 × 1
        h, w, c = (h, w, 1) if rng.integers(2) else (1, 1, c)
    params = {k: v for k, v in fixed.items() if k != "shape2"}
    if "out_dtype" in params:
        params["out_dtype"] = str(rng.choice(["int8", "uint8"]))
    if "shape2" in fixed:
        params["shape2"] = {"same": (h, w, 1) if c == 1 else (1, 1, c), "channel": (1, 1, c),
                            "pixel": (h, w, 1)}[fixed["shape2"]]
    if kind == "concat":
        params["channels"] = [c, int(rng.integers(1, 12))]
    return single_op(kind, rng, shape=(h, w, c), in_dtype=str(rng.choice(["int8", "uint8"])),
                     **params)


def _inputs(program: Program, feeds: dict[str, np.ndarray], batch: int) -> bytes:
    records = np.zeros((batch, program.header.input_bytes), np.uint8)
    for name, offset in program.inputs:
        flat = feeds[name].reshape(batch, -1).view(np.uint8)
        records[:, offset:offset + flat.shape[1]] = flat
    return records.tobytes()


def make_case(case: str, rng: np.random.Generator, batch: int, index: int) -> dict:
    """One case: the instruction, the buffer before it and the executor's buffer after it."""
    model = _model(case, rng)
    program = compile_model(model, CFG, batch=batch)
    opcode = OPS[case][2]
    target = next(i for i, ins in enumerate(program.instructions) if ins.opcode == opcode)
    whole: list[np.ndarray] = []
    snaps: dict[int, bytes] = {}

    def hook(step: int, image: int, act: np.ndarray) -> None:
        if image == 0:
            whole[:] = [act]  # slot 0: the view is the whole buffer
        if image == batch - 1 and step in (target - 1, target):
            snaps[step] = whole[0].tobytes()

    executor.execute(program.encode(), program.data,
                     _inputs(program, random_batch(model, rng, n=batch), batch), batch,
                     hook=hook)
    ins = program.instructions[target]
    return {"name": f"{case}-{index}-b{batch}", "instr": ins.encode()[::-1].hex(),
            "batch": batch, "act_image_bytes": program.header.act_image_bytes,
            "data": program.data.hex(), "before": snaps[target - 1].hex(),
            "after": snaps[target].hex(), "stall": index % 2 == 1,
            "latency": CFG.ddr_latency, "seed": int(rng.integers(1 << 30)),
            "contract": cycles.instruction_cycles(ins, CFG, batch),
            "work": cycles.instruction_cycles(ins, CFG, batch) - cycles.OVERHEAD,
            "shape": f"{ins['a_h']}x{ins['a_w']}x{ins['a_c']}"}


@pytest.fixture(scope="module")
def built(build_root):
    return runner.build("seq_vec", SOURCES, PARAMS, root=build_root)


@pytest.mark.parametrize("simd", [4, 8, 16])
def test_lint_clean(simd: int) -> None:
    done = runner.lint(SOURCES, top="seq_vec", parameters={"SIMD": simd})
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.parametrize(("params", "message"), [
    ({"SIMD": 2}, "seq_vec: SIMD=2"),
    ({"SIMD": 8, "MAX_C": 12}, "seq_vec: MAX_C=12"),
])
def test_bad_parameters_stop_elaboration(params: dict, message: str, build_root) -> None:
    with pytest.raises(runner.SimError, match=message):
        runner.build("seq_vec", SOURCES, params, root=build_root)


@pytest.mark.parametrize("case", list(OPS))
def test_opcode_bit_exact(case: str, built, rng, tmp_path) -> None:
    """Every case's activation buffer equals the executor's after the instruction; the unit's
    cycles stay within the contract's (stall-free DDR cases)."""
    cases = [make_case(case, rng, batch, i) for i in range(MODELS) for batch in (1, 2)]
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    res = runner.run(built, "tb_seq_vec", tmp_path / "sim",
                     env={"HCCR_VEC_CASES": str(tmp_path / "cases.json"),
                          "HCCR_VEC_RESULTS": str(tmp_path / "results.json")})
    assert res.passed, res.message
    results = json.loads((tmp_path / "results.json").read_text())
    bad = []
    for want, got in zip(cases, results, strict=True):
        exp = np.frombuffer(bytes.fromhex(want["after"]), np.uint8)
        out = np.frombuffer(bytes.fromhex(got["act"]), np.uint8)
        if not np.array_equal(out, exp):
            diff = np.flatnonzero(out != exp)
            bad.append(f"{want['name']} ({want['shape']}): {diff.size} bytes differ, first at "
                       f"{diff[0]}: got {out[diff[0]]} want {exp[diff[0]]}")
        print(f"{want['name']:16s} {want['shape']:9s} cycles {got['cycles']:5d}  contract "
              f"{want['contract']:5d} (work + params {want['work']})"
              f"{'  DDR stalls' if want['stall'] else ''}")
        assert got["words_left"] == 0, f"{want['name']}: DMA words left unread"
    assert not bad, "\n".join(bad)
    for want, got in zip(cases, results, strict=True):
        if not want["stall"]:
            fixed = UNIT_FIXED + (WINDOW_SETUP if OPS[case][2] in cycles.WINDOWED else 0)
            assert got["cycles"] <= want["work"] + fixed, (want["name"], got["cycles"])


def test_models_cover_their_opcode(rng) -> None:
    """Each case kind compiles to its opcode (a MUL case to its broadcast)."""
    for case, (_, _, opcode) in OPS.items():
        program = compile_model(_model(case, rng), CFG)
        ins = next(i for i in program.instructions if i.opcode == opcode)
        if case.startswith("MUL_") and ins["a_c"] > 1:
            assert ins["bcast"] == {"MUL_NONE": 0, "MUL_CHANNEL": 1, "MUL_PIXEL": 2}[case]
