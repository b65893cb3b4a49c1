"""Hostile inputs: every bad option, file or folder gives exit code 1, exactly one `error:` line
naming the culprit, no traceback, and no partial artefact. Tiny artefacts of the real flow
(4 classes, a 16×16 baseline trained and fine-tuned for one step) to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hw.gen.rtl_dir import write_rtl_dir
from model.data.gnt import encode_record
from model.data.synth import SynthPlan, synthesize
from model.train import TrainConfig, train_on_files
from quant import ir
from quant.export import export, write_ir
from quant.quantize import QuantConfig, load_qat, quantize
from tests.cli_run import hccr, invoke

SIZE = 16
LEFTOVERS = ("*.partial*", ".*.tmp-*", "*.partial")


def leftovers(root: Path) -> list[Path]:
    """Temporary files and folders of an interrupted or failed write under `root`."""
    return sorted({p for pattern in LEFTOVERS for p in root.rglob(pattern)})


def refused(*args: object, names: tuple[str, ...] = (), clean: Path | None = None) -> str:
    """`hccr args` fails as promised: no traceback, exit 1, one `error:` line holding each of
    `names`, nothing partial under `clean`. Returns the error line.

    The failure messages start with TRACEBACK or EXIT0 so a run can count the two classes.
    """
    result = hccr(*args)
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), (
        f"TRACEBACK {type(exc).__name__}: {exc}\n{result.output}")
    assert result.exit_code != 0, f"EXIT0 on bad input:\n{result.output}"
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    for name in names:
        assert str(name) in errors[0], (name, errors[0])
    if clean is not None:
        assert not leftovers(clean), leftovers(clean)
    return errors[0]


UNWRITABLE = ("file", "under_file", "proc")


def refused_out(where: str, a_file: Path, tmp_path: Path, name: str, *args: object) -> None:
    """`hccr args --out OUT` with an OUT that cannot be written (`where`: the file `a_file`
    where a folder goes, a path `name` under it, or under /proc) is refused naming --out,
    leaves nothing partial in `tmp_path` and the file untouched."""
    out = {"file": a_file, "under_file": a_file / name, "proc": Path("/proc/hccr", name)}[where]
    refused(*args, "--out", out, names=("--out",), clean=tmp_path)
    assert a_file.read_text() == "not a folder\n"


def refused_with(args: list, option: str, value: object, *names: str,
                 clean: Path | None = None) -> str:
    """`refused` on `args` with `option`'s value replaced by `value` (in place)."""
    args[args.index(option) + 1] = value
    return refused(*args, names=names, clean=clean)


def refused_missing_or_corrupt_run(args: list, option: str, tmp_path: Path, run: Path,
                                   content: bytes) -> None:
    """`option` naming a missing folder, then the copied run `run` whose model.pt now holds
    `content`: each refused, naming the folder or model.pt."""
    refused_with(args, option, tmp_path / "nope", "nope")
    (run / "model.pt").write_bytes(content)
    refused_with(args, option, run, "model.pt")


succeeded = invoke  # `hccr args` exits 0; its output


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """4 classes: 2 training writers, 1 test writer."""
    out = tmp_path_factory.mktemp("hostile_data")
    synthesize(SynthPlan(classes=4, writers={"train": 2, "test": 1}, seed=3), out, workers=1)
    return out


@pytest.fixture(scope="session")
def tiny_run(tiny_data, tmp_path_factory) -> Path:
    """A 16×16 baseline trained for one step."""
    run = tmp_path_factory.mktemp("hostile_run")
    train_on_files(TrainConfig(size=SIZE, epochs=1), tiny_data / "train", tiny_data / "test", run)
    return run


@pytest.fixture(scope="session")
def tiny_qat(tiny_run, tiny_data, tmp_path_factory) -> Path:
    """`tiny_run` fine-tuned with fake quantisation for one step."""
    out = tmp_path_factory.mktemp("hostile_qat")
    quantize(tiny_run, tiny_data / "train", tiny_data / "test", out,
             QuantConfig(epochs=1, warmup_epochs=1))
    return out


@pytest.fixture(scope="session")
def tiny_ir(tiny_qat, tmp_path_factory) -> Path:
    """The IR exported from `tiny_qat`, with labels.json."""
    qnet, classes, _ = load_qat(tiny_qat)
    return write_ir(export(qnet, "tiny"), classes, tmp_path_factory.mktemp("hostile") / "ir")


@pytest.fixture(scope="session")
def tiny_rtl(tiny_ir, tmp_path_factory) -> Path:
    """The RTL folder of `tiny_ir` (PE = SIMD = 1)."""
    out = tmp_path_factory.mktemp("hostile") / "rtl"
    write_rtl_dir(ir.load(tiny_ir), out)
    return out


@pytest.fixture
def copy(tmp_path):
    """Copy a fixture folder into this test's folder (to corrupt it)."""
    def make(source: Path, name: str | None = None) -> Path:
        return Path(shutil.copytree(source, tmp_path / (name or source.name)))
    return make


@pytest.fixture
def gnt(tmp_path):
    """Hostile .gnt files: empty, garbage, every record bad."""
    empty = tmp_path / "empty.gnt"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.gnt"
    garbage.write_bytes(b"\x07" * 37)
    record = bytearray(encode_record(b"\xb0\xa1", np.zeros((3, 3), np.uint8)))
    record[4:6] = b"\x00\x00"  # a tag that is no GB2312 character: every record bad
    all_bad = tmp_path / "all_bad.gnt"
    all_bad.write_bytes(bytes(record) * 3)
    (tmp_path / "no_gnt").mkdir()
    return {"empty": empty, "garbage": garbage, "all_bad": all_bad,
            "no_gnt": tmp_path / "no_gnt", "missing": tmp_path / "missing.gnt"}


@pytest.fixture
def a_file(tmp_path) -> Path:
    """A plain file where a folder (or a folder's parent) is expected."""
    path = tmp_path / "a_file"
    path.write_text("not a folder\n")
    return path
