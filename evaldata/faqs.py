"""The FAQ development set: Cargo's FAQ (``cargo/faq.html``, HTML with a question heading per section) as a local Rust
toolchain installs it with its documentation (rustup's ``share/doc/rust/html``), with ``bench/faq_dev_questions.jsonl``
(12 answerable, 4 not), for choosing how a FAQ's own questions are read (``qa/answer/faq.py``). Read in place from the
toolchain, never copied into the repository; where no toolchain has it, the set is skipped."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

FAQ_PAGE = Path("share/doc/rust/html/cargo/faq.html")


def cargo_faq(folder: Path) -> Path | None:
    """``folder`` holding ``cargo-faq.html`` copied from the first Rust toolchain that has it, or None."""
    home = Path(os.environ.get("RUSTUP_HOME", Path.home() / ".rustup"))
    found = sorted((home / "toolchains").glob(f"*/{FAQ_PAGE}")) if (home / "toolchains").is_dir() else []
    if not found:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(found[0], folder / "cargo-faq.html")
    return folder
