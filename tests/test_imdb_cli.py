"`ftc-imdb`, the installed executable: training options land in the run, `--evaluate RUN_DIR --data FILE --json` scores any labelled file, and every kind of bad data is refused cleanly."
import json, shutil
import pandas as pd
import pytest
from conftest import BIN, run

def _ftc_imdb():
    path = BIN/"ftc-imdb" if (BIN/"ftc-imdb").exists() else shutil.which("ftc-imdb")
    if not path: pytest.skip("ftc-imdb is not installed yet: `pip install -e .`")
    return str(path)

def imdb(*args, timeout=300):
    return run([_ftc_imdb(), "--quiet", *map(str, args)], timeout=timeout)

def last_json(r) -> dict:
    assert r.returncode == 0, (r.stdout, r.stderr[-3000:])
    return json.loads(r.stdout.strip().splitlines()[-1])

def refused(r, message, status=1):
    "A refusal: the exit status, the message on stderr, no traceback"
    assert r.returncode == status, (r.returncode, r.stdout, r.stderr[-3000:])
    assert message in r.stderr, r.stderr[-3000:]
    assert "Traceback" not in r.stderr

REVIEWS = ["A wonderful, moving film with a great cast.", "Dreadful. Two hours I will never get back.",
           "I loved every minute of it, a masterpiece.", "Boring plot, wooden acting, avoid.",
           "Funny, warm and beautifully shot.", "The worst film of the year, a total mess."]

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    "One small QLoRA run (the default method) through the CLI, with non-default options"
    out = tmp_path_factory.mktemp("runs")/"qlora"
    r = imdb("--max-samples", 32, "--n-eval", 24, "--max-length", 48, "--batch-size", 8, "--grad-accum", 2, "--epochs", 1,
             "--lr", 2e-3, "--rank", 4, "--seed", 3, "--dropout", 0.05, "--model-dropout", 0.1, "--output-dir", out, "--json")
    return out, r

def test_train_options_land_in_the_run(trained):
    out, r = trained
    res = last_json(r)
    assert set(res) >= {"accuracy", "f1", "n"} and res["n"] == 24 and 0 <= res["accuracy"] <= 1
    assert "held-out accuracy" in r.stdout
    rep = json.loads((out/"run.json").read_text())
    c = rep["config"]
    assert (c["method"], c["max_length"], c["batch_size"], c["grad_accum"], c["lr"], c["rank"], c["seed"]) == ("qlora", 48, 8, 2, 2e-3, 4, 3)
    assert (c["dropout"], c["model_dropout"]) == (0.05, 0.1)
    assert rep["data"]["n_train"] == 32 and rep["steps"] == 2      # 32 reviews / (8 x 2) per step
    assert sorted(p.name for p in out.iterdir()) == ["adapter", "run.json", "tokenizer"]

def test_refuses_to_overwrite(trained):
    out, _ = trained
    refused(imdb("--max-samples", 16, "--output-dir", out), "already holds a run: pass overwrite=True (--overwrite)")

@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    df = pd.DataFrame({"text": REVIEWS, "label": [1, 0, 1, 0, 1, 0]})
    df.to_csv(d/"ok.csv", index=False)
    df.assign(label=df.label.map({0: "neg", 1: "pos"})).to_json(d/"ok.jsonl", orient="records", lines=True)
    df.rename(columns={"text": "review", "label": "sentiment"}).to_parquet(d/"renamed.parquet")
    df.rename(columns={"text": "review"}).to_csv(d/"no_text.csv", index=False)
    df.assign(label=1).to_csv(d/"one_class.csv", index=False)
    (d/"empty.csv").write_text("text,label\n")
    (d/"non_text.jsonl").write_text('{"text": "fine film", "label": 1}\n{"text": 42, "label": 0}\n')
    df.assign(label=[1, 0, 1, 0, 1, 7]).to_csv(d/"unknown_label.csv", index=False)
    return d

def test_evaluate_any_file_json(trained, files):
    out, _ = trained
    res = last_json(imdb("--evaluate", out, "--data", files/"ok.csv", "--json"))
    assert set(res) == {"accuracy", "f1", "n"} and res["n"] == 6
    res2 = last_json(imdb("--evaluate", out, "--data", files/"ok.jsonl", "--json"))  # neg/pos labels: same reviews, same score
    assert res2 == res
    res3 = last_json(imdb("--evaluate", out, "--data", files/"renamed.parquet", "--text-column", "review", "--label-column", "sentiment", "--json"))
    assert res3 == res

@pytest.mark.parametrize("name, message", [
    ("no_text.csv", "no 'text' column; columns found: ['review', 'label']"),
    ("one_class.csv", "only one class"), ("empty.csv", "is empty"),
    ("non_text.jsonl", "have no text, first row 2 with 42"), ("unknown_label.csv", "unknown label '7' in row 6")])
def test_evaluate_bad_data(trained, files, name, message):
    refused(imdb("--evaluate", trained[0], "--data", files/name), message)

@pytest.mark.parametrize("name, message", [("no_text.csv", "columns found"), ("one_class.csv", "only one class"),
                                           ("unknown_label.csv", "unknown label")])
def test_train_bad_data_writes_nothing(files, tmp_path, name, message):
    refused(imdb("--dataset", files/name, "--output-dir", tmp_path/"run"), message)
    assert not (tmp_path/"run").exists()

def test_empty_split(files, tmp_path):
    refused(imdb("--dataset", files/"ok.csv", "--n-eval", 10, "--output-dir", tmp_path/"run"), "the training split is empty")
    assert not (tmp_path/"run").exists()

def test_usage_errors(files, tmp_path):
    refused(imdb("--evaluate", tmp_path), "--evaluate RUN_DIR needs --data FILE", status=2)
    refused(imdb("--data", files/"ok.csv"), "to train on a file use --dataset", status=2)
    refused(imdb("--evaluate", tmp_path, "--data", files/"ok.csv"), "is not an ftc-imdb run")
    refused(imdb("--evaluate", tmp_path, "--data", tmp_path/"missing.csv"), "--data", status=2)  # caught as the options are read
    refused(imdb("--evaluate", tmp_path/"no-run", "--data", files/"ok.csv"), "--evaluate", status=2)
    refused(imdb("--method", "adapter"), "invalid choice: 'adapter'", status=2)
    refused(imdb("--batch-size", 0, "--output-dir", tmp_path/"r"), "--batch-size 0 can't work: pass a whole number of 1 or more", status=2)
    refused(imdb("--model-dropout", 1.5, "--output-dir", tmp_path/"r"), "--model-dropout 1.5 can't work: pass a fraction from 0", status=2)

def test_full_method_saves_the_whole_model(files, tmp_path):
    out = tmp_path/"full"
    res = last_json(imdb("--method", "full", "--dataset", files/"ok.csv", "--n-eval", 2, "--max-length", 32, "--batch-size", 4,
                         "--output-dir", out, "--json"))
    assert res["n"] == 2 and (out/"model"/"model.safetensors").exists() and not (out/"adapter").exists()

def test_help_lists_every_option():
    r = imdb("--help")
    for opt in ("--method", "--model", "--dataset", "--max-samples", "--max-length", "--epochs", "--batch-size", "--grad-accum",
                "--lr", "--rank", "--dropout", "--model-dropout", "--output-dir", "--memory-table", "--evaluate", "--data", "--json"):
        assert opt in r.stdout, opt
