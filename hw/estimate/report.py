"""A network estimate as table rows, markdown, and report.html with plots.

The HTML embeds two matplotlib plots (cycles per layer; resources against the budget) and,
when an hls4ml project was synthesised by Vivado HLS, its csynth.xml figures beside ours
(`hw.hls.report`).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from hw.boards import BOARDS
from hw.estimate.network import NetworkEstimate
from hw.estimate.sequential import SequentialPlan
from hw.hls.report import CsynthReport

HTML = "report.html"


def layer_rows(est: NetworkEstimate) -> list[list[str]]:
    """One row per layer: name, kind, MACs, PE, SIMD, pack, cycles, DSP, BRAM36, LUT, FF,
    weight bytes, where its weights live."""
    return [[la.name, la.kind, f"{la.macs:,}", str(la.fold.pe), str(la.fold.simd),
             "2/DSP" if la.fold.pack else "", f"{la.cycles:,}", str(la.cost.dsp),
             f"{la.cost.bram36:g}", f"{la.cost.lut:,.0f}", f"{la.cost.ff:,.0f}",
             f"{la.weight_bytes:,}", ("DDR" if la.ddr else "on-chip") if la.weight_bytes
             else ""] for la in est.layers]


HEADER = ["layer", "op", "MACs", "PE", "SIMD", "pack", "cycles", "DSP", "BRAM36", "LUT", "FF",
          "weight B", "weights"]


SEQ_HEADER = ["op", "opcode", "cycles (batch)", "share"]


def sequential_op_rows(seq: SequentialPlan) -> list[list[str]]:
    """The layer-sequential program's instructions as table rows (`SequentialPlan.op_rows`)."""
    rows = seq.op_rows()
    total = sum(c for _, _, c in rows)
    return [[op, code, f"{c:,}", f"{c / total:.1%}"] for op, code, c in rows]


def _engine_text(seq: SequentialPlan) -> str:
    cfg = seq.config
    why = seq.overflows()
    return (f"{seq.board.name} ({seq.device.name}, {seq.board.ddr_bits}-bit DDR3-"
            f"{seq.board.ddr_mt_s}): PE {cfg.pe} × SIMD {cfg.simd} MAC array, "
            f"{cfg.act_bytes // 1024} KiB activations, 2 × {cfg.tile_bytes // 1024} KiB weight "
            f"tiles, {cfg.clock_mhz:g} MHz: " + ("fits" if not why else "NO: " + "; ".join(why)))


def _resources_text(seq: SequentialPlan) -> str:
    c, m = seq.cost, seq.measured
    text = (f"estimated {c.dsp} DSP and {c.bram36:g} BRAM36 (counted from the RTL), "
            f"{c.lut:,.0f} LUT and {c.ff:,.0f} FF (fitted to Yosys runs of the engine)")
    if m is None:
        return text + "; this configuration not synthesised"
    return text + (f"; measured (Yosys synth_xilinx of this configuration): {m['dsp']} DSP, "
                   f"{m['ramb36'] + m['ramb18'] / 2:g} BRAM36, {m['lut']:,} LUT, "
                   f"{m['ff']:,} FF, longest path {m['ltp']} cells")


def sequential_rows(seq: SequentialPlan) -> list[tuple[str, str]]:
    """The layer-sequential engine in (quantity, value) rows, saying which figures are
    estimated and which measured."""
    ch = seq.choice
    return [("layer-sequential engine", _engine_text(seq)),
            ("layer-sequential resources", _resources_text(seq)),
            ("layer-sequential speed", f"estimated (the compiled program's timing contract): "
                                       f"{seq.cycles:,.0f} cycles/image = "
                                       f"{seq.images_per_s:,.1f} images/s at batch "
                                       f"{seq.batch}, latency {seq.latency_ms:.3f} ms; "
                                       f"{seq.images_per_s / seq.roofline:.1%} of the "
                                       f"{seq.roofline:,.1f} images/s device DSP roofline, "
                                       f"array {seq.array_efficiency:.1%} busy"),
            ("layer-sequential DDR", f"{ch.ddr_bytes_per_image:,.0f} bytes/image (weights and "
                                     f"parameters once per batch of {seq.batch}, input and "
                                     f"output records): {ch.ddr_gb_s:.2f} GB/s of "
                                     f"{seq.board.name}'s {seq.board.ddr_gb_s:.2f} GB/s")]


def summary(est: NetworkEstimate, seq: SequentialPlan | None = None) -> list[tuple[str, str]]:
    """(quantity, value) rows: totals vs budget, verdict, speed, roofline, DDR plan, and the
    layer-sequential engine if given (or why there is none when the dataflow design does not
    fit)."""
    rows = [("device", f"{est.device.name} at {est.clock_mhz:g} MHz, cap {est.cap:.0%}")]
    for res, (used, budget) in est.usage().items():
        rows.append((res.upper(), f"{used:,.0f} / {budget:,} ({used / budget:.1%})"
                     if res != "bram36" else f"{used:g} / {budget:,} ({used / budget:.1%})"))
    why = est.overflows()
    rows.append(("fits", "yes" if not why else "NO: " + "; ".join(why)))
    rows += [("cycles/image (interval)", f"{est.cycles:,} (slowest: {est.bottleneck})"),
             ("images/s", f"{est.images_per_s:,.1f}"),
             ("latency (upper bound)", f"{est.latency_cycles / est.clock_mhz / 1e3:.3f} ms"),
             ("MACs/image", f"{est.macs:,}"),
             ("MAC-array utilisation", f"{est.mac_utilisation:.1%}"),
             ("DSP roofline", f"{est.roofline:,.1f} images/s ({est.device.dsp} DSP × "
                              f"{2 if est.packed else 1} MAC × {est.clock_mhz:g} MHz ÷ MACs); "
                              f"plan at {est.images_per_s / est.roofline:.1%} of it")]
    if est.ddr_layers:
        names = ", ".join(la.name for la in est.ddr_layers[:6]) + (
            f" … ({len(est.ddr_layers) - 6} more)" if len(est.ddr_layers) > 6 else "")
        wbytes = sum(la.weight_bytes for la in est.ddr_layers)
        rows += [("weights from DDR", f"{len(est.ddr_layers)} layers, {wbytes:,} B: {names}"),
                 ("DDR batch", f"{est.batch} images per weight pass"),
                 ("DDR bandwidth", f"{est.ddr_gb_s:.2f} GB/s of {est.device.ddr_gb_s:.1f} "
                                   f"({est.device.hp_ports} HP ports × "
                                   f"{est.device.hp_gb_s} GB/s)")]
    else:
        rows.append(("weights from DDR", "none: every weight ROM on chip"))
    rows += [("note", n) for n in est.notes]
    if seq is None and not est.fits:
        rows.append(("layer-sequential engine", f"none planned: no board known with "
                                                f"{est.device.name} (its DDR sets the batch; "
                                                f"boards: {', '.join(BOARDS)})"))
    return rows + (sequential_rows(seq) if seq else [])


def markdown(est: NetworkEstimate, seq: SequentialPlan | None = None) -> str:
    """The summary as a markdown table."""
    lines = ["| quantity | value |", "|---|---|"]
    lines += [f"| {k} | {v.replace('|', '/')} |" for k, v in summary(est, seq)]
    return "\n".join(lines) + "\n"


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _pyplot():
    """matplotlib.pyplot on the file-only Agg back end (imported on first use)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plots(est: NetworkEstimate) -> list[str]:
    """Base64 PNGs: cycles per layer (with the interval), resources vs budget and cap."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6, len(est.layers) * 0.06 + 4), 3.5))
    ax.bar(range(len(est.layers)), [la.cycles for la in est.layers],
           color=["tab:red" if la.ddr else "tab:blue" for la in est.layers])
    ax.axhline(est.cycles, color="k", lw=0.8, ls="--", label="interval")
    ax.set(yscale="log", xlabel="layer (topological order; red: weights from DDR)",
           ylabel="cycles/image", title="cycles per layer")
    ax.legend()
    one = _png(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3))
    usage = est.usage()
    ax.bar(list(usage), [100 * u / b for u, b in usage.values()])
    ax.axhline(100 * est.cap, color="tab:red", ls="--", label=f"cap {est.cap:.0%}")
    ax.set(ylabel=f"% of {est.device.name}", title="resources vs budget")
    ax.legend()
    two = _png(fig)
    plt.close(fig)
    return [one, two]


def sequential_images(seq: SequentialPlan) -> str:
    """An <img> of the layer-sequential program's cycles per instruction."""
    plt = _pyplot()
    rows = seq.op_rows()
    fig, ax = plt.subplots(figsize=(max(6, len(rows) * 0.06 + 4), 3.5))
    ax.bar(range(len(rows)), [c for _, _, c in rows],
           color=["tab:blue" if code == "MAC" else "tab:gray" for _, code, _ in rows])
    ax.set(yscale="log", xlabel="instruction (blue: MAC)", ylabel="cycles per batch",
           title=f"layer-sequential {seq.config.pe}×{seq.config.simd}, batch {seq.batch}: "
                 f"{seq.cycles:,.0f} cycles/image")
    image = _png(fig)
    plt.close(fig)
    return f'<img src="data:image/png;base64,{image}">'


def _table(header: list[str], rows: list[list[str]] | list[tuple[str, str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_html(est: NetworkEstimate, out_dir: Path, hls: CsynthReport | None = None,
               seq: SequentialPlan | None = None) -> Path:
    """report.html in `out_dir`: summary, plots, the hls4ml csynth figures if any, layers."""
    out_dir.mkdir(parents=True, exist_ok=True)
    images = "".join(f'<img src="data:image/png;base64,{p}">' for p in plots(est))
    hls_part = ("<h2>hls4ml / Vivado HLS csynth.xml</h2>"
                + _table(["quantity", "value"], hls.rows()) if hls else
                "<p>No synthesised hls4ml project given (<code>--hls</code>).</p>")
    doc = ("<!doctype html><meta charset=utf-8><title>hccr report</title><style>"
           "body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
           "</style>"
           f"<h1>{html.escape(est.name)} on {est.device.name}</h1>"
           f"<h2>Dataflow RTL estimate</h2>{_table(['quantity', 'value'], summary(est, seq))}"
           f"{images}{hls_part}<h2>Layers</h2>{_table(HEADER, layer_rows(est))}"
           + (f"<h2>Layer-sequential engine: instructions</h2>{sequential_images(seq)}"
              f"{_table(SEQ_HEADER, sequential_op_rows(seq))}" if seq else ""))
    path = out_dir / HTML
    path.write_text(doc)
    return path
