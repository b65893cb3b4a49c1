"""The layer-sequential engine's registers, from one source: `hw/rtl/seq/regs.rdl` (SystemRDL).

`generate(folder)` compiles it into the register block (peakrdl-regblock, AXI4-Lite with
flattened ports: `seq_regs.sv` and `seq_regs_pkg.sv`, structs made packed for Yosys), the C
header (`seq_regs.h`, peakrdl-cheader) and the Markdown register map (`seq_registers.md`,
peakrdl-markdown), and skips the work when the folder already holds the output for this
`.rdl`, this generator and these tool versions. `register_map()` and `error_codes()` are the
driver's view of the same map (walked from the compiled model, not kept by hand).
docs/seq_registers.md is the committed copy of the Markdown map:

    python -m hw.gen.seq_regs   # rewrite docs/seq_registers.md
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path

from systemrdl import RDLCompiler
from systemrdl.node import AddrmapNode

RTL_DIR = Path(__file__).resolve().parents[1] / "rtl" / "seq"
AXI_MACROS = "hccr_axi.svh"  # the AXI port lists, compiled before every file using them
RDL = RTL_DIR / "regs.rdl"
DOC = Path(__file__).resolve().parents[2] / "docs" / "seq_registers.md"
MODULE = "seq_regs"  # the generated module; its package is seq_regs_pkg
_TOOLS = ("systemrdl-compiler", "peakrdl-regblock", "peakrdl-cheader", "peakrdl-markdown")
_STAMP = "seq_regs.json"
_DOC_HEAD = ("# Layer-sequential engine: registers\n\nGenerated from `hw/rtl/seq/regs.rdl` by "
             "`python -m hw.gen.seq_regs` (peakrdl-markdown); do not edit by hand. 32-bit "
             "registers at byte offsets from the AXI4-Lite base address; the C header and the "
             "register block come from the same file.\n\n")


@dataclass(frozen=True)
class Field:
    """A register field: bits `[lsb + width - 1 : lsb]`."""

    name: str
    lsb: int
    width: int
    writable: bool

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Register:
    """A register at byte `address` and its fields by name."""

    name: str
    address: int
    fields: dict[str, Field]


@dataclass(frozen=True)
class Generated:
    """Paths of what `generate` wrote."""

    package: Path
    module: Path
    header: Path
    markdown: Path

    @property
    def sources(self) -> list[Path]:
        """The SystemVerilog files in compile order (package first)."""
        return [self.package, self.module]


def _compiler() -> RDLCompiler:
    from peakrdl_regblock.udps import ALL_UDPS

    rdlc = RDLCompiler()
    for udp in ALL_UDPS:
        rdlc.register_udp(udp)
    return rdlc


def compile_rdl(path: Path = RDL) -> AddrmapNode:
    """The elaborated top address map of a SystemRDL file."""
    rdlc = _compiler()
    rdlc.compile_file(str(path))
    return rdlc.elaborate().top


@cache
def register_map() -> dict[str, Register]:
    """Registers of `regs.rdl` by name, in address order."""
    return {reg.inst_name: Register(reg.inst_name, reg.absolute_address,
                                    {f.inst_name: Field(f.inst_name, f.lsb, f.width,
                                                        f.is_sw_writable)
                                     for f in reg.fields()})
            for reg in compile_rdl().registers()}


def _error_enum(top: AddrmapNode) -> type:
    return top.get_child_by_name("ERROR_CODE").get_child_by_name("CODE").get_property("encode")


@cache
def error_codes() -> dict[str, int]:
    """ERROR_CODE values by name (the `seq_error_e` enum of `regs.rdl`)."""
    return {m.name: m.value for m in _error_enum(compile_rdl())}


def _codes_table(top: AddrmapNode) -> str:
    """The ERROR_CODE values with their descriptions (peakrdl-markdown leaves enums out)."""
    rows = "\n".join(f"| {m.value} | `{m.name}` | {m.rdl_desc} |" for m in _error_enum(top))
    return f"\n## ERROR_CODE values\n\n| code | name | meaning |\n|---|---|---|\n{rows}\n"


def _key() -> str:
    h = hashlib.sha256(RDL.read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(json.dumps({t: version(t) for t in _TOOLS}, sort_keys=True).encode())
    return h.hexdigest()[:16]


def _packed_structs(path: Path) -> None:
    """Declare the regblock's structs `packed`: Yosys reads only packed structs, and every
    member here is a packed vector or struct, so the meaning stays the same."""
    path.write_text(re.sub(r"\bstruct\s*\{", "struct packed {", path.read_text()))


def _outputs(folder: Path) -> Generated:
    return Generated(folder / f"{MODULE}_pkg.sv", folder / f"{MODULE}.sv",
                     folder / f"{MODULE}.h", folder / "seq_registers.md")


def generate(folder: Path) -> Generated:
    """Write the register block, C header and Markdown map into `folder` (cached by the
    `.rdl`'s hash and the tools' versions)."""
    from peakrdl_cheader.exporter import CHeaderExporter
    from peakrdl_markdown import MarkdownExporter
    from peakrdl_regblock import RegblockExporter
    from peakrdl_regblock.cpuif.axi4lite import AXI4Lite_Cpuif_flattened

    folder = Path(folder)
    out = _outputs(folder)
    stamp = folder / _STAMP
    key = _key()
    if stamp.is_file() and json.loads(stamp.read_text()).get("key") == key and all(
            p.is_file() for p in (out.package, out.module, out.header, out.markdown)):
        return out
    folder.mkdir(parents=True, exist_ok=True)
    top = compile_rdl()
    RegblockExporter().export(top, str(folder), cpuif_cls=AXI4Lite_Cpuif_flattened,
                              module_name=MODULE, reuse_hwif_typedefs=False,
                              default_reset_activelow=True, err_if_bad_addr=True)
    for sv in out.sources:
        _packed_structs(sv)
    CHeaderExporter().export(top, str(out.header))
    MarkdownExporter().export(top, str(out.markdown),
                              input_files=[str(RDL.relative_to(RTL_DIR.parents[2]))])
    out.markdown.write_text(_DOC_HEAD + out.markdown.read_text() + _codes_table(top))
    stamp.write_text(json.dumps({"key": key}))
    return out


def csr_sources(folder: Path) -> list[Path]:
    """Everything a build of `seq_csr` (the register block with flat engine ports) needs, in
    compile order: the lint waivers of the generated code, the AXI port-list macros, the
    generated package and module (written into `folder`), then `seq_csr.sv`."""
    return [RTL_DIR / "seq_regs.vlt", RTL_DIR / AXI_MACROS, *generate(folder).sources,
            RTL_DIR / "seq_csr.sv"]


def markdown() -> str:
    """The register map page, as docs/seq_registers.md should hold it."""
    with tempfile.TemporaryDirectory() as tmp:
        return generate(Path(tmp)).markdown.read_text()


if __name__ == "__main__":
    DOC.write_text(markdown())
    print(f"wrote {DOC}")
