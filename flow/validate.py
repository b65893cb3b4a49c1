"""The CLI's one validation layer: every option checked at the edge, before any work.

A command declares the rule of each option beside its signature,

    @checked(epochs=at_least(1), lr=finite_above(0), out=new_file(".npz"))
    def golden_cmd(...): ...

and `checked` runs the rules before the body, raising one `HccrError` that names the option
(`--lr must be a finite number > 0, got nan`). A rule takes the value (never None: an option
left out is not checked) and returns what is wrong with it, or None. The checks that span
options (`fits_network`) and the checks of input arrays (`input_array`) live here too; the
artefacts the flow writes are checked where they are read (IR, `model.pt`, `labels.json`,
`network.json`, datasets).
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import typer

from base.errors import HccrError
from model.nets import build

F = TypeVar("F", bound=Callable)
Rule = Callable[[Any], "str | None"]
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}\Z")


def at_least(lo: int) -> Rule:
    """An integer >= `lo`."""
    return lambda v: None if v >= lo else f"must be >= {lo}, got {v}"


def finite_above(lo: float) -> Rule:
    """A finite number > `lo`."""
    return lambda v: (None if math.isfinite(v) and v > lo
                      else f"must be a finite number > {lo:g}, got {v}")


def finite_at_least(lo: float) -> Rule:
    """A finite number >= `lo`."""
    return lambda v: (None if math.isfinite(v) and v >= lo
                      else f"must be a finite number >= {lo:g}, got {v}")


def within(lo: float, hi: float, *, closed_hi: bool = False, open_lo: bool = False) -> Rule:
    """A finite number in [lo, hi) (or with the ends given)."""
    text = f"{'(' if open_lo else '['}{lo:g}, {hi:g}{']' if closed_hi else ')'}"

    def rule(v: float) -> str | None:
        ok = (math.isfinite(v) and (v > lo if open_lo else v >= lo)
              and (v <= hi if closed_hi else v < hi))
        return None if ok else f"must be in {text}, got {v}"
    return rule


def finite(v: float) -> str | None:
    """A finite number."""
    return None if math.isfinite(v) else f"must be a finite number, got {v}"


def int_within(lo: int, hi: int) -> Rule:
    """An integer in lo..hi."""
    return lambda v: None if lo <= v <= hi else f"must be in {lo}..{hi}, got {v}"


def one_of(*choices: str) -> Rule:
    """One of the given words."""
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}, got {v!r}"


def plain_name(v: str) -> str | None:
    """A name that is safe as a folder or file name and an identifier: letters, digits, _ and -,
    starting with a letter or _ (no path separators, no `..`)."""
    return None if NAME.match(v) else (f"must be a plain name (letters, digits, _ and -, at most "
                                       f"64, starting with a letter), got {v!r}")


def existing(v: Path) -> str | None:
    """An existing file or folder."""
    return None if v.exists() else f"{v}: no such file or folder"


def existing_file(v: Path) -> str | None:
    """An existing file (not a folder)."""
    if not v.exists():
        return f"{v}: no such file"
    return None if v.is_file() else f"{v}: is a folder, a file is expected"


def existing_dir(v: Path) -> str | None:
    """An existing folder."""
    if not v.exists():
        return f"{v}: no such folder"
    return None if v.is_dir() else f"{v}: is a file, a folder is expected"


def _creatable(v: Path) -> str | None:
    """Why `v` cannot be created: an ancestor that is a file, or an unwritable one."""
    parent = v.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{v}: {parent} is a file, not a folder"
    try:  # the one sure test of writability (root passes os.access everywhere)
        tempfile.TemporaryFile(dir=parent).close()
    except OSError as exc:
        return f"{v}: cannot write into {parent} ({exc.strerror or exc})"
    return None


def new_file(suffix: str | None = None) -> Rule:
    """A file to write: not a folder, ending in `suffix` if given, its folder creatable."""
    def rule(v: Path) -> str | None:
        if v.is_dir():
            return f"{v}: is a folder, a file name is expected"
        if suffix is not None and v.suffix != suffix:
            return f"{v}: must end in {suffix}"
        return _creatable(v)
    return rule


def new_dir(v: Path) -> str | None:
    """A folder to write: not an existing file, creatable."""
    if v.exists() and not v.is_dir():
        return f"{v}: is a file, a folder is expected"
    return _creatable(v)


def _flag(name: str, parameter: inspect.Parameter) -> str:
    """The option's command-line spelling: its declared `--name`, else from the parameter."""
    meta = getattr(parameter.annotation, "__metadata__", ()) + (parameter.default,)
    for info in meta:
        if isinstance(info, typer.models.ParameterInfo):
            given = getattr(info, "param_decls", None) or ()
            # in Annotated, typer takes a first argument "--name" as a declaration
            decls = [d for d in (info.default, *given) if isinstance(d, str)
                     and d.startswith("--")]
            if decls:
                return decls[0]
    return "--" + name.replace("_", "-")


def require(flag: str, value: Any, rule: Rule) -> None:
    """Apply one rule outside `checked` (a value that reaches the flow another way)."""
    problem = rule(value)
    if problem is not None:
        raise HccrError(f"{flag} {problem}")


def checked(**rules: Rule) -> Callable[[F], F]:
    """Run each option's rule before the command (an `HccrError` naming the option)."""
    def wrap(fn: F) -> F:
        signature = inspect.signature(fn, eval_str=True)
        unknown = set(rules) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{fn.__name__}: rules for no option: {', '.join(sorted(unknown))}")
        flags = {name: _flag(name, signature.parameters[name]) for name in rules}

        @functools.wraps(fn)
        def inner(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, rule in rules.items():
                value = bound.arguments[name]
                if value is not None:
                    require(flags[name], value, rule)
            return fn(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def fits_network(arch: str, size: int) -> None:
    """Refuse an input size the architecture cannot take (its builder says why)."""
    try:
        build(arch, 2, size)
    except ValueError as exc:
        raise HccrError(f"--size {size} does not fit --arch {arch}: {exc}") from None


def input_array(path: Path, shape: tuple[int, ...], dtype: str, lo: int, hi: int) -> np.ndarray:
    """Images `[N, *shape]` from an `.npy` file (a missing last axis of 1 added), checked: at
    least one image, the model input's shape, integers within [lo, hi]."""
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise HccrError(f"{path}: not a readable .npy file ({' '.join(str(exc).split())})"
                        ) from None
    if not isinstance(x, np.ndarray):
        raise HccrError(f"{path}: an .npz archive, an .npy array is expected")
    given = list(x.shape)
    if x.ndim == len(shape) and shape[-1] == 1:
        x = x[..., None]
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape):
        raise HccrError(f"{path}: array {given}, the model's input needs "
                        f"[N, {', '.join(map(str, shape))}]")
    if len(x) == 0:
        raise HccrError(f"{path}: holds no images (shape {list(x.shape)})")
    if x.dtype.kind not in "iu":
        raise HccrError(f"{path}: {x.dtype} values, integers ({dtype}) are expected")
    if x.min() < lo or x.max() > hi:
        raise HccrError(f"{path}: values {x.min()}..{x.max()} outside {dtype} [{lo}, {hi}]")
    return x.astype(dtype)
