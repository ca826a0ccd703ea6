"Offline behaviour of the library: embedded models load with no network, hub names fail fast with advice."
import time, pytest
from finetune_course.core import load_causal_lm, load_encoder, load_course_dataset, OfflineModelError

def test_hub_model_offline_error_is_fast_and_helpful(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = time.time()
    with pytest.raises(OfflineModelError, match="HF_HUB_OFFLINE=1"): load_causal_lm("Qwen/Qwen3-4B-Instruct-2507")
    with pytest.raises(OfflineModelError, match="HF_HUB_OFFLINE=1"): load_encoder("bert-base-uncased")
    with pytest.raises(OfflineModelError, match="dataset"): load_course_dataset("stanfordnlp/imdb")
    assert time.time() - t < 30

def test_default_encoder_classifies():
    import torch
    model, tok = load_encoder()
    with torch.no_grad(): out = model(**tok(["good", "bad"], padding=True, return_tensors="pt"))
    assert out.logits.shape == (2, 2)
