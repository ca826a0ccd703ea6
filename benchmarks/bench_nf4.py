"""From-scratch NF4 quantise + dequantise vs bitsandbytes' CPU kernels, on every Linear of the course's default model.

Double quantisation on (as QLoRA loads a model), blocks of 64; every tensor is checked bit for bit against bitsandbytes."""
from __future__ import annotations
import sys, logging
import torch
from torch import nn
import bitsandbytes.functional as BF

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from common import main, interleaved, Row
from finetune_course.core import load_causal_lm
from finetune_course.nf4 import quantize_nf4, dequantize_nf4

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)

def linear_weights(model_name=None, skip=("lm_head",)) -> list[torch.Tensor]:
    "The weight of every nn.Linear of the model except `skip` (as `quantize_model_nf4` and bitsandbytes skip lm_head)"
    model, _ = load_causal_lm(model_name)
    return [m.weight.detach() for n, m in model.named_modules() if isinstance(m, nn.Linear) and n.split(".")[-1] not in skip]

def bit_exact(w) -> bool:
    "Packed codes, both levels of scales and the dequantised tensor equal bitsandbytes'"
    p, qs = BF.quantize_4bit(w, quant_type="nf4", blocksize=64, compress_statistics=True)
    q = quantize_nf4(w, 64, True)
    return (torch.equal(p.view(-1), q.packed) and torch.equal(qs.absmax, q.absmax.codes)
            and torch.equal(qs.state2.absmax, q.absmax.absmax) and torch.equal(qs.offset, q.absmax.offset)
            and torch.equal(BF.dequantize_4bit(p, qs).view(-1), dequantize_nf4(q).view(-1)))

def run(quick=False, model=None):
    ws = linear_weights(model)
    n = sum(w.numel() for w in ws)
    exact = all(bit_exact(w) for w in ws)
    repeats = 3 if quick else 5
    ours = lambda: [dequantize_nf4(quantize_nf4(w, 64, True)) for w in ws]
    bnb = lambda: [BF.dequantize_4bit(*BF.quantize_4bit(w, quant_type="nf4", blocksize=64, compress_statistics=True)) for w in ws]
    oq = lambda: [quantize_nf4(w, 64, True) for w in ws]
    bq = lambda: [BF.quantize_4bit(w, quant_type="nf4", blocksize=64, compress_statistics=True) for w in ws]
    qo, qb = [quantize_nf4(w, 64, True) for w in ws], [BF.quantize_4bit(w, quant_type="nf4", blocksize=64, compress_statistics=True) for w in ws]
    od = lambda: [dequantize_nf4(q) for q in qo]
    bd = lambda: [BF.dequantize_4bit(*q) for q in qb]
    st = interleaved(dict(ours=ours, bnb=bnb, oq=oq, bq=bq, od=od, bd=bd), repeats=repeats)
    r = lambda a, b: st[a].median / st[b].median
    rows = [Row(f"NF4 quantise + dequantise, {len(ws)} Linear weights ({n/1e6:.0f}M values)", str(st["ours"]), str(st["bnb"]),
                r("ours", "bnb"), "≤ 2.00× and bit-exact", r("ours", "bnb") <= 2 and exact),
            Row("  of which quantise (with double quantisation)", str(st["oq"]), str(st["bq"]), r("oq", "bq")),
            Row("  of which dequantise", str(st["od"]), str(st["bd"]), r("od", "bd"))]
    notes = [f"Bit-exact against bitsandbytes on all {len(ws)} weights (packed codes, 8-bit scales, second-level scales, "
             f"offset, dequantised values): {exact}."]
    return rows, {"n_weights": len(ws), "n_values": n, "bit_exact": exact,
                  **{k: dict(median=v.median, min=v.lo, max=v.hi) for k, v in st.items()}}, notes

if __name__ == "__main__":
    main(run, __doc__)
