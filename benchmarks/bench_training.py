"""Training throughput of the walkthrough recipe vs a plain recipe (peft's LoraConfig + TRL's SFTConfig defaults: right
padding, no packing, every layer adapted, activation checkpointing) on the same model, data, batches, learning rate and
machine.

TRL's defaults also train in bf16 autocast, which a CPU without bf16 units runs many times slower than fp32 (one with
AVX512-BF16 runs it faster); the plain recipe here is therefore measured in fp32, and the bf16 default gets its own row. Reports real (non-padding)
tokens per second, the padding each recipe computes on, time to reach the plain recipe's final held-out loss, and each
of the walkthrough's speed choices measured on its own. Any PDF: `--pdf notes.pdf`."""
from __future__ import annotations
import json, sys, tempfile
from dataclasses import replace
from pathlib import Path
import torch
from peft import LoraConfig
from transformers.trainer_callback import PrinterCallback
from trl import SFTConfig, SFTTrainer

sys.path.insert(0, str(Path(__file__).parent))
from common import main, Row
from finetune_course.core import load_causal_lm, measure
from finetune_course.train import WalkthroughConfig, make_data, load_split, make_trainer, quiet, StepTimer, TARGETS

class Record(StepTimer):
    "The walkthrough's step timer, plus held-out loss every `every` steps against the training time so far"
    def __init__(self, every, stop_at=None):
        super().__init__(); self.every, self.evals = every, []
        self.stop_at = stop_at   # (loss, seconds): stop once the held-out loss reaches `loss` or training time passes `seconds`
    def on_step_end(self, args, state, control, **k):
        super().on_step_end()
        if state.global_step % self.every == 0: control.should_evaluate = True
    def on_evaluate(self, args, state, control, metrics=None, **k):
        self.evals.append((state.global_step, sum(self.times), metrics["eval_loss"]))
        if self.stop_at and (metrics["eval_loss"] <= self.stop_at[0] + 1e-9 or sum(self.times) >= self.stop_at[1]):
            control.should_training_stop = True

def count_tokens(trainer):
    "Wrap the trainer's collator to count real tokens and the tokens the model computes on (padding included)"
    seen = {"real": 0, "computed": 0}
    collate = trainer.data_collator
    def counting(rows):
        b = collate(rows)
        if trainer.model.training:
            seen["computed"] += b["input_ids"].numel()
            seen["real"] += int(b["attention_mask"].sum()) if "attention_mask" in b else b["input_ids"].numel()
        return b
    trainer.data_collator = counting
    return seen

def plain_trainer(cfg, model, tok, train_ds, eval_ds, out, padding_free=False, top_layers=None, recompute=True, bf16=False):
    "The recipe as the seed material writes it: peft's LoraConfig and TRL's SFTConfig defaults (same lr, batch and steps; fp32)"
    n = model.config.num_hidden_layers
    peft_cfg = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=list(TARGETS), task_type="CAUSAL_LM",
                          layers_to_transform=None if top_layers is None else list(range(n - top_layers, n)))
    args = SFTConfig(output_dir=str(out), per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
                     learning_rate=cfg.learning_rate, lr_scheduler_type="constant", max_steps=cfg.max_steps, use_cpu=True,
                     padding_free=padding_free, max_length=None if padding_free else 1024, activation_checkpointing=recompute, bf16=bf16, report_to="none", save_strategy="no", logging_steps=1, seed=cfg.seed, disable_tqdm=True)
    tr = SFTTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds, processing_class=tok, peft_config=peft_cfg)
    tr.remove_callback(PrinterCallback)  # no dict per logged step
    return tr

PLAIN, OURS, OURS_ALL = "plain (TRL defaults, fp32)", "walkthrough, top 15 layers (all its speed choices)", "walkthrough, every layer adapted (its defaults)"
RECIPES = {  # name -> how to build its trainer
    PLAIN: lambda *a: plain_trainer(*a),
    "plain + no activation recomputation": lambda *a: plain_trainer(*a, recompute=False),
    "plain + padding-free batches": lambda *a: plain_trainer(*a, padding_free=True),
    "plain + top 15 layers only": lambda *a: plain_trainer(*a, top_layers=15),
    OURS: lambda cfg, *a: make_trainer(replace(cfg, top_layers=15), *a),
    OURS_ALL: lambda cfg, *a: make_trainer(replace(cfg, top_layers=None), *a),
}
FULL = (PLAIN, OURS, OURS_ALL)  # trained for every step, with held-out loss along the way
ALONE = [k for k in RECIPES if k not in FULL]

def train_one(name, cfg, data, out, every, stop_at=None):
    "Train one recipe from a fresh model; what it measured"
    model, tok = load_causal_lm(cfg.model)
    train_ds, eval_ds = load_split(data[0]), load_split(data[1])
    with quiet():
        tr = RECIPES[name](cfg, model, tok, train_ds, eval_ds, out)
        rec, seen = Record(every, stop_at), count_tokens(tr)
        tr.add_callback(rec)
        loss0 = tr.evaluate()["eval_loss"]
        with measure() as m: tr.train()
    train_s = sum(rec.times[1:]) * len(rec.times) / max(1, len(rec.times) - 1)  # the first (warm-up) step counted at the others' mean pace
    return dict(steps=len(rec.times), train_s=sum(rec.times), step_median=sorted(rec.times)[len(rec.times) // 2],
                tokens=seen["real"], computed=seen["computed"], tokens_per_s=seen["real"] / train_s,
                loss0=loss0, evals=rec.evals, final_loss=rec.evals[-1][2] if rec.evals else None, peak_added_mb=m.added_peak_mb,
                trainable=sum(p.numel() for p in tr.model.parameters() if p.requires_grad))

def bf16_probe(model_name, data, n=2):
    "Seconds of one forward+backward of the plain model on `n` padded records, fp32 vs bf16 autocast (TRL's default)"
    model, tok = load_causal_lm(model_name)
    recs = [json.loads(l)["messages"] for l in Path(data[0]).read_text().splitlines()[:n]]
    tok.padding_side = "right"
    batch = tok([tok.apply_chat_template(m, tokenize=False) for m in recs], return_tensors="pt", padding=True)
    def step(bf16):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(**batch, labels=batch["input_ids"]).loss.backward()
        model.zero_grad(set_to_none=True)
    from common import interleaved
    return interleaved({"fp32": lambda: step(False), "bf16": lambda: step(True)}, repeats=1, warmup=0)  # bf16 takes minutes

def time_to_loss(evals, target):
    "Training seconds until the held-out loss first reaches `target` (None if it never does)"
    return next((s for _, s, l in evals if l <= target + 1e-9), None)

def run(quick=False, pdf=None, model=None):
    steps, every, alone_steps = (10, 5, 4) if quick else (30, 5, 6)
    cfg = replace(WalkthroughConfig(pdf=pdf, model=model), max_steps=steps, replay=0)
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    _, tok = load_causal_lm(cfg.model)
    data = make_data(cfg, tok, tmp)
    res = {PLAIN: train_one(PLAIN, cfg, data, tmp / "r0", every)}
    plain = res[PLAIN]
    target = plain["final_loss"]
    t_plain = time_to_loss(plain["evals"], target)   # the plain recipe's own time to its final loss
    for i, n in enumerate(RECIPES):   # the walkthrough's recipes train on past `steps` until they reach plain's final loss (or plain's time)
        if n == PLAIN: continue
        c = replace(cfg, max_steps=3 * steps) if n in FULL else replace(cfg, max_steps=alone_steps)
        res[n] = train_one(n, c, data, tmp / f"r{i}", every if n in FULL else alone_steps, (target, plain["train_s"]) if n in FULL else None)
    bf16 = bf16_probe(cfg.model, data)
    rows = []
    for name, label in ((OURS, "walkthrough with the top 15 layers adapted"), (OURS_ALL, "walkthrough (defaults: every layer adapted)")):
        r = res[name]; speed, t = r["tokens_per_s"] / plain["tokens_per_s"], time_to_loss(r["evals"], target)
        at_step, at_loss = next(((s, l) for s, _, l in r["evals"] if s == steps), r["evals"][-1][::2])   # stopped early: its last
        rows += [Row(f"Training throughput, {label} vs plain recipe ({cfg.batch_size} records a step)",
                     f"{r['tokens_per_s']:.0f} tok/s", f"{plain['tokens_per_s']:.0f} tok/s", speed, "≥ 1.50×", speed >= 1.5),
                 Row(f"  training time to plain's final held-out loss ({target:.3f} after {steps} steps), {label}",
                     "not reached" if t is None else f"{t:.0f} s", f"{t_plain:.0f} s", None if t is None else t / t_plain,
                     "≤ 0.67× (1.5× sooner)", t is not None and t / t_plain <= 1 / 1.5),
                 Row(f"  held-out loss after {at_step} steps (plain: {steps}), {label}", f"{at_loss:.3f}", f"{target:.3f}", at_loss / target)]
    ours = res[OURS]
    rows.append(Row("Tokens computed per real token (padding overhead)", f"{ours['computed']/ours['tokens']:.2f}",
                    f"{plain['computed']/plain['tokens']:.2f}", (ours['computed']/ours['tokens']) / (plain['computed']/plain['tokens'])))
    for n, r in res.items():
        if n not in ALONE: continue
        rows.append(Row(f"  one choice alone: {n} ({r['steps']} steps)", f"{r['tokens_per_s']:.0f} tok/s",
                        f"{plain['tokens_per_s']:.0f} tok/s", r["tokens_per_s"] / plain["tokens_per_s"]))
    rows.append(Row("  TRL's default bf16 autocast vs fp32 (one forward+backward, 2 records)", f"{bf16['fp32']}", f"{bf16['bf16']} (bf16)",
                    bf16["fp32"].median / bf16["bf16"].median, "", None,
                    note="fp32 time / bf16 time: " + ("fp32 is faster on this CPU" if bf16["fp32"].median < bf16["bf16"].median
                                                     else "bf16 autocast is faster on this CPU (it has bf16 units)")))
    notes = [f"{len(load_split(data[0]))} training records from {'the sample PDF' if pdf is None else pdf}; held-out loss on "
             f"{len(load_split(data[1]))} records of held-out passages, every {every} steps; lr {cfg.learning_rate} constant, "
             f"r={cfg.rank}, dropout {cfg.dropout} in every recipe. Tokens/s counts real tokens and training time only "
             "(evaluation excluded; the first, warm-up step counted at the others' mean pace).",
             f"The plain recipe trains {steps} steps; the walkthrough's recipes go on (up to {3 * steps} steps) until their "
             "held-out loss reaches the plain recipe's final one, or until they have trained as long as it did. The goal "
             "'1.5× the tokens/s at the same or lower held-out loss' is met when both rows are: the throughput, and "
             "reaching that loss in two thirds of the plain recipe's time.",
             "Each recipe here sees a record at most once, so the walkthrough's cache of the frozen bottom layers "
             "(FrozenBottom, which pays from a record's second epoch on) is left off and measured in nbs/05_walkthrough.ipynb."]
    return rows, res | {"bf16_probe": {k: vars(v) for k, v in bf16.items()}}, notes

if __name__ == "__main__":
    main(run, __doc__, takes_pdf=True)
