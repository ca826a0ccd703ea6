"""Test-only builders of deliberately broken PDFs, kept out of the library.

Used by tests/test_data_cli.py and, through a hidden cell, by nbs/04a_pdf.ipynb and nbs/04b_data.ipynb."""
from pathlib import Path
import pypdf
from finetune_course.pdftext import build_sample_pdf, read_notes

def scanned_pdf(path:Path, n_pages:int=2) -> Path:
    "A PDF whose pages are images of text, as a scanner makes them (no text layer)"
    from fpdf import FPDF
    from PIL import Image, ImageDraw
    pdf = FPDF(format="A4")
    for i in range(n_pages):
        img = Image.new("L", (800, 1100), 255)
        ImageDraw.Draw(img).multiline_text((60, 80), f"Scanned page {i+1}\n\nLoRA adds a low-rank update\nto a frozen weight.", fill=0)
        pdf.add_page(); pdf.image(img, x=10, y=10, w=190)
    pdf.output(str(path))
    return Path(path)

def build_bad_pdfs(folder:Path|str) -> dict[str, Path]:
    "Write one file for each kind of input `pdf_to_jsonl` must refuse; the encrypted one has password 'secret'"
    folder = Path(folder); folder.mkdir(parents=True, exist_ok=True)
    good = build_sample_pdf(folder/"good.pdf").read_bytes()
    (folder/"not_a_pdf.pdf").write_text("These are my notes on LoRA, saved as plain text with a .pdf name.\n")
    (folder/"truncated.pdf").write_bytes(good[:len(good)//2])
    body = len(good)//10, len(good) - 600  # keep the header and the trailer, destroy everything between
    (folder/"corrupt.pdf").write_bytes(good[:body[0]] + bytes(range(256))*((body[1]-body[0])//256) + good[body[1]:])
    build_sample_pdf(folder/"encrypted.pdf", password="secret")
    scanned_pdf(folder/"scanned.pdf")
    w = pypdf.PdfWriter(); w.write(folder/"empty.pdf")
    w = pypdf.PdfWriter(); w.add_blank_page(595, 842); w.add_blank_page(595, 842); w.write(folder/"blank.pdf")
    build_sample_pdf(folder/"short.pdf", notes=read_notes()[1][1:2], title="One section")
    return {p.stem: p for p in sorted(folder.iterdir()) if p.stem != "good"}
