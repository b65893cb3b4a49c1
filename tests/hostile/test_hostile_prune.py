"""`hccr prune`: bad methods, shares, rates and counts; bad runs and output folders."""

from __future__ import annotations

import pytest
from conftest import refused, refused_missing_or_corrupt_run, refused_with


@pytest.fixture
def args(tiny_run, tiny_data, tmp_path):
    return ["prune", "--from", tiny_run, "--train-data", tiny_data / "train", "--test-data",
            tiny_data / "test", "--run", tmp_path / "pruned", "--epochs", 1]


@pytest.mark.parametrize("option, value", [
    ("--method", "magic"), ("--epochs", "-1"), ("--final-epochs", "-2"), ("--lr", "nan"),
    ("--lr", "0"), ("--batch-size", "0"), ("--optimizer", "lion"),
    ("--x", "0"), ("--x", "1.5"), ("--target", "1"), ("--target", "nan"),
    ("--z-limit", "nan"), ("--alpha", "-1"), ("--beta", "inf"), ("--max-rounds", "0"),
    ("--max-drop-zeroed", "-0.1"), ("--max-drop-tuned", "nan"), ("--recalibrate", "-1"),
    ("--ratio", "1"), ("--ratio", "-0.2"), ("--lam", "-1"), ("--sparsity-epochs", "-1"),
    ("--channel-multiple", "0"), ("--tolerance", "-0.1"), ("--cra-step", "0"),
    ("--cluster-bits", "9"), ("--cluster-bits", "-1"), ("--cra-replay-gb", "nan"),
    ("--seed", "-1"), ("--device", "tpu"),
])
def test_bad_option(args, tmp_path, option, value):
    refused(*args, option, value, names=(option,), clean=tmp_path)
    assert not (tmp_path / "pruned").exists()


def test_source_run_missing_or_corrupt(args, tiny_run, copy, tmp_path):
    refused_missing_or_corrupt_run(args, "--from", tmp_path, copy(tiny_run, "src"),
                                   b"PK\x03\x04broken")


@pytest.mark.parametrize("kind", ["empty", "garbage", "no_gnt"])
def test_bad_data(args, gnt, kind):
    refused_with(args, "--train-data", gnt[kind], gnt[kind].name)


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_bad_run_folder(args, a_file, where):
    args[args.index("--run") + 1] = a_file if where == "file" else a_file / "p"
    refused(*args, names=("--run",))
