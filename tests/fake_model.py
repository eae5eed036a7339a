"""Run the app or the CLI with the fake embedder instead of the model (no model load: starts in seconds).

    python tests/fake_model.py app [app.py options]
    python tests/fake_model.py cli [qa options]

For live tests that need a real process (HTTP, argv bytes) but not the real model's answers.
Indexes built this way record the model name "fake-hash".
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from helpers import FakeEmbedder  # run as a script: its own folder is searched first

TESTS = Path(__file__).resolve().parent

os.environ["QA_MODEL_PATH"] = str(TESTS / "no-model" / "fake-hash")  # the manifest's model name: "fake-hash"


def main(argv: list[str]) -> int:
    import qa.index.embedders

    fake = FakeEmbedder()
    qa.index.embedders.load_embedder = lambda *args, **kwargs: fake
    if argv[:1] == ["app"]:
        return int(runpy.run_path(str(TESTS.parent / "app.py"))["main"](argv[1:]))
    if argv[:1] == ["cli"]:
        from qa.cli import main as cli

        return cli(argv[1:])
    print("usage: python tests/fake_model.py app|cli [options]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
