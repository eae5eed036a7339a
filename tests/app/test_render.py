"""HTML of the chat app: quotes and citation numbers, abstentions, highlighted passages, escaping."""

from __future__ import annotations

import re
from html import unescape

from qa import Answer, Citation
from qa.app import SourceFile, SourceRow
from qa.app.render import answer_html, citation_label, notice_html, passage_html, question_html, sources_table_html

TEXT = "Intro line.\nThe <b>fleet</b> had 12 ships & 3 boats.\nLast line."
QUOTE = "The <b>fleet</b> had 12 ships & 3 boats."
START = TEXT.index(QUOTE)
END = START + len(QUOTE)
SPAN = TEXT.index("12")


def citation(n: int = 1, supports: bool = True, page: int | None = None, span: bool = True) -> Citation:
    return Citation(n, "fleet<1>.txt", "/docs/fleet<1>.txt", START, END, QUOTE, 0.9, page, 2, 0, len(TEXT),
                    SPAN if span else None, SPAN + 2 if span else None, supports, TEXT)


def visible(html: str) -> str:
    return unescape(re.sub(r"<br>", "\n", re.sub(r"<(?!br>)[^>]+>", "", html)))


def test_answer_shows_each_quote_escaped_with_its_number_and_the_answer_in_bold() -> None:
    answer = Answer("How many ships?", True, f"“{QUOTE}” [1]", (citation(),))
    html = answer_html(answer, 2000)
    assert 'class="qa-answer"' in html and "qa-abstain" not in html
    assert "<b>fleet</b>" not in html and "&lt;b&gt;fleet&lt;/b&gt;" in html
    assert '<strong class="qa-span">12</strong>' in html
    assert 'class="qa-cite" aria-label="Show passage 1" title="Show passage 1">[1]</button>' in html
    assert f"“{QUOTE}” [1]" in visible(html)
    assert "[1] fleet<1>.txt, line 2" in visible(html)
    assert "qa-notice" not in html


def test_abstention_looks_different_and_lists_closest_passages_as_not_an_answer() -> None:
    answer = Answer("Who?", False, "The sources do not answer this question.", (citation(supports=False, span=False),))
    html = answer_html(answer, 2000)
    assert 'class="qa-abstain"' in html and "qa-answer" not in html and "qa-cite" not in html
    assert "Not found in the sources" in visible(html)
    assert "Closest passages, not an answer: [1] fleet<1>.txt, line 2" in visible(html)


def test_a_cut_question_gets_a_notice() -> None:
    answer = Answer("x", False, "The sources do not answer this question.", (), truncated=True)
    assert "only its first 2,000 characters were used" in visible(answer_html(answer, 2000))


def test_passage_marks_exactly_the_quote_and_bolds_the_answer() -> None:
    html = passage_html(citation())
    marked = re.search(r"<mark>(.*)</mark>", html, re.S)
    assert marked and visible(marked.group(1)) == QUOTE
    assert "<strong class=\"qa-span\">12</strong>" in marked.group(1)
    body = re.search(r'<p class="qa-passage">(.*)</p>', html, re.S)
    assert body and visible(body.group(1)) == TEXT
    assert "fleet&lt;1&gt;.txt" in html and "line 2 · characters 12–52" in visible(html)
    assert "qa-closest" not in html


def test_closest_passage_card_says_it_is_not_an_answer() -> None:
    html = passage_html(citation(supports=False, span=False))
    assert "qa-closest" in html and "closest passage, not an answer" in html and "<strong" not in html.split("<mark>")[1]


def test_pdf_citations_give_the_page() -> None:
    assert citation_label(citation(n=2, page=3)) == "[2] fleet<1>.txt, page 3, line 2"


def test_user_text_and_notices_are_escaped() -> None:
    assert question_html("<script>alert(1)</script>") == '<div class="qa-question">&lt;script&gt;alert(1)&lt;/script&gt;</div>'
    shortened = question_html("word " * 500, limit=20)
    assert shortened.endswith("… (2,500 characters)</div>") and len(shortened) < 90
    assert notice_html("a < b", "error") == '<div class="qa-error"><p>a &lt; b</p></div>'
    assert notice_html("Type a question.") == '<div class="qa-info"><p>Type a question.</p></div>'


def test_sources_table_lists_each_source_escaped() -> None:
    rows = [SourceRow(SourceFile("<x>.md", "/d/<x>.md", "upload", 3 * 2**20, "<x>.md"), 7),
            SourceRow(SourceFile("s.txt", "/s.txt", "seed", 10, "s.txt"), 0)]
    html = sources_table_html(rows)
    assert "&lt;x&gt;.md</td><td>upload</td><td>3.0 MiB</td><td>7</td>" in html
    assert "s.txt</td><td>seed</td><td>1 KiB</td><td>not indexed</td>" in html
    assert "No sources yet" in sources_table_html([])


def test_copy_button_carries_the_answer_as_qa_ask_prints_it() -> None:
    answer = Answer("How many ships?", True, f"“{QUOTE}” [1]", (citation(),))
    expected = f"“{QUOTE}” [1]\n\nSources:\n[1] fleet<1>.txt, line 2, chars 12-52"
    assert answer.to_text() == expected
    html = answer_html(answer, 2000)
    button = re.search(r'<button type="button" class="qa-copy" value="([^"]*)"[^>]*>Copy</button>', html)
    assert button and unescape(button.group(1)) == expected
    assert "\n" not in html  # a blank line would end the chat's HTML block in Markdown
    abstain = Answer("Who?", False, "The sources do not answer this question.", (citation(supports=False, span=False),))
    button = re.search(r'class="qa-copy" value="([^"]*)"', answer_html(abstain, 2000))
    assert button and unescape(button.group(1)).startswith("The sources do not answer this question.\n\nClosest passages")


def test_citations_are_buttons_and_the_parts_have_names() -> None:
    html = answer_html(Answer("How many ships?", True, f"“{QUOTE}” [1]", (citation(),)), 2000)
    assert '<button type="button" class="qa-cite" aria-label="Show passage 1" title="Show passage 1">[1]</button>' in html
    assert html.startswith('<div class="qa-answer" role="group" aria-label="Answer">')
    abstain = answer_html(Answer("Who?", False, "The sources do not answer this question.", (citation(supports=False),)), 2000)
    assert abstain.startswith('<div class="qa-abstain" role="note" aria-label="Not found in the sources">')
    assert passage_html(citation()).startswith('<div class="qa-card" role="group" aria-label="Passage 1: fleet&lt;1&gt;.txt, line 2">')


MD = (
    "# DNS\n\nIntro.\n\nThe `node:dns` module enables name resolution per [RFC 5952][] and\n"
    "[the *Domain Name System*](https://example.org/dns \"Read more\"), with **`4`** tries\\* &amp; more.\n\n"
    "Next [see it] here.\n\n[RFC 5952]: https://example.org/rfc5952\n"
)
MD_QUOTE = MD[MD.index("The `node"): MD.index("more.") + 5]


def md_citation(answer: str = "`4`") -> Citation:
    start = MD.index(MD_QUOTE)
    span = MD.index(answer, start)
    passage_start = MD.index("Intro.")
    return Citation(1, "dns.md", "/docs/dns.md", start, start + len(MD_QUOTE), MD_QUOTE, 0.9, None, 5, passage_start,
                    len(MD), span, span + len(answer), True, MD[passage_start:], "DNS")


MD_SHOWN = "The node:dns module enables name resolution per RFC 5952 and the Domain Name System, with 4 tries* & more."


def test_markdown_quotes_read_as_the_document_does() -> None:
    answer = Answer("How many tries?", True, f"“{MD_QUOTE}” [1]", (md_citation(),))
    html = answer_html(answer, 2000)
    quote = re.search(r'<p class="qa-quote">“(.*)” <button', html)
    assert quote and visible(quote.group(1)) == MD_SHOWN
    assert '<strong class="qa-span">4</strong>' in html
    card = passage_html(md_citation())
    marked = re.search(r"<mark>(.*)</mark>", card, re.S)
    assert marked and visible(marked.group(1)) == MD_SHOWN
    body = re.search(r'<p class="qa-passage">(.*)</p>', card, re.S)
    assert body and visible(body.group(1)) == f"Intro.\n\n{MD_SHOWN}\n\nNext [see it] here.\n\n[RFC 5952]: https://example.org/rfc5952\n"


def test_markdown_markup_across_the_answer_span_does_not_break_the_html() -> None:
    for answer in ("node", "dns` module", "Domain Name System*](https"):  # cuts inside a code span and a link
        html = answer_html(Answer("?", True, "", (md_citation(answer),)), 2000) + passage_html(md_citation(answer))
        assert "`" not in visible(html) and "](" not in visible(html)
        assert html.count("<strong") == html.count("</strong>") == 3 and html.count("<mark>") == 1  # with qa-source
    strong = re.search(r'<strong class="qa-span">(.*?)</strong>', passage_html(md_citation("dns` module")))
    assert strong and strong.group(1) == "dns module"


def test_pdf_passages_join_wrapped_lines_but_keep_paragraphs_and_items() -> None:
    text = "A line that wraps in the\nmiddle of a sen\u00ad\ntence here.\n\n• first item\n• second item"
    quote = "middle of a sen\u00ad\ntence here."
    start = text.index(quote)
    pdf = Citation(1, "r.pdf", "/d/r.pdf", start, start + len(quote), quote, 0.9, 3, 2, 0, len(text), passage=text)
    body = re.search(r'<p class="qa-passage">(.*)</p>', passage_html(pdf), re.S)
    assert body and visible(body.group(1)) == "A line that wraps in the middle of a sentence here.\n\n• first item\n• second item"


def test_a_quote_from_a_file_changed_since_indexing_says_so_in_the_answer_and_its_passage() -> None:
    from dataclasses import replace

    changed = replace(citation(), source_changed=True)
    answer = Answer("q", True, f"“{QUOTE}” [1]", (changed,))
    for html in (answer_html(answer, 2000), passage_html(changed)):
        assert "fleet&lt;1&gt;.txt changed since it was indexed" in html and "index it again" in visible(html)
    assert "changed since" not in answer_html(Answer("q", True, f"“{QUOTE}” [1]", (citation(),)), 2000)
