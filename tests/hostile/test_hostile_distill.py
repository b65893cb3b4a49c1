"""`hccr distill`: bad loss weights, rates, pairs, runs and output folders."""

from __future__ import annotations

import pytest
from conftest import refused, refused_missing_or_corrupt_run, refused_with


@pytest.fixture
def args(tiny_run, tiny_data, tmp_path):
    return ["distill", "--teacher", tiny_run, "--train-data", tiny_data / "train",
            "--test-data", tiny_data / "test", "--run", tmp_path / "student", "--epochs", 1]


@pytest.mark.parametrize("option, value", [
    ("--epochs", "0"), ("--lr", "nan"), ("--lr", "-1"), ("--batch-size", "0"),
    ("--optimizer", "lion"), ("--temperature", "0"), ("--temperature", "nan"),
    ("--alpha", "-1"), ("--beta", "inf"), ("--sp-weight", "-0.5"), ("--seed", "-1"),
    ("--device", "tpu"), ("--student-arch", "lenet"), ("--sp-pair", "a,b"),
])
def test_bad_option(args, tmp_path, option, value):
    if option != "--student-arch":
        args += ["--student-arch", "baseline"]
    refused(*args, option, value, names=(option,), clean=tmp_path)
    assert not (tmp_path / "student").exists()


def test_student_and_arch_both_or_neither(args, tiny_run):
    refused(*args, names=("--student",))
    refused(*args, "--student", tiny_run, "--student-arch", "baseline", names=("--student",))


def test_teacher_missing_or_corrupt(args, tiny_run, copy, tmp_path):
    args += ["--student-arch", "baseline"]
    refused_missing_or_corrupt_run(args, "--teacher", tmp_path, copy(tiny_run, "t"), b"")


@pytest.mark.parametrize("kind", ["empty", "garbage", "no_gnt"])
def test_bad_data(args, gnt, kind):
    args += ["--student-arch", "baseline"]
    refused_with(args, "--test-data", gnt[kind], gnt[kind].name)


def test_bad_run_folder(args, a_file):
    args += ["--student-arch", "baseline"]
    args[args.index("--run") + 1] = a_file
    refused(*args, names=("--run",))
