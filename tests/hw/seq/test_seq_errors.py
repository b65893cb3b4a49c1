"""DDR error responses on the whole engine (cocotb + AxiRam answering SLVERR or DECERR in a
chosen address range): a read error (program, weights, an input record) or a write error (an
output record) ends the run with its code in ERROR_CODE, STATUS.ERROR and the interrupt, no
hang; the images before the failing one are complete and bit-exact, nothing after is written."""

from __future__ import annotations

import numpy as np
import pytest
from test_seq_engine import CODES, CONFIG, conv_model, simulate

from hw.gen import seq_regs
from hw.gen.seq.compiler import compile_model
from hw.gen.seq.records import pack_inputs, unpack_outputs
from quant import golden
from sim.seq_freerun import Layout
from tests.ir_factory import random_batch

pytestmark = pytest.mark.rtl
IMAGES = 3
ERROR = seq_regs.register_map()["STATUS"].fields["ERROR"].mask


@pytest.mark.parametrize(("region", "resp"), [
    ("program", "DECERR"), ("data", "DECERR"), ("inputs", "DECERR"), ("outputs", "SLVERR"),
    ("outputs", "DECERR")])
def test_ddr_error_ends_the_run(region: str, resp: str, rng, seed, tmp_path, build_root
                                ) -> None:
    """The first word of `region` fails (program: its header; data: the weights; inputs and
    outputs: image 1's record). The run stops there: a program or weight error leaves no
    image done, a record error leaves image 0 done and bit-exact and image 2 unwritten."""
    model = conv_model(rng)
    program = compile_model(model, CONFIG)
    feeds = random_batch(model, rng, IMAGES)
    inputs = pack_inputs(program, feeds)
    out_bytes = program.header.output_bytes
    at = Layout.of(len(program.encode()), len(program.data), len(inputs), out_bytes * IMAGES)
    start = {"program": at.program, "data": at.data, "inputs": at.inputs + len(inputs) // IMAGES,
             "outputs": at.outputs + out_bytes}[region]
    key = "fail_write" if region == "outputs" else "fail_read"
    raw, result = simulate(program, inputs, IMAGES, tmp_path, build_root, seed,
                           **{key: [start, start + 8], "resp": resp})
    code = CODES["AXI_WRITE" if region == "outputs" else "AXI_READ"]
    assert result["error_code"] == code and result["status"] & ERROR, result
    done = int(region in ("inputs", "outputs"))
    assert result["images_done"] == done, result
    got, want = unpack_outputs(program, raw, IMAGES)["y"], golden.run(model, feeds)["y"]
    assert np.array_equal(got[:done], want[:done])
    assert not np.frombuffer(raw, np.uint8)[2 * out_bytes:].any()  # image 2 never written
