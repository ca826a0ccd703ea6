"`ftc-export` and `ftc-serve`, the installed executables: a GGUF and its Modelfile, a real chat answer over HTTP, and every bad input refused cleanly."
import json, shutil, socket, subprocess, time, urllib.request
import pytest
from conftest import run, tool
from gguf import GGUFReader
from finetune_course.core import model_dir

def export(*args):
    return run([tool("ftc-export"), *map(str, args)], timeout=600)

def refused(r, message, folder, code=1):
    "A refusal: the exit status, the message on stderr, no traceback, no GGUF or temporary file left in `folder`"
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not [p.name for p in folder.iterdir() if p.suffix == ".gguf" or ".tmp-" in p.name]

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

@pytest.fixture(scope="module")
def smollm2_f16(tmp_path_factory):
    "SmolLM2-135M-Instruct exported by the command line, as F16 (the type that answers exactly like transformers)"
    out = tmp_path_factory.mktemp("gguf")/"smollm2-f16.gguf"
    r = export("smollm2", "-o", out, "--type", "f16")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "ftc-serve" in r.stdout and "ollama create" in r.stdout
    return out

def test_export_writes_gguf_and_modelfile(smollm2_f16):
    r = GGUFReader(smollm2_f16)
    assert r.fields["general.architecture"].contents() == "llama"
    assert r.fields["tokenizer.ggml.pre"].contents() == "smollm"
    assert "<|im_start|>" in r.fields["tokenizer.chat_template"].contents()
    mf = smollm2_f16.with_suffix(".Modelfile").read_text()
    assert mf.startswith(f"FROM ./{smollm2_f16.name}\n") and 'PARAMETER stop "<|im_end|>"' in mf and "SYSTEM" in mf
    assert not list(smollm2_f16.parent.glob(".*tmp-*"))

def test_serve_answers_one_chat_request(smollm2_f16):
    "Start ftc-serve on a free port, ask one question over HTTP with a bounded timeout, check the answer, always stop it"
    port = free_port()
    server = subprocess.Popen([tool("ftc-serve"), str(smollm2_f16), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 180
        while True:                                    # wait for the model to load and the port to answer
            assert server.poll() is None, server.communicate()[1][-3000:]
            try: urllib.request.urlopen(f"{base}/models", timeout=5).read(); break
            except OSError:
                assert time.time() < deadline, "ftc-serve did not answer within 180 s"
                time.sleep(0.5)
        body = {"messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 24, "temperature": 0}
        req = urllib.request.Request(f"{base}/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        reply = json.loads(urllib.request.urlopen(req, timeout=120).read())
    finally:
        server.terminate()
        try: server.wait(30)
        except subprocess.TimeoutExpired: server.kill(); server.wait(30)
    assert "Paris" in reply["choices"][0]["message"]["content"], reply
    assert reply["usage"]["completion_tokens"] > 0

def test_serve_refuses_a_port_in_use(smollm2_f16):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0)); busy.listen(); port = busy.getsockname()[1]
        r = run([tool("ftc-serve"), str(smollm2_f16), "--port", str(port)], timeout=120)
    assert r.returncode == 1 and f"port {port} on 127.0.0.1 is already in use" in r.stderr and "--port" in r.stderr
    assert "Traceback" not in r.stderr

@pytest.mark.parametrize("make, message, code", [
    (lambda p: p/"missing.gguf", "missing.gguf' can't work: pass the path of an existing file (nothing is there)", 2),  # a usage error
    (lambda p: (p/"notes.gguf").write_text("not a model") and p/"notes.gguf", "is not a GGUF file", 1)])
def test_serve_refuses_bad_files(tmp_path, make, message, code):
    r = run([tool("ftc-serve"), str(make(tmp_path)), "--port", str(free_port())], timeout=120)
    assert r.returncode == code and message in r.stderr and "Traceback" not in r.stderr, r.stderr

def test_tiny_qwen3_round_trip(tmp_path):
    "qwen3 architecture: every type exports, and llama.cpp's logits match transformers'"
    import numpy as np, torch
    from finetune_course.core import load_causal_lm
    from finetune_course.gguf_export import token_agreement
    for q in ("f16", "q8_0", "q4_0"):
        r = export("tiny-qwen3", "-o", tmp_path/f"tq-{q}.gguf", "--type", q)
        assert r.returncode == 0, r.stderr[-3000:]
        assert GGUFReader(tmp_path/f"tq-{q}.gguf").fields["general.architecture"].contents() == "qwen3"
    model, tok = load_causal_lm("tiny-qwen3")
    a = token_agreement(model, tok, tmp_path/"tq-f16.gguf", "The quick brown fox jumps over the lazy dog. " * 10, 96)
    assert a["top1_agreement"] == 1.0 and a["max_abs_dlogit"] < 1e-2, a

def _copy(src, dst, keep, config=None):
    dst.mkdir()
    for f in keep: shutil.copy(src/f, dst/f)
    if config is not None: (dst/"config.json").write_text(json.dumps(config))
    return dst

FULL = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")

def test_export_refuses_an_unsupported_architecture(tmp_path):
    d = _copy(model_dir("tiny-qwen3"), tmp_path/"m", FULL, {"architectures": ["GPT2LMHeadModel"]})
    refused(export(d, "-o", tmp_path/"x.gguf"), "GPT2LMHeadModel is not supported: the GGUF export handles LlamaForCausalLM, Qwen3ForCausalLM", tmp_path)

def test_export_refuses_a_directory_without_weights(tmp_path):
    d = _copy(model_dir("tiny-qwen3"), tmp_path/"m", ("config.json", "tokenizer.json"))
    refused(export(d, "-o", tmp_path/"x.gguf"), "has no weights (*.safetensors)", tmp_path)

def test_export_refuses_a_directory_without_tokenizer(tmp_path):
    d = _copy(model_dir("tiny-qwen3"), tmp_path/"m", ("config.json", "model.safetensors"))
    refused(export(d, "-o", tmp_path/"x.gguf"), "has no tokenizer (tokenizer.json)", tmp_path)

def test_export_refuses_an_unmerged_adapter(tmp_path):
    d = tmp_path/"adapter"; d.mkdir()
    (d/"adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": "smollm2"}))
    (d/"adapter_model.safetensors").write_bytes(b"")
    refused(export(d, "-o", tmp_path/"x.gguf"), "holds a LoRA adapter, not a whole model: merge it into its base model first", tmp_path, code=2)
    assert "or pass the base model's folder" in export(d, "-o", tmp_path/"x.gguf").stderr

def test_export_refuses_to_overwrite_without_flag(tmp_path):
    out = tmp_path/"mine.gguf"; out.write_bytes(b"keep me")
    r = export("tiny-qwen3", "-o", out)
    assert r.returncode == 1 and "already exists: pass overwrite=True (--overwrite)" in r.stderr and "Traceback" not in r.stderr
    assert out.read_bytes() == b"keep me"
    r = export("tiny-qwen3", "-o", out, "--overwrite")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == b"GGUF"

def test_export_bad_type_and_missing_inputs(tmp_path):
    r = export("tiny-qwen3", "-o", tmp_path/"x.gguf", "--type", "q5_k")
    assert r.returncode == 2 and "invalid choice" in r.stderr
    refused(export(tmp_path/"nowhere", "-o", tmp_path/"x.gguf"), "is not a directory", tmp_path)
    r = export("tiny-qwen3", "-o", tmp_path/"no"/"such"/"x.gguf")
    assert r.returncode == 1 and "does not exist: create it first" in r.stderr
