"`ftc-prepare`, the installed executable: the sample PDF to train/eval JSONL, and every bad input refused cleanly."
import json, shutil, time
import pytest
from conftest import BIN, run
from finetune_course.data import build_sample_pdf, eval_path_for, load_jsonl
from pdf_builders import build_bad_pdfs

def _ftc_prepare():
    path = BIN/"ftc-prepare" if (BIN/"ftc-prepare").exists() else shutil.which("ftc-prepare")
    if not path: pytest.skip("ftc-prepare is not installed yet: add it to console_scripts and `pip install -e .`")
    return str(path)

@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    "The sample PDF and the gallery of bad inputs, written once"
    d = tmp_path_factory.mktemp("pdfs")
    return {"sample": build_sample_pdf(d/"notes.pdf"), **build_bad_pdfs(d/"bad")}

def prepare(*args):
    return run([_ftc_prepare(), *map(str, args)], timeout=300)

def refused(r, message, out_dir):
    "A refusal: exit status 1, the message on stderr, no traceback, nothing written"
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not out_dir.exists() or not list(out_dir.iterdir()), list(out_dir.iterdir())

def test_sample_pdf_to_train_and_eval_jsonl(pdfs, tmp_path):
    out = tmp_path/"train.jsonl"
    t = time.time(); r = prepare(pdfs["sample"], "-o", out); seconds = time.time() - t
    assert r.returncode == 0, r.stderr
    assert "train +" in r.stdout and "near-duplicate responses" in r.stdout  # the summary and the quality table
    ds = load_jsonl(out)
    assert len(ds["train"]) >= 60 and len(ds["eval"]) >= 1
    rec = json.loads(out.read_text().splitlines()[0])
    assert [m["role"] for m in rec["messages"]] == ["user", "assistant"] and rec["page"] >= 1 and rec["heading"]  # no system: the template's own
    assert eval_path_for(out).exists() and sorted(p.name for p in tmp_path.iterdir()) == ["train.eval.jsonl", "train.jsonl"]
    assert seconds < 60, f"ftc-prepare took {seconds:.1f} s"

def test_n_records_and_instruction_format(pdfs, tmp_path):
    out = tmp_path/"t.jsonl"
    r = prepare(pdfs["sample"], "-o", out, "--n-records", "20", "--format", "instruction")
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 20 and {"instruction", "input", "output"} <= set(json.loads(lines[0]))

@pytest.mark.parametrize("name, message", [
    ("not_a_pdf", "is not a PDF"), ("truncated", "is truncated"), ("corrupt", "is damaged"),
    ("encrypted", "needs a password: pass it with --password"), ("scanned", "OCR is needed"),
    ("empty", "has no pages"), ("blank", "are blank")])
def test_bad_pdf_refused(pdfs, tmp_path, name, message):
    refused(prepare(pdfs[name], "-o", tmp_path/"train.jsonl"), message, tmp_path)

def test_encrypted_pdf_with_password(pdfs, tmp_path):
    refused(prepare(pdfs["encrypted"], "-o", tmp_path/"t.jsonl", "--password", "wrong"), "password given is wrong", tmp_path)
    r = prepare(pdfs["encrypted"], "-o", tmp_path/"t.jsonl", "--password", "secret")
    assert r.returncode == 0, r.stderr

def test_too_few_records(pdfs, tmp_path):
    refused(prepare(pdfs["short"], "-o", tmp_path/"t.jsonl", "--n-records", "500"), "usable records, fewer than the", tmp_path)

def test_missing_input(tmp_path):
    "A PDF that is not there is a usage error (exit 2), caught before anything loads"
    r = prepare(tmp_path/"nope.pdf", "-o", tmp_path/"t.jsonl")
    assert r.returncode == 2 and "nope.pdf' can't work: pass the path of an existing file (nothing is there)" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0 and list(tmp_path.iterdir()) == []

def test_output_folder_missing(pdfs, tmp_path):
    r = prepare(pdfs["sample"], "-o", tmp_path/"no"/"such"/"train.jsonl")
    refused(r, "does not exist: create it", tmp_path)

def test_existing_output_needs_overwrite(pdfs, tmp_path):
    out = tmp_path/"train.jsonl"; out.write_text("mine\n")
    r = prepare(pdfs["sample"], "-o", out)
    assert r.returncode == 1 and "already exists: pass --overwrite" in r.stderr and "Traceback" not in r.stderr
    assert out.read_text() == "mine\n" and not eval_path_for(out).exists() and len(list(tmp_path.iterdir())) == 1
    r = prepare(pdfs["sample"], "-o", out, "--overwrite")
    assert r.returncode == 0, r.stderr
    assert out.read_text() != "mine\n" and eval_path_for(out).exists()

def test_make_sample(tmp_path):
    r = prepare("--make-sample", tmp_path/"notes.pdf")
    assert r.returncode == 0, r.stderr
    assert (tmp_path/"notes.pdf").read_bytes()[:5] == b"%PDF-"

def test_usage_error(pdfs):
    r = prepare(pdfs["sample"])
    assert r.returncode == 2 and "-o OUTPUT.jsonl" in r.stderr

def test_aes_encrypted_pdf(tmp_path):
    "AES-256 (what current PDF tools write) needs the `cryptography` package, a declared dependency"
    from pypdf import PdfReader, PdfWriter
    plain = build_sample_pdf(tmp_path/"plain.pdf")
    w = PdfWriter(clone_from=PdfReader(plain)); w.encrypt(user_password="s3cret", algorithm="AES-256")
    with open(tmp_path/"aes.pdf", "wb") as f: w.write(f)
    out = tmp_path/"out"; out.mkdir()
    refused(prepare(tmp_path/"aes.pdf", "-o", out/"t.jsonl"), "needs a password", out)
    r = prepare(tmp_path/"aes.pdf", "-o", out/"t.jsonl", "--password", "s3cret")
    assert r.returncode == 0, r.stderr
    assert len(load_jsonl(out/"t.jsonl")["train"]) >= 60
