"`ftc-chat`: the smallest end-to-end check of an install, and its errors."
import json, time
from conftest import run, tool

def test_ftc_chat_answers_offline():
    r = run([tool("ftc-chat"), "What is the capital of France?", "--max-new-tokens", "20"])
    assert r.returncode == 0, r.stderr
    assert "Paris" in r.stdout

def test_ftc_chat_on_tiny_qwen3_runs():
    r = run([tool("ftc-chat"), "Hello", "--model", "tiny-qwen3", "--max-new-tokens", "4"])
    assert r.returncode == 0, r.stderr

def test_ftc_chat_refuses_uncached_hub_model_offline_fast():
    t = time.time()
    r = run([tool("ftc-chat"), "hi", "--model", "Qwen/Qwen3-4B-Instruct-2507"], timeout=120)
    assert r.returncode != 0
    assert "HF_HUB_OFFLINE=1" in r.stderr and "FTC_MODE=offline" in r.stderr
    assert "Traceback" not in r.stderr
    assert time.time() - t < 60

def test_ftc_chat_full_mode_offline_says_what_to_do():
    r = run([tool("ftc-chat"), "hi"], env={"FTC_MODE": "full"}, timeout=120)
    assert r.returncode != 0 and "Qwen/Qwen3-4B-Instruct-2507" in r.stderr and "Traceback" not in r.stderr

def test_ftc_chat_bad_mode():
    r = run([tool("ftc-chat"), "hi"], env={"FTC_MODE": "gpu"}, timeout=120)
    assert r.returncode != 0 and "one of ('offline', 'full')" in r.stderr and "Traceback" not in r.stderr

NOISE = ("FutureWarning", "UserWarning", "gemm_4bit_forward", "Tokenizing train dataset", "Map:", "Loading weights",
         "{'loss'")  # library chatter the main job must not print by default

def test_ftc_walkthrough_tiny_chain(tmp_path):
    "The main job's command end to end on the tiny Qwen3: PDF → QA records → LoRA → before/after quality → merged model"
    out = tmp_path/"run"
    r = run([tool("ftc-walkthrough"), "--model", "tiny-qwen3", "--n-samples", "8", "--n-eval", "4", "--max-steps", "2",
             "--max-new-tokens", "4", "--out", str(out)])
    assert r.returncode == 0, r.stderr[-3000:]
    assert "keyword hit" in r.stdout and "held-out loss" in r.stdout and "merged model" in r.stdout
    assert (out/"adapter"/"adapter_model.safetensors").exists() and (out/"merged"/"model.safetensors").exists()
    assert not list(out.rglob("*.tmp"))
    noise = [n for n in NOISE if n in r.stdout + r.stderr]
    assert not noise, f"the default console shows library chatter {noise}:\n{r.stderr[-2000:]}"
    first = json.loads((out/"data"/"train.jsonl").read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]  # the template's own system prompt, as in chat
    again = run([tool("ftc-walkthrough"), "--model", "tiny-qwen3", "--out", str(out)])
    assert again.returncode != 0 and "--overwrite" in again.stderr and "Traceback" not in again.stderr

def test_ftc_walkthrough_keeps_to_its_budget(tmp_path):
    "Without --max-steps the job plans its steps from --budget, prints the plan before training and reports planned vs actual"
    out = tmp_path/"run"
    t = time.time()
    r = run([tool("ftc-walkthrough"), "--model", "tiny-qwen3", "--n-samples", "8", "--n-eval", "4", "--epochs", "1",
             "--max-new-tokens", "4", "--gguf-type", "none", "--budget", "4", "--out", str(out)])
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.lstrip().startswith("plan: ") and "the job should end at" in r.stdout   # the plan comes first
    assert "budget 4 min: planned" in r.stdout and time.time() - t < 4 * 60 * 1.1
    plan, result = (json.loads((out/f).read_text()) for f in ("plan.json", "result.json"))
    assert result["steps"] == plan["steps"] >= 1 and result["plan"] == plan
    bad = run([tool("ftc-walkthrough"), "--budget", "0", "--out", str(tmp_path/"bad")])
    assert bad.returncode == 2 and "--budget" in bad.stderr and "Traceback" not in bad.stderr and not (tmp_path/"bad").exists()

def test_ftc_walkthrough_own_pdf_generates_questions(tmp_path):
    "On a user's PDF the evaluation questions are generated, saved for editing, and unlike every training prompt"
    pdf = tmp_path/"notes.pdf"
    assert run([tool("ftc-prepare"), "--make-sample", str(pdf)]).returncode == 0
    out = tmp_path/"run"
    r = run([tool("ftc-walkthrough"), "--model", "tiny-qwen3", "--pdf", str(pdf), "--records", "continuation", "--n-samples", "8",
             "--n-eval", "4", "--max-steps", "1", "--max-new-tokens", "2", "--out", str(out), "--verbose"])
    assert r.returncode == 0, r.stderr[-3000:]
    qs = [json.loads(l) for l in (out/"data"/"questions.jsonl").read_text().splitlines()]
    prompts = {json.loads(l)["messages"][-2]["content"] for f in ("train.jsonl", "train.eval.jsonl")
               for l in (out/"data"/f).read_text().splitlines()}
    assert len(qs) >= 10 and not {q["question"] for q in qs} & prompts
    assert f"keyword hit ({len(qs)} questions)" in r.stdout

def test_ftc_walkthrough_bad_knobs(tmp_path):
    r = run([tool("ftc-walkthrough"), "--model", "tiny-qwen3", "--n-samples", "2", "--out", str(tmp_path/"x")])
    assert r.returncode != 0 and "fewer than one batch" in r.stderr and "Traceback" not in r.stderr
    r = run([tool("ftc-walkthrough"), "--method", "qlora"])
    assert r.returncode != 0 and "invalid choice" in r.stderr

def test_ftc_walkthrough_offline_hub_model_is_refused_cleanly(tmp_path):
    r = run([tool("ftc-walkthrough"), "--model", "Qwen/Qwen3-4B-Instruct-2507", "--out", str(tmp_path/"q")], timeout=120)
    assert r.returncode != 0 and "HF_HUB_OFFLINE=1" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path/"q").exists()
