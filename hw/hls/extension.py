"""hls4ml custom layers (Extension API) for the IR ops hls4ml has no exact layer for.

Each layer class (`HccrLut`, `HccrMul`, `HccrMaxPool`, `HccrChannelMax`, `HccrRepack`) gets a
config and a function-call template for the Vivado backend; their C++ is `hccr_ops.h`, copied
into the project's `nnet_utils/`. The layer dicts built by the lowerings carry the integer constants
(offsets, multiplier, shift, clip range) as attributes; `register` makes hls4ml know them.
"""

from __future__ import annotations

import functools
from pathlib import Path

from hls4ml.backends import get_backend
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.layers import Layer, register_layer

HEADER = Path(__file__).with_name("hccr_ops.h")
INCLUDE = ["nnet_utils/hccr_ops.h"]


class _SameShape(Layer):
    """A layer whose output has its first input's shape."""

    def initialize(self) -> None:
        inp = self.get_input_variable(self.inputs[0])
        self.add_output_variable(inp.shape)


class HccrLut(_SameShape):
    """`y = table[v + index_offset]` per element (the IR sigmoid)."""

    def initialize(self) -> None:
        super().initialize()
        self.add_weights_variable(name="table", var_name="lut{index}")


class HccrMul(_SameShape):
    """`x · gate` broadcast from `[1, 1, C]` or `[H, W, 1]`, requantised and clipped."""


class HccrMaxPool(Layer):
    """Max pool with any kernel, stride and padding."""

    def initialize(self) -> None:
        shape = [self.get_attr("out_height"), self.get_attr("out_width"), self.get_attr("n_chan")]
        self.add_output_variable(shape)


class HccrChannelMax(Layer):
    """Max over channels, `[H, W, C] → [H, W, 1]`."""

    def initialize(self) -> None:
        shape = list(self.get_input_variable(self.inputs[0]).shape)
        self.add_output_variable([*shape[:-1], 1])


class HccrRepack(Layer):
    """Reshape: the same row-major elements in a stream of another shape."""

    def initialize(self) -> None:
        self.add_output_variable(list(self.get_attr("target_shape")))


def _config(cls: type[Layer], base: str, fields: list[str]) -> type[LayerConfigTemplate]:
    """A config template writing `static const` fields (values from the layer's attributes)."""
    body = "".join(f"    static const {kind} {name} = {{{name}}};\n" for kind, name in
                   (f.rsplit(" ", 1) for f in fields))
    text = f"struct config{{index}} : nnet::{base} {{{{\n{body}}}}};\n"

    class Template(LayerConfigTemplate):
        def __init__(self) -> None:
            super().__init__(cls)
            self.template = text

        def format(self, node: Layer) -> str:
            params = self._default_config_params(node)
            return self.template.format(**{k: str(v).lower() if isinstance(v, bool) else v
                                           for k, v in params.items()})

    Template.__name__ = f"{cls.__name__}ConfigTemplate"
    return Template


def _call(cls: type[Layer], call: str) -> type[FunctionCallTemplate]:
    """A function-call template; `call` may use `{input_t}`, `{gate_t}`, `{table}`, ..."""

    class Template(FunctionCallTemplate):
        def __init__(self) -> None:
            super().__init__(cls, include_header=INCLUDE)
            self.template = call

        def format(self, node: Layer) -> str:
            params = self._default_function_params(node)
            if len(node.inputs) > 1:
                gate = node.get_input_variable(node.inputs[1])
                params.update(gate=gate.name, gate_t=gate.type.name)
            if "table" in node.weights:
                table = node.get_weights("table")
                params.update(table=table.name, table_t=table.type.name)
            return self.template.format(**params)

    Template.__name__ = f"{cls.__name__}FunctionTemplate"
    return Template


TEMPLATES = [
    _config(HccrLut, "hccr_lut_config", ["unsigned n_beats", "int index_offset"]),
    _call(HccrLut, "nnet::hccr_lut<{input_t}, {output_t}, {table_t}, {config}>"
                   "({input}, {output}, {table});"),
    _config(HccrMul, "hccr_mul_config", [
        "unsigned n_pixels", "unsigned n_chan", "bool per_channel", "int zx", "int zg", "int zo",
        "long long multiplier", "unsigned shift", "int lo", "int hi"]),
    _call(HccrMul, "nnet::hccr_mul<{input_t}, {gate_t}, {output_t}, {config}>"
                   "({input}, {gate}, {output});"),
    _config(HccrMaxPool, "hccr_maxpool_config", [
        f"unsigned {f}" for f in ("in_height", "in_width", "n_chan", "out_height", "out_width",
                                  "pool_height", "pool_width", "stride_height", "stride_width",
                                  "pad_top", "pad_left")]),
    _call(HccrMaxPool, "nnet::hccr_maxpool<{input_t}, {output_t}, {config}>({input}, {output});"),
    _config(HccrChannelMax, "hccr_channel_max_config", ["unsigned n_pixels"]),
    _call(HccrChannelMax, "nnet::hccr_channel_max<{input_t}, {output_t}, {config}>"
                          "({input}, {output});"),
    _config(HccrRepack, "hccr_repack_config", ["unsigned n_elem"]),
    _call(HccrRepack, "nnet::hccr_repack<{input_t}, {output_t}, {config}>({input}, {output});"),
]


@functools.cache
def register() -> None:
    """Make the custom layers known to hls4ml and its Vivado backend (once per process)."""
    backend = get_backend("Vivado")
    for cls in (HccrLut, HccrMul, HccrMaxPool, HccrChannelMax, HccrRepack):
        register_layer(cls.__name__, cls)
    for template in TEMPLATES:
        backend.register_template(template)
    backend.register_source(HEADER)
