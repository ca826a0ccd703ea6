"""Test-only builders of deliberately broken PDFs, kept out of the library.

Used by tests/test_data_cli.py and, through a hidden cell, by nbs/04a_pdf.ipynb and nbs/04b_data.ipynb."""
from pathlib import Path
import pypdf
from finetune_course.pdftext import atomic_path, build_sample_pdf, read_notes

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


# ---- Realistic research papers, for the layout repairs and the junk classifier (04a, 04b, 04d) ----
_PAPER_TEXT = {
 "Introduction": [
  "Large language models are usually adapted to a new task by fine-tuning all of their weights, which needs as much memory as pre-training did. "
  "Parameter-efficient methods change only a small part of the network and leave the rest frozen.",
  "This paper studies how the rank of the update affects the quality of the adapted model. We find that a small rank is enough for most tasks, "
  "and that the scaling factor matters more than the rank itself.[1] Our experiments cover three model sizes and two kinds of tasks."],
 "Related Work": [
  "Adapters insert small bottleneck layers between the frozen layers of a network (Houlsby et al., 2019). "
  "Prefix tuning learns a sequence of virtual tokens that the model attends to. "
  "Low-rank adaptation adds the product of two thin matrices to a frozen weight matrix.",
  "Quantisation reduces the memory of the frozen weights further. A quantised base model can be combined with a low-rank update, "
  "which keeps the update in full precision while the base weights use four bits each."],
 "Method": [
  "We write the adapted weight as the frozen weight plus a scaled low-rank product, as Equation 1 shows.",
  "$EQ$",
  "The matrix A is initialised with small random values and the matrix B starts at zero, so training begins from the original model. "
  "The scaling factor alpha divides by the rank, which keeps the size of the update stable when the rank changes.[2]",
  "The update can be merged into the frozen weight after training. A merged model runs exactly as fast as the original one, "
  "because it has the same shape and the same number of weights."],
 "Experiments": [
  "We fine-tune each model for three epochs with a learning rate of two times ten to the minus four. "
  "Table 1 lists the accuracy of each rank on the validation set.",
  "$TABLE$",
  "The accuracy rises quickly from rank one to rank eight and changes little after that. "
  "Figure 1 plots the validation loss against the training step for three ranks.",
  "$FIGURE$",
  "Training with rank eight takes about a third of the memory that full fine-tuning needs. "
  "The saving comes from the optimiser state, which is kept only for the small matrices."],
 "Discussion": [
  "A low rank works because the change a task needs is itself close to low rank. "
  "Tasks that differ strongly from the pre-training data may need a larger rank or a full fine-tune.",
  "Our results hold for the model sizes we tried, and we have not tested models above seven billion parameters."],
 "Conclusion": [
  "Low-rank adaptation matches full fine-tuning on the tasks we studied while training far fewer weights. "
  "We recommend starting with rank eight and tuning the scaling factor before the rank."],
}
_PAPER_FOOTNOTES = ["[1] The code and the data splits are available from the authors on request.",
                    "[2] We use alpha equal to twice the rank in every experiment unless stated otherwise."]
_PAPER_REFS = ["[1] Neil Houlsby, Andrei Giurgiu, Stanislaw Jastrzebski, and Bruna Morrone. Parameter-efficient transfer "
               "learning for NLP. In Proceedings of ICML, pages 2790-2799, 2019.",
               "[2] Edward J. Hu, Yelong Shen, Phillip Wallis, Zeyuan Allen-Zhu, Yuanzhi Li, Shean Wang, Lu Wang, and Weizhu Chen. "
               "LoRA: Low-rank adaptation of large language models. arXiv preprint arXiv:2106.09685, 2021.",
               "[3] Tim Dettmers, Artidoro Pagnoni, Ari Holtzman, and Luke Zettlemoyer. QLoRA: Efficient finetuning of "
               "quantized LLMs. In Advances in Neural Information Processing Systems, 2023.",
               "[4] Xiang Lisa Li and Percy Liang. Prefix-tuning: Optimizing continuous prompts for generation. "
               "In Proceedings of ACL, pages 4582-4597, 2021."]

def research_paper(path:Path|str, two_column:bool=True, title:str="How Low Can the Rank Go? A Study of Low-Rank Adaptation",
                   text:dict|None=None) -> Path:
    "A realistic research paper: title, authors and affiliations, abstract, numbered sections in one or two columns, running "
    "header and page numbers, footnotes in a smaller font, an equation, a table, a plot with axis labels, acknowledgements and references"
    from fpdf import FPDF
    text = text or _PAPER_TEXT
    short = title.split("?")[0].split(":")[0]
    class Paper(FPDF):
        def header(self):
            self.set_font("Times", "I", 8); self.cell(0, 5, f"{short} - preprint", align="C"); self.ln(8)
        def footer(self): self.set_y(-12); self.set_font("Times", "", 9); self.cell(0, 5, str(self.page_no()), align="C")
    pdf = Paper(format="A4"); pdf.set_auto_page_break(True, margin=30); pdf.set_title(title)
    pdf.add_page(); pdf.set_font("Times", "B", 16); pdf.multi_cell(0, 8, title, align="C"); pdf.ln(2)
    pdf.set_font("Times", "", 10)
    for who in ("Ana Lima, University of Porto, ana.lima@example.org", "Ben Okafor, Lagos Institute of Technology, ben@example.org"):
        pdf.cell(0, 5, who, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3); pdf.set_font("Times", "B", 11); pdf.cell(0, 6, "Abstract", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Times", "", 10); pdf.set_x(25)
    pdf.multi_cell(160, 4.5, "Low-rank adaptation trains two small matrices per layer instead of the full weight matrix. "
                   "We measure how small the rank can be before the quality of the adapted model drops, on three model sizes. "
                   "A rank of eight recovers almost all of the quality of full fine-tuning at a fraction of its memory."); pdf.ln(4)
    col_w, gap = (88, 6) if two_column else (190, 0)
    top = pdf.get_y(); cols = 2 if two_column else 1
    state = dict(col=0, top=top, notes=list(_PAPER_FOOTNOTES))
    def new_column():
        if state["notes"] and state["col"] == cols - 1: footnotes()
        if state["col"] < cols - 1: state["col"] += 1; pdf.set_xy(10 + state["col"] * (col_w + gap), state["top"])
        else: pdf.add_page(); state["col"], state["top"] = 0, pdf.get_y(); pdf.set_xy(10, state["top"])
        pdf.set_left_margin(10 + state["col"] * (col_w + gap))
    def footnotes():
        y = pdf.get_y(); pdf.set_xy(10, 250); pdf.set_font("Times", "", 7.5); pdf.set_left_margin(10)
        for n in state["notes"]: pdf.multi_cell(90 if two_column else 190, 3.5, n)
        state["notes"] = []; pdf.set_font("Times", "", 10)
    pdf.set_auto_page_break(False)
    def room(h): 
        if pdf.get_y() + h > (245 if state["notes"] else 262): new_column()
    def para(s, size=10, style="", h=4.6):
        pdf.set_font("Times", style, size)
        for line in pdf.multi_cell(col_w, h, s, dry_run=True, output="LINES"):
            room(h); pdf.set_x(10 + state["col"] * (col_w + gap)); pdf.cell(col_w, h, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    for n, (head, paras) in enumerate(list(text.items()) + [("Acknowledgements", ["We thank the reviewers for their comments and the "
                                                               "Porto computing centre for the GPU hours."])], 1):
        room(12); para(f"{n} {head}" if head != "Acknowledgements" else head, 11, "B", 6)
        for p in paras:
            if p == "$EQ$": para("h = W0 x + (alpha / r) B A x                (1)", 10, "I")
            elif p == "$TABLE$":
                para("Table 1: Validation accuracy by rank.", 9)
                pdf.set_font("Times", "", 9)
                for row in (("rank", "1", "4", "8", "16", "64"), ("acc.", "71.2", "78.9", "81.4", "81.6", "81.7"), ("mem.", "9.1", "9.3", "9.6", "10.2", "12.8")):
                    room(4.5); pdf.set_x(10 + state["col"] * (col_w + gap))
                    for c in row: pdf.cell(col_w / 6, 4.5, c)
                    pdf.ln(4.5)
                pdf.ln(2)
            elif p == "$FIGURE$":
                room(40); x0, y0 = 10 + state["col"] * (col_w + gap) + 10, pdf.get_y()
                pdf.line(x0, y0 + 30, x0 + 60, y0 + 30); pdf.line(x0, y0, x0, y0 + 30)
                pdf.set_font("Helvetica", "", 6)
                for i, v in enumerate(("0.2", "0.4", "0.6", "0.8")): pdf.text(x0 - 6, y0 + 30 - 8 * i, v)
                for i, v in enumerate(("0", "500", "1000", "1500")): pdf.text(x0 + 18 * i, y0 + 33, v)
                pdf.text(x0 + 20, y0 + 36, "training step"); pdf.text(x0 + 40, y0 + 5, "rank 8"); pdf.text(x0 + 40, y0 + 9, "rank 64")
                pdf.set_y(y0 + 38); para("Figure 1: Validation loss against the training step for three ranks.", 9)
            else: para(p)
    room(12); para("References", 11, "B", 6)
    for r in _PAPER_REFS: para(r, 9, "", 4)
    if state["notes"]: footnotes()
    with atomic_path(Path(path)) as t: pdf.output(str(t))
    return Path(path)
