"""`python tests/fake_app.py [app.py options]`: the app with the fake embedder instead of the model.

For live-app tests that need HTTP but not the real model's answers (starts in seconds).
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from conftest import FakeEmbedder  # noqa: E402

os.environ["QA_MODEL_PATH"] = str(TESTS / "no-model" / "fake-hash")  # the manifest's model name: "fake-hash"

if __name__ == "__main__":
    import qa.embed

    fake = FakeEmbedder()
    qa.embed.load_embedder = lambda path: fake
    app = runpy.run_path(str(TESTS.parent / "app.py"))
    sys.exit(app["main"](sys.argv[1:]))
