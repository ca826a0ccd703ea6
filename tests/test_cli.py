"`ftc-chat`: the smallest end-to-end check of an install, and its errors."
import time
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
