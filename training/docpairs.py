"""Documentation pairs for the reader: questions about READMEs, read as the product reads them (tried, not shipped).

qatrain and SQuAD 2.0 are Wikipedia prose; people ask their documentation "how do I ...", "what is the default of
...", "what does --flag do", and the answer is a sentence with the command or list it introduces, or a table row.
Issue 37 asks that the reader judge those units too. Two sources, neither holding a docs2 document:
- ``doc_pairs``: the Markdown READMEs of the Python packages installed beside qa (their PyPI descriptions, pinned by
  ``pyproject.toml``), less qa's own and the six of the README development set. Three rules make questions from
  their sentences as their words say them: "To <do something>, ..." -> "How do I <do something>?" (the sentence,
  with the code block or list it introduces, answers); a sentence saying a default value of a name (a code span, or
  its heading) -> "What is the default value of <name>?"; a list item that starts with an option or function name ->
  "What does <name> do?". The same "default" and "what does" questions about a name no README holds are answered by
  nothing: only negatives.
- ``written_pairs``: the questions written for the two documentation development sets (which then stop being
  development sets: they are trained on).
Each question is run through the product's retrieval and cheap score: what answers it is the positive, and the first
``NEGATIVES`` other candidates the reader would read are negatives (one for a question nothing answers).

Measured 2026-12-07 (``models/reader/MODEL_CARD.md``): the held-out docs2 set answered no better with either source,
and worse with every negative kept. ``python -m training.adapt --doc-pairs R`` (default 0: off).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from evaldata import CACHE, write_corpus
from evaldata.readmes import README_PACKAGES, package_readmes
from qa import Index
from qa.answer.blocks import READ_CHARS, introduced_text
from qa.answer.reader import read_as
from qa.index.corpus import Corpus, heading_above
from training import qadata
from training.combiner import product_candidates

EXCLUDED = {"qa", *README_PACKAGES}  # qa itself, the README development set
NEGATIVES = 2  # per answerable question, as the SQuAD 2.0 adaptation has (its paragraph's and another's)
CANDIDATES = 6  # the reader reads 4; the next two are the near misses it would read if it read more
HOW = re.compile(r"^(?:To|In order to|If you (?:want|need|wish) to)\s+([a-z][^,:;()]{6,90}?),\s+(\S.*)$")
DEFAULT = re.compile(r"\bdefault(?:s| value)?(?: is| to|:| =)\s+`?([^\s`,;]{1,40})`?", re.IGNORECASE)
NAME = re.compile(r"`(-{1,2}[\w-]+|[\w.]+\(\)|[A-Z][A-Z0-9_]{3,}|[a-z_][\w.]*_[\w.]*)`|(--[\w-]{2,})")
DOES = re.compile(r"^`?(-{1,2}[\w-]+|[\w.]+\(\))`?(?:,\s*`?-{1,2}[\w-]+`?)?\s*(?:[:—–]|-\s)\s*(\S.{14,})$")
_STRAIGHT = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
MINE = (("your", "my"), ("yourself", "myself"), ("you", "I"))


@dataclass(frozen=True)
class Asked:
    question: str
    sentence: int  # the sentence it was made from; -1: no README answers it
    key: str  # words that, found in another candidate, mean it answers too
    span: str  # the answer inside the sentence (may be "")


def readme_documents() -> list[tuple[str, str]]:
    """(file name, Markdown) of every installed distribution's README but ``EXCLUDED``'s, by name."""
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        meta = dist.metadata
        name = str(meta["Name"] or "").lower()
        text = str(meta.json.get("description", "") or "")
        markdown = "markdown" in str(meta.json.get("description_content_type", ""))
        if name and name not in EXCLUDED and markdown and len(text) > 1500:
            found[f"{name}-README.md"] = text
    return sorted(found.items())


def mine(phrase: str) -> str:
    """A documentation phrase as the user asks it: "install your package" -> "install my package"."""
    for said, asked in MINE:
        phrase = re.sub(rf"\b{said}\b", asked, phrase)
    return phrase


def questions(corpus: Corpus) -> list[Asked]:
    """The rules' questions over every sentence of ``corpus`` (prose, list items and table rows; not code)."""
    out = []
    for s in range(len(corpus.sentences)):
        if corpus.is_code(s):
            continue
        text = " ".join(read_as(corpus, s)[0].split())
        how = HOW.match(text)
        if how and "`" not in how.group(1):
            out.append(Asked(f"How do I {mine(how.group(1))}?", s, how.group(1), how.group(2).rstrip(":. ")))
        default = DEFAULT.search(text)
        if default:
            names = [m.group(1) or m.group(2) for m in NAME.finditer(text) if default.group(1) not in (m.group(1), m.group(2))]
            heading = heading_above(corpus.sentence_document(s), int(corpus.sentences["start"][s])).strip("`")
            name = names[0] if names else (heading if re.fullmatch(r"-{0,2}[\w.()-]{3,40}", heading) else "")
            if name:
                out.append(Asked(f"What is the default value of {name}?", s, name, default.group(1)))
        does = DOES.match(text)
        if does:
            out.append(Asked(f"What does {does.group(1)} do?", s, does.group(1), does.group(2)))
    return out


def unanswerable(asked: list[Asked], texts: list[str], rng: random.Random) -> list[Asked]:
    """The "default" and "what does" questions again, about a name found in no README (its last part changed)."""
    out = []
    for a in asked:
        if a.question.startswith("How do I"):
            continue
        head, _, last = a.key.rpartition("-") if "-" in a.key.strip("-") else ("", "", a.key)
        other = rng.choice(["limit", "color", "timeout", "cache", "depth", "format", "retries", "level", "size", "mode"])
        name = f"{head}-{other}" if head else f"{a.key.rstrip('()')}_{other}"
        if last == other or any(name in t for t in texts):
            continue
        out.append(Asked(a.question.replace(a.key, name), -1, name, ""))
    return out


def doc_pairs(seed: int = 13) -> list[qadata.Pair]:
    """Every rule-made question's pairs (answerable and unanswerable alike), cached per README set and rules."""
    docs = readme_documents()
    code = Path(__file__).read_bytes()
    digest = hashlib.sha256(json.dumps(docs).encode() + code + str(seed).encode()).hexdigest()[:12]
    cache = CACHE / f"doc-pairs-{digest}.json"
    if cache.exists():
        return [qadata.Pair(p[0], p[1], p[2], p[3], tuple(p[4]) if p[4] else None) for p in json.loads(cache.read_text())]
    folder = CACHE / "doc-pairs" / "readmes"
    index = Index.build(write_corpus(folder, docs), CACHE / "doc-pairs" / "index")
    corpus = index.corpus
    rng = random.Random(seed)
    answerable = questions(corpus)
    texts = [d.text for d in corpus.documents]
    asked = answerable + unanswerable(answerable, texts, rng)
    rng.shuffle(asked)
    pairs: list[qadata.Pair] = []
    for a in asked:
        pairs += labelled(index, a)
    cache.write_text(json.dumps([[p.question, p.title, p.sentence, p.label, p.span] for p in pairs]))
    return pairs


def normal(text: str) -> str:
    """Text compared with a gold answer: Markdown's code and emphasis marks and curly quotes dropped, spaces squeezed."""
    text = text.translate(_STRAIGHT).replace("`", "").replace("*", "")
    return " ".join(text.split()).casefold()


def written_pairs(eval_dir: Path, bench_dir: Path) -> list[qadata.Pair]:
    """Pairs of the questions people wrote for the two documentation development sets (``bench/docs_dev_questions.jsonl``
    over ``../shared/eval/docs``; ``bench/docs_dev2_questions.jsonl`` over the README development set): each of the
    product's candidates, 1 when it holds a gold answer (with the code block or list it introduces), else 0; and the
    sentence that holds it when no candidate does. The docs2 set stays out, held out."""
    readmes = CACHE / "doc-pairs" / "readme-dev"
    readmes.mkdir(parents=True, exist_ok=True)
    package_readmes(readmes)
    sets = [(eval_dir / "docs", bench_dir / "docs_dev_questions.jsonl", "docs-dev"),
            (readmes, bench_dir / "docs_dev2_questions.jsonl", "readme-dev")]
    pairs: list[qadata.Pair] = []
    for folder, questions_file, name in sets:
        index = Index.build([folder], CACHE / "doc-pairs" / f"index-{name}")
        for line in questions_file.read_text(encoding="utf-8").splitlines():
            q = json.loads(line) if line.strip() else None
            if q:
                pairs += gold_labelled(index, q["question"], [normal(a) for a in q["answers"]])
    return pairs


def gold_labelled(index: Index, question: str, answers: list[str]) -> list[qadata.Pair]:
    corpus = index.corpus
    found = [c.sentence for c in product_candidates(index, question, CANDIDATES)]
    holds = [any(a in normal(unit_of(corpus, s)) for a in answers) for s in found]
    if answers and not any(holds):
        holder = next((s for s in range(len(corpus.sentences)) if any(a in normal(unit_of(corpus, s)) for a in answers)), None)
        found, holds = found + ([holder] if holder is not None else []), [*holds, True]
    pairs = [qadata.Pair(question, corpus.titles[int(corpus.sentences["doc"][s])], unit_of(corpus, s), float(h), None)
             for s, h in zip(found, holds, strict=False)]
    return balanced(pairs, bool(answers))


def balanced(pairs: list[qadata.Pair], answerable: bool) -> list[qadata.Pair]:
    """The positives and the first ``NEGATIVES`` negatives (one for a question nothing answers): the SQuAD 2.0
    adaptation's proportions, so that documentation as a whole is not learned as unlikely to answer."""
    negatives = [p for p in pairs if not p.label][: NEGATIVES if answerable else 1]
    return [p for p in pairs if p.label] + negatives


def unit_of(corpus: Corpus, s: int) -> str:
    """The sentence as the reader reads it, with the code block or list it introduces, its spaces squeezed."""
    return " ".join(f"{read_as(corpus, s)[0]} {introduced_text(corpus, s, READ_CHARS)}".split())


def labelled(index: Index, asked: Asked) -> list[qadata.Pair]:
    """The question's pairs: its own sentence (always, 1) and the product's candidates (0 unless they say it too)."""
    corpus = index.corpus
    found = [c.sentence for c in product_candidates(index, asked.question, CANDIDATES)]
    out: list[qadata.Pair] = []
    for s in ([asked.sentence] if asked.sentence >= 0 else []) + [s for s in found if s != asked.sentence]:
        unit = unit_of(corpus, s)
        title = corpus.titles[int(corpus.sentences["doc"][s])]
        if s == asked.sentence:
            at = unit.find(asked.span) if asked.span else -1
            out.append(qadata.Pair(asked.question, title, unit, 1.0, (at, at + len(asked.span)) if at >= 0 else None))
        elif asked.sentence < 0 or asked.key.lower() not in unit.lower():
            out.append(qadata.Pair(asked.question, title, unit, 0.0, None))
    return balanced(out, asked.sentence >= 0)
