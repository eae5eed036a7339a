"""Which PDF library reads the Texinfo manual the way a person does?

    pip install -e ".[bench]"; python -m bench.pdf_readers [../shared/eval/docs/libtasn1-manual.pdf]

Figures for each library (pypdf, pypdfium2, pdfplumber), on the whole manual:
- seconds to extract the text of every page (best of 3);
- two-column index pages read column by column: the entries of the two-column
  "Concept Index" page come out in alphabetical order (their order on the page,
  column after column) rather than interleaved row by row;
- hyphenation known: whether a word hyphenated at a line end is told apart from a
  real hyphen (pdfium marks such hyphens with U+FFFE; the others give "-" and a line break);
- running headers on their own line: "Chapter 4: Function reference 11" is a whole line.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

PDF = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "docs" / "libtasn1-manual.pdf"
INDEX_ENTRIES = ["asn1Coding program", "asn1Decoding program", "asn1Parser program", "ASN.1 schema",
                 "FDL, GNU Free", "Future developments", "Header file libtasn1.h", "Main type asn1", "Porting",
                 "Supported ASN.1 types", "threads"]


def pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def pdfium_pages(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        return [pdf[i].get_textpage().get_text_range().replace("\r\n", "\n") for i in range(len(pdf))]
    finally:
        pdf.close()


def plumber_pages(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def in_order(text: str) -> bool:
    positions = [text.find(entry) for entry in INDEX_ENTRIES]
    return -1 not in positions and positions == sorted(positions)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else PDF
    print("| library | seconds (36 pages) | two-column index in reading order | soft hyphens marked | running header a whole line |")
    print("|---|---|---|---|---|")
    for name, extract in (("pypdf", pypdf_pages), ("pypdfium2", pdfium_pages), ("pdfplumber", plumber_pages)):
        times = []
        for _ in range(3):
            began = time.perf_counter()
            pages = extract(path)
            times.append(time.perf_counter() - began)
        index_page = next(page for page in pages if "Concept Index" in page and "asn1Coding program" in page)
        header = any(re.search(r"^Chapter 4: Function reference \d+$", page, re.M) for page in pages)
        marked = any("\ufffe" in page for page in pages)
        print(f"| {name} | {min(times):.2f} | {'yes' if in_order(index_page) else 'no'} | "
              f"{'yes' if marked else 'no'} | {'yes' if header else 'no'} |")


if __name__ == "__main__":
    main()
