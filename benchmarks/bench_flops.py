"""How close to the machine: FLOP/s achieved by one walkthrough training step (forward + backward, FLOPs counted by
PyTorch's FlopCounterMode) against a dense fp32 matmul's FLOP/s measured in the same run, and a profile of where the
time goes."""
from __future__ import annotations
import sys, tempfile
from dataclasses import replace
from pathlib import Path
import torch
from torch.utils.flop_counter import FlopCounterMode
from torch.profiler import profile, ProfilerActivity

sys.path.insert(0, str(Path(__file__).parent))
from common import main, interleaved, Row
from finetune_course.core import load_causal_lm
from finetune_course.train import WalkthroughConfig, make_data, load_split, make_trainer, quiet

def matmul_ceiling(n=2048, repeats=5):
    "FLOP/s of an fp32 (n×n)·(n×n) matmul on this machine: the practical ceiling"
    a, b = torch.randn(n, n), torch.randn(n, n)
    st = interleaved({"mm": lambda: torch.mm(a, b)}, repeats=repeats)["mm"]
    return 2 * n**3 / st.median, st

def walkthrough_step(pdf=None, model=None):
    "A warmed-up walkthrough trainer and one of its training batches"
    cfg = replace(WalkthroughConfig(pdf=pdf, model=model), max_steps=2, replay=0)
    tmp = Path(tempfile.mkdtemp(prefix="bench-flops-"))
    m, tok = load_causal_lm(cfg.model)
    data = make_data(cfg, tok, tmp)
    with quiet():
        tr = make_trainer(cfg, m, tok, load_split(data[0]), load_split(data[1]), tmp / "run")
        tr.train()
    batch = tr._prepare_inputs(next(iter(tr.get_train_dataloader())))
    def step():
        tr.compute_loss(tr.model, batch).backward(); tr.model.zero_grad(set_to_none=True)
    return step, batch

LAYOUT = {"copy_", "clone", "cat", "contiguous", "empty", "empty_strided", "zero_", "zeros", "fill_", "_to_copy", "index",
          "index_select", "view", "reshape", "transpose", "t", "permute", "expand", "slice", "select", "as_strided", "stack"}

def categorise(name):
    "Coarse kind of an aten op, for the profile"
    op = name.removeprefix("aten::")
    if op in ("mm", "addmm", "addmm_", "bmm", "matmul", "linear"): return "matmul"
    if "attention" in op or "softmax" in op: return "attention"
    if op in LAYOUT: return "copies/layout"
    if op in ("bernoulli_", "native_dropout", "dropout"): return "dropout"
    return "elementwise/other"

def run(quick=False, pdf=None, model=None):
    peak, mm = matmul_ceiling(repeats=3 if quick else 5)
    step, batch = walkthrough_step(pdf, model)
    with FlopCounterMode(display=False) as fc: step()
    flops = fc.get_total_flops()
    st = interleaved({"step": step}, repeats=3 if quick else 5)["step"]
    achieved = flops / st.median
    with profile(activities=[ProfilerActivity.CPU]) as prof: step()
    ev = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    total = sum(e.self_cpu_time_total for e in ev)
    kinds = {}
    for e in ev: kinds[categorise(e.key)] = kinds.get(categorise(e.key), 0) + e.self_cpu_time_total
    top = sorted(ev, key=lambda e: -e.self_cpu_time_total)[:10]
    profile_rows = [(e.key, e.count, e.self_cpu_time_total / 1e3, e.self_cpu_time_total / total) for e in top]
    rows = [Row(f"Achieved FLOP/s of a walkthrough training step ({batch['input_ids'].numel()} tokens, fwd+bwd)",
                f"{achieved/1e9:.1f} GFLOP/s", f"{peak/1e9:.1f} GFLOP/s (fp32 2048² matmul)", achieved / peak, "", None,
                note=f"{flops/1e9:.1f} GFLOP per step in {st}")]
    notes = ["Where a step's time goes (share of aten self CPU time): " + ", ".join(f"{k} {v/total:.0%}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])) + ".",
             "Top ops: " + "; ".join(f"`{k}` ×{c} {ms:.0f} ms ({p:.0%})" for k, c, ms, p in profile_rows) + "."]
    return rows, dict(flops=flops, step=dict(median=st.median, min=st.lo, max=st.hi), peak_flops=peak, achieved=achieved,
                      kinds={k: v / total for k, v in kinds.items()}, top=profile_rows), notes

if __name__ == "__main__":
    main(run, __doc__)
