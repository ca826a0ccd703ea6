"""From-scratch LoRA and DoRA layers vs peft's, on the 7 projections of one decoder layer of the course's default model.

Forward + backward of `tokens` tokens through each projection (input needing a gradient, as it does above the lowest
adapted layer), summed over the 7 projections; with dropout 0 and the walkthrough's dropout. Also: what each keeps for
backward, a DoRA cost breakdown: our DoRA's factored norm (no out × in temporary) against building W + sBA as peft does,
peft's dropout form computed from the dropped entries (`dropped_product`, the default) against a second frozen matmul,
and the one-matmul dropout placement `dropout_at="adapter"`."""
from __future__ import annotations
import copy, sys
import torch
from torch import nn
from peft import LoraConfig, get_peft_model

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from common import main, interleaved, saved_for_backward_mb, Row
from finetune_course.core import load_causal_lm
from finetune_course.lora import LoRALinear
from finetune_course.dora import DoRALinear, weight_norm
from finetune_course.train import WalkthroughConfig, TARGETS

class Holder(nn.Module):
    "A module with one linear layer named `proj`, for peft to adapt"
    def __init__(self, lin): super().__init__(); self.proj = lin

def peft_layer(lin, r, alpha, dropout, dora):
    "peft's adapted layer around a copy of `lin`"
    cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["proj"], use_dora=dora)
    return get_peft_model(Holder(copy.deepcopy(lin)), cfg).base_model.model.proj

def copy_adapter(ours, theirs):
    "Give peft's layer our A, B (and magnitude) so the two compute the same function"
    with torch.no_grad():
        theirs.lora_A["default"].weight.copy_(ours.lora_A); theirs.lora_B["default"].weight.copy_(ours.lora_B)
        if hasattr(ours, "magnitude"): theirs.lora_magnitude_vector["default"].weight.copy_(ours.magnitude)

def build(lin, r, alpha, dropout, seed=0):
    "Our LoRA, our DoRA (default; building W + sBA; one-matmul dropout; peft's dropout by a second matmul), peft's LoRA and DoRA around `lin`, one trained-looking adapter"
    torch.manual_seed(seed)
    lo = LoRALinear(copy.deepcopy(lin), r=r, alpha=alpha, dropout=dropout)
    with torch.no_grad(): lo.lora_B.normal_(0, 0.02)  # B = 0 at init would make every update vanish: pretend we trained
    variants = dict(ours_dora={}, ours_dora_built=dict(factored_norm=False), ours_dora_adapter=dict(dropout_at="adapter"),
                    ours_dora_two_matmuls=dict(sparse_dropout=False))
    doras = {k: DoRALinear(copy.deepcopy(lin), r=r, alpha=alpha, dropout=dropout, **kw) for k, kw in variants.items()}
    for d in doras.values():
        with torch.no_grad():
            d.lora_A.copy_(lo.lora_A); d.lora_B.copy_(lo.lora_B); d.magnitude.copy_(weight_norm(d.base.weight + d.delta_weight()) * 1.01)
    pl, pd = peft_layer(lin, r, alpha, dropout, False), peft_layer(lin, r, alpha, dropout, True)
    copy_adapter(lo, pl); copy_adapter(doras["ours_dora"], pd)
    layers = dict(ours_lora=lo, peft_lora=pl, **doras, peft_dora=pd)
    for m in layers.values(): m.train()
    return layers

def fwd_bwd(layer, x, g):
    "One forward and backward pass; gradients cleared"
    layer(x).backward(g)
    x.grad = None
    for p in layer.parameters(): p.grad = None

def projections(model_name=None):
    "The 7 projections of the middle decoder layer of the default model (real weights)"
    model, _ = load_causal_lm(model_name)
    layer = model.model.layers[len(model.model.layers) // 2]
    return {n: next(m for k, m in layer.named_modules() if k.endswith(n)) for n in TARGETS}, model.config

def equality(projs, r, alpha, dropout=0.0):
    "Max |ours − peft| / max |peft| over the 7 projections' outputs and input gradients (fp32; with dropout, the same mask from the same seed)"
    worst = 0.0
    for lin in projs.values():
        L = build(lin, r, alpha, dropout)
        x = torch.randn(64, lin.in_features)
        for a, b in (("ours_lora", "peft_lora"), ("ours_dora", "peft_dora"), ("ours_dora_built", "peft_dora")):
            outs = []
            for k in (a, b):
                xi = x.clone().requires_grad_(); torch.manual_seed(1); y = L[k](xi); y.sum().backward(); outs.append((y.detach(), xi.grad))
            rel = lambda i: ((outs[0][i] - outs[1][i]).abs().max() / outs[1][i].abs().max()).item()
            worst = max(worst, rel(0), rel(1))
    return worst

def time_layers(projs, r, alpha, dropout, tokens, repeats):
    "Seconds per forward+backward summed over the 7 projections, per variant; and saved-for-backward MiB"
    built = {n: build(lin, r, alpha, dropout) for n, lin in projs.items()}
    xs = {n: torch.randn(tokens, lin.in_features, requires_grad=True) for n, lin in projs.items()}
    gs = {n: torch.randn(tokens, lin.out_features) for n, lin in projs.items()}
    names = list(next(iter(built.values())))
    fns = {k: (lambda k=k: [fwd_bwd(built[n][k], xs[n], gs[n]) for n in projs]) for k in names}
    stats = interleaved(fns, repeats=repeats)
    mem = {k: sum(saved_for_backward_mb(lambda: built[n][k](xs[n])) for n in projs) for k in names}
    return stats, mem

def norm_breakdown(projs, r, alpha, repeats):
    "Seconds of DoRA's norm (materialised vs factored) against the whole DoRA forward+backward, summed over the 7 projections"
    built = {n: build(lin, r, alpha, 0.0) for n, lin in projs.items()}
    def norms(k): return lambda: [built[n][k].direction_norm() for n in projs]
    return interleaved({"materialised": norms("ours_dora_built"), "factored": norms("ours_dora")}, repeats=repeats)

def run(quick=False, model=None):
    cfg = WalkthroughConfig()
    r, alpha, tokens, repeats = cfg.rank, cfg.alpha, 512, (3 if quick else 7)
    projs, mcfg = projections(model)
    torch.manual_seed(0)
    eq, eq_drop = equality(projs, r, alpha), equality(projs, r, alpha, cfg.dropout)
    rows, detail = [], {"tokens": tokens, "rank": r, "max_rel_diff_vs_peft": eq, f"max_rel_diff_vs_peft_dropout={cfg.dropout}": eq_drop}
    rows.append(Row("Max relative difference from peft (outputs, input gradients; LoRA, DoRA factored and built)", f"{eq:.1e}", "0",
                    None, "≤ 1e-6", eq <= 1e-6))
    rows.append(Row(f"The same at dropout {cfg.dropout:g}, the same masks (our DoRA: peft's form by dropped_product)", f"{eq_drop:.1e}", "0",
                    None, "≤ 1e-6", eq_drop <= 1e-6))
    shapes = ", ".join(f"{n} {l.out_features}×{l.in_features}" for n, l in projs.items())
    for p in (0.0, cfg.dropout):
        st, mem = time_layers(projs, r, alpha, p, tokens, repeats)
        m = {k: v.median for k, v in st.items()}
        detail[f"dropout={p}"] = {k: dict(median=v.median, min=v.lo, max=v.hi, saved_mb=mem[k]) for k, v in st.items()}
        tag = f"dropout {p:g}"
        rows += [Row(f"LoRA layer fwd+bwd, ours vs peft ({tag})", str(st["ours_lora"]), str(st["peft_lora"]),
                     m["ours_lora"] / m["peft_lora"], "≤ 1.00×", m["ours_lora"] <= m["peft_lora"] * 1.0),
                 Row(f"DoRA layer fwd+bwd, ours vs peft ({tag})", str(st["ours_dora"]), str(st["peft_dora"]),
                     m["ours_dora"] / m["peft_dora"], "≤ 1.00×", m["ours_dora"] <= m["peft_dora"]),
                 Row(f"DoRA/LoRA, ours ({tag})", str(st["ours_dora"]), str(st["ours_lora"]) + " (our LoRA)",
                     m["ours_dora"] / m["ours_lora"], "≤ 1.10×" if p == cfg.dropout else "", (m["ours_dora"] / m["ours_lora"] <= 1.10) if p == cfg.dropout else None),
                 *([Row(f"DoRA/LoRA, ours with a second frozen matmul for peft's dropout ({tag})", str(st["ours_dora_two_matmuls"]),
                        str(st["ours_lora"]) + " (our LoRA)", m["ours_dora_two_matmuls"] / m["ours_lora"], "", None)] if p else []),
                 Row(f"DoRA/LoRA, ours with dropout_at='adapter' ({tag})", str(st["ours_dora_adapter"]), str(st["ours_lora"]) + " (our LoRA)",
                     m["ours_dora_adapter"] / m["ours_lora"], "≤ 1.10×" if p == cfg.dropout else "", (m["ours_dora_adapter"] / m["ours_lora"] <= 1.10) if p == cfg.dropout else None),
                 Row(f"DoRA/LoRA, ours building W + sBA for the norm, as peft does ({tag})", str(st["ours_dora_built"]), str(st["ours_lora"]) + " (our LoRA)",
                     m["ours_dora_built"] / m["ours_lora"], "", None),
                 Row(f"DoRA/LoRA, peft ({tag})", str(st["peft_dora"]), str(st["peft_lora"]) + " (peft LoRA)",
                     m["peft_dora"] / m["peft_lora"], "", None),
                 Row(f"Saved for backward, our DoRA vs peft's ({tag})", f"{mem['ours_dora']:.1f} MiB", f"{mem['peft_dora']:.1f} MiB",
                     mem["ours_dora"] / mem["peft_dora"], "≤ 1.00×", mem["ours_dora"] <= mem["peft_dora"] * 1.001),
                 Row(f"Saved for backward, our LoRA vs peft's ({tag})", f"{mem['ours_lora']:.1f} MiB", f"{mem['peft_lora']:.1f} MiB",
                     mem["ours_lora"] / mem["peft_lora"], "≤ 1.00×", mem["ours_lora"] <= mem["peft_lora"] * 1.001)]
    nb = norm_breakdown(projs, r, alpha, repeats)
    built0 = detail["dropout=0.0"]["ours_dora_built"]["median"]; lora0 = detail["dropout=0.0"]["ours_lora"]["median"]
    detail["norm"] = {k: dict(median=v.median, min=v.lo, max=v.hi) for k, v in nb.items()}
    rows.append(Row("DoRA row norm ‖W+sBA‖, factored vs materialised (7 projections)", str(nb["factored"]), str(nb["materialised"]),
                    nb["factored"].median / nb["materialised"].median, "", None,
                    note=f"the materialised norm is {nb['materialised'].median / (built0 - lora0):.0%} of the extra time over LoRA of DoRA building W + sBA, at dropout 0"))
    notes = [f"Shapes: {shapes}; {tokens} tokens, r={r}, alpha={alpha}; median of {repeats} interleaved repeats (min–max).",
             "With dropout, our DoRA computes peft's form with `dropped_product`: W·dropout(x) = (Wx − W(x ⊙ dropped))/(1 − p), "
             "the second product from the ~p share of dropped entries (gathered columns forward, a sampled matmul backward) "
             "instead of a second frozen matmul; same maths, equal to peft to the row above.",
             "dropout_at='adapter' computes scale ⊙ (Wx + sBA·dropout(x)): one frozen matmul instead of peft's two. It is a "
             "different function in training (the same without dropout), so nbs/02_dora.ipynb compares its held-out loss "
             "with peft's placement against the spread of a second seed; the layer's default stays peft's form."]
    return rows, detail, notes

if __name__ == "__main__":
    main(run, __doc__)
