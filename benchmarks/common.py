"""Shared helpers for the benchmarks: interleaved timing, saved-for-backward memory, machine facts, result rows.

Benchmarks are scripts, not tests: they print ratios against the reference library measured in the same run."""
from __future__ import annotations
import gc, os, platform, statistics, time
from dataclasses import dataclass
from importlib.metadata import version

import torch

@dataclass
class Stat:
    "Seconds of a repeated measurement: median, min and max of the repeats"
    times: list
    @property
    def median(self) -> float: return statistics.median(self.times)
    @property
    def lo(self) -> float: return min(self.times)
    @property
    def hi(self) -> float: return max(self.times)
    def __str__(self): return f"{fmt_s(self.median)} ({fmt_s(self.lo)}–{fmt_s(self.hi)})"

def fmt_s(s: float) -> str:
    "Seconds with a unit that keeps three significant figures"
    return f"{s*1e3:.3g} ms" if s < 1 else f"{s:.3g} s"

def interleaved(fns: dict, repeats: int = 5, warmup: int = 1) -> dict[str, Stat]:
    "Time each callable `repeats` times, alternating between them so a busy moment slows all alike"
    for _ in range(warmup):
        for f in fns.values(): f()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            gc.collect()
            t = time.perf_counter(); f(); times[k].append(time.perf_counter() - t)
    return {k: Stat(v) for k, v in times.items()}

def saved_for_backward_mb(fn) -> float:
    "MiB of distinct tensor storage that autograd keeps for backward while `fn()`'s graph is alive"
    seen = {}
    def pack(t):
        s = t.untyped_storage(); seen[s.data_ptr()] = s.nbytes(); return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    del out
    return sum(seen.values()) / 2**20

@dataclass
class Row:
    "One line of RESULTS.md: a figure, ours, the reference, their ratio, the goal and whether it is met"
    figure: str
    ours: str
    reference: str
    ratio: float | None
    goal: str = ""
    met: bool | None = None
    note: str = ""
    def cells(self) -> list[str]:
        met = "" if self.met is None else ("yes" if self.met else "**no**")
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}×"
        return [self.figure, self.ours, self.reference, ratio, self.goal, met]

def machine() -> dict:
    "CPU model, cores, torch threads and the versions of the libraries compared"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    libs = {p: version(p) for p in ("torch", "peft", "trl", "transformers", "bitsandbytes", "finetune-course")}
    return dict(cpu=cpu, cores=os.cpu_count(), torch_threads=torch.get_num_threads(), python=platform.python_version(), **libs)

def main(run, doc: str, takes_pdf: bool = False):
    "Command line of one benchmark: `--quick`, `--json PATH` (and `--pdf F`); prints its rows and notes"
    import argparse, json
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and steps")
    ap.add_argument("--json", help="also write rows, detail and notes here")
    if takes_pdf: ap.add_argument("--pdf", help="your PDF (default: the course's sample PDF)")
    a = ap.parse_args()
    rows, detail, notes = run(a.quick, a.pdf) if takes_pdf else run(a.quick)
    for r in rows: print(" | ".join(r.cells()), r.note)
    print(*notes, sep="\n")
    if a.json: json.dump(dict(rows=[vars(r) for r in rows], detail=detail, notes=notes), open(a.json, "w"), indent=1, default=str)
