"""Scale-out with `accelerate`: the shipped configs load, and `ftc-walkthrough` runs unchanged on two CPU processes
(gloo), with the adapter identical on both ranks and equal to one process with the same global batch."""
import socket, sys
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file
from conftest import ROOT, run, tool

CONFIGS = ROOT/"configs"/"accelerate"

def _load(name):
    from accelerate.commands.config.config_args import load_config_from_file
    return load_config_from_file(str(CONFIGS/name))

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def test_every_config_loads_with_accelerate():
    names = sorted(p.name for p in CONFIGS.glob("*.yaml"))
    assert names == ["fsdp_qwen3_4b_lora.yaml", "multi_cpu.yaml", "multi_gpu_ddp.yaml", "single_cpu.yaml"]
    kinds = {n: _load(n).distributed_type.value for n in names}
    assert kinds == {"fsdp_qwen3_4b_lora.yaml": "FSDP", "multi_cpu.yaml": "MULTI_GPU", "multi_gpu_ddp.yaml": "MULTI_GPU",
                     "single_cpu.yaml": "NO"}
    assert _load("multi_cpu.yaml").num_processes == 2 and _load("single_cpu.yaml").use_cpu

def test_fsdp_config_wraps_a_real_qwen3_layer_and_keeps_original_params():
    "The wrap class must name a module that Qwen3 really has, or FSDP silently wraps the whole model as one unit"
    from accelerate.utils.dataclasses import get_module_class_from_name
    from finetune_course.core import tiny_qwen3_config
    from transformers import AutoModelForCausalLM
    fsdp = _load("fsdp_qwen3_4b_lora.yaml").fsdp_config
    assert fsdp["fsdp_use_orig_params"] is True, "LoRA mixes frozen and trainable parameters in a unit: FSDP1 needs use_orig_params"
    assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    with torch.device("meta"): model = AutoModelForCausalLM.from_config(tiny_qwen3_config(1000))
    cls = get_module_class_from_name(model, fsdp["fsdp_transformer_layer_cls_to_wrap"])
    assert cls is not None and sum(isinstance(m, cls) for m in model.modules()) == model.config.num_hidden_layers

@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 GPUs: this machine has none, so the GPU configs are only loaded")
def test_multi_gpu_ddp_runs_on_gpus(tmp_path):
    r = run(["accelerate", "launch", "--config_file", str(CONFIGS/"multi_gpu_ddp.yaml"), "--main_process_port", str(_free_port()),
             tool("ftc-walkthrough"), "--model", "tiny-qwen3", "--n-samples", "8", "--n-eval", "4", "--max-steps", "2",
             "--batch-size", "2", "--out", str(tmp_path/"gpu")], timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]

def _walkthrough(out:Path, *launch, batch:int):
    return run([*launch, tool("ftc-walkthrough"), "--model", "tiny-qwen3", "--n-samples", "8", "--n-eval", "4",
                "--max-steps", "1", "--batch-size", str(batch), "--lr", "1e-2", "--dropout", "0", "--out", str(out)], timeout=900)

def _two_cpu_launch() -> list:
    "accelerate launch with the 2-process CPU config, on a free port"
    return [str(Path(sys.executable).parent/"accelerate"), "launch", "--config_file", str(CONFIGS/"multi_cpu.yaml"),
            "--main_process_port", str(_free_port())]

def _adapter_gap(ddp_run:Path, one_run:Path, tol:float=1e-4) -> tuple[float, float]:
    """(share of adapter elements on which the two runs differ by more than `tol`, a hundredth of one Adam step at lr 1e-2;
    largest |lora_B| of the 1-process run: how far training moved it). A share, not a norm: Adam's first step is about
    ±lr on every element whatever its gradient's size, so an element whose gradient is near zero takes a step whose sign
    follows the float-summation noise of the all-reduce, and from the second step on that one flipped element moves every
    gradient. Measured on a 2-core Intel Xeon (AMX) after one step: 0.03% of the elements off by more than `tol` (2 processes
    against 1; 0.05-0.4% of lora_B on a 2-core AMD EPYC), 4.2% when one process trains on half the batch; after two
    steps 6% against 54%, so one step is compared."""
    a = load_file(ddp_run/"adapter"/"adapter_model.safetensors")
    b = load_file(one_run/"adapter"/"adapter_model.safetensors")
    assert a.keys() == b.keys()
    differ = sum(((a[k] - b[k]).abs() > tol).sum().item() for k in a)
    return (differ / sum(b[k].numel() for k in b),
            max(b[k].abs().max().item() for k in b if "lora_B" in k))

def test_two_cpu_processes_stay_in_sync_and_match_one_process(tmp_path):
    launch = _two_cpu_launch()
    ddp = _walkthrough(tmp_path/"ddp", *launch, batch=2)  # 2 processes × 2 samples
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert "2 processes" in ddp.stdout and "adapter identical on every rank: yes" in ddp.stdout, ddp.stdout[-2000:]
    assert ddp.stdout.count("eval loss after training") == 1, "only the main process should report"
    one = _walkthrough(tmp_path/"one", batch=4)            # 1 process × 4 samples: the same global batch
    assert one.returncode == 0, one.stderr[-3000:]
    share, moved = _adapter_gap(tmp_path/"ddp", tmp_path/"one")
    assert moved > 1e-3, "training did not move the adapter: the comparison would prove nothing"
    assert share < 0.01, f"the 2-process adapter differs from the 1-process one on {share:.2%} of its elements"

def test_half_the_batch_changes_the_adapter_beyond_that_limit(tmp_path):
    "The control that gives the 1% above its meaning: one process on half the global batch differs on more of the adapter"
    half = _walkthrough(tmp_path/"half", batch=2)
    one = _walkthrough(tmp_path/"one", batch=4)
    assert half.returncode == 0 and one.returncode == 0, (half.stderr + one.stderr)[-3000:]
    share, _ = _adapter_gap(tmp_path/"half", tmp_path/"one")
    assert share > 0.02, f"half the batch changed only {share:.2%} of the adapter: a 1% limit could not tell a wrong split apart"

def _imdb(out:Path, *launch, batch:int):
    return run([*launch, tool("ftc-imdb"), "--method", "lora", "--max-samples", "32", "--n-eval", "16", "--max-length", "48",
                "--batch-size", str(batch), "--epochs", "1", "--output-dir", str(out), "--quiet", "--json"], timeout=900)

def test_ftc_imdb_two_cpu_processes_match_one_process(tmp_path):
    "ftc-imdb's own training loop under accelerate: each process trains on its share of every step, the main one reports"
    launch = _two_cpu_launch()
    ddp = _imdb(tmp_path/"ddp", *launch, batch=4)                   # 2 processes × 4 reviews
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert ddp.stdout.count("held-out accuracy") == 1, "only the main process should report"
    one = _imdb(tmp_path/"one", batch=8)                            # 1 process × 8 reviews: the same steps
    assert one.returncode == 0, one.stderr[-3000:]
    share, moved = _adapter_gap(tmp_path/"ddp", tmp_path/"one")
    assert moved > 1e-4, "training did not move the adapter: the comparison would prove nothing"
    assert share < 0.01, f"the 2-process adapter differs from the 1-process one on {share:.2%} of its elements"
