from dataclasses import replace

import pytest

import rag
from rag.answers import AnswerBuilder
from rag.confidence import FEATURES
from rag.conversation import Said
from rag.reader import Reader


def reader_with_threshold(threshold: float) -> Reader:
    """The shipped reader with its abstention threshold moved."""
    return Reader(confidence=replace(Reader().confidence, threshold=threshold))


def ask_with(qa: rag.QA, reader: Reader, question: str) -> rag.Answer:
    return AnswerBuilder(qa.store, reader).run(*qa.retrieval(question, 5))


def test_below_the_threshold_the_builder_abstains_and_keeps_the_passages(qa):
    answer = ask_with(qa, reader_with_threshold(1.0), "Who is the Kremlin spokesperson?")
    assert answer.abstained and answer.text == "" and answer.citations == [] and answer.span is None
    assert 0 < answer.confidence < 1 and len(answer.passages) == 5
    assert all(p.answer is not None and 0 <= p.probability <= 1 for p in answer.passages)


def test_with_no_threshold_even_a_weak_answer_is_quoted_verbatim(qa):
    answer = ask_with(qa, reader_with_threshold(0.0), "What is the recipe for a chocolate cake?")
    assert not answer.abstained and answer.confidence < qa.answer_builder.reader.confidence.threshold
    citation = answer.citations[0]
    assert qa.store.document(citation.source).text[citation.start : citation.end] == answer.text


def test_passages_carry_the_readers_answer_and_come_most_probable_first(qa):
    answer = qa.ask("Who is the Kremlin spokesperson?")
    probabilities = [p.probability for p in answer.passages]
    assert probabilities == sorted(probabilities, reverse=True) and all(p.answer for p in answer.passages)
    assert {p.chunk_id for p in answer.passages} == {
        p.chunk_id for p in qa.retrieve("Who is the Kremlin spokesperson?")
    }
    assert "Peskov" in answer.passages[0].answer


def test_passages_carry_the_same_kind_of_probability_as_the_answer(qa):
    answer = qa.ask("Who is the Kremlin spokesperson?")
    judged = qa.answer_builder.judge(*qa.retrieval("Who is the Kremlin spokesperson?", 5))
    assert answer.confidence == judged[0].probability == answer.passages[0].probability
    assert [j.probability for j in judged] == [p.probability for p in answer.passages if p.probability is not None]
    assert all(set(j.features) == set(FEATURES) for j in judged)


def test_asked_not_to_abstain_the_builder_quotes_its_best_guess_with_its_confidence(qa):
    question = "What is the recipe for a chocolate cake?"
    refused, guessed = qa.ask(question), qa.ask(question, abstain=False)
    assert refused.abstained and not guessed.abstained and guessed.citations
    assert guessed.confidence == pytest.approx(refused.confidence)
    assert guessed.confidence < qa.answer_builder.reader.confidence.threshold


def test_a_statement_said_goes_on_over_the_sentences_that_point_back_to_it(qa):
    """A reply is another statement: after the quote it answers, "He noted, …" is the same speaker still."""
    source = "000_9cebef51757e5eed.txt"
    text = qa.store.document(source).text
    start = text.index("During his address at the World Economic Forum")
    end = text.index("revenue stream for the Kremlin.", start) + len("revenue stream for the Kremlin.")
    noted_end = text.index(
        "\n", text.index("He noted,", end)
    )  # the next sentence ("In recent years, …") does not point back
    chunks = qa.store.chunks_from(source, start, 2)
    passages = [rag.Passage.of(c, 1.0) for c in chunks]

    def excluded(said: Said) -> list[list[tuple[int, int]]]:
        """Each passage's own ranges, as document offsets."""
        return [
            [(p.start + s, p.start + e) for s, e in qa.answer_builder._excluded(p, c, [said])]
            for p, c in zip(passages, chunks, strict=True)
        ]

    assert len(passages) == 2 and passages[1].start > end  # the second passage opens after the quote, with "He noted"
    assert excluded(Said(source, start, end, goes_on=True)) == [[(start, noted_end)]] * 2
    assert (
        excluded(Said(source, start + 10, end - 10, goes_on=True)) == [[(start, noted_end)]] * 2
    )  # a quote cut short: its sentence
    assert excluded(Said(source, start, end)) == [[(start, end)], []]  # a span said is only itself
    query = qa.retrieval("What did Putin reply?", 5)[0]
    for judged in qa.answer_builder.judge(query, passages, [Said(source, start, end, goes_on=True)]):
        assert judged.span.end <= start or judged.span.start >= noted_end, judged.span


def test_a_long_sentence_is_cut_to_sixty_words_around_the_span(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    words = " ".join(f"word{i}" for i in range(70))
    sentence = f"In a long statement, {words}, the mayor said the bridge will reopen on 3 June, {words}."
    (corpus / "a.txt").write_text(f"City news.\n{sentence}\n")
    qa = rag.build(corpus, index_dir=tmp_path / "index", model=embedder.model_name)
    answer = ask_with(qa, reader_with_threshold(0.0), "When will the bridge reopen?")
    assert answer.span.text in answer.text and len(answer.text.split()) <= 60
    assert answer.citations[0].start <= answer.span.start < answer.span.end <= answer.citations[0].end


@pytest.mark.parametrize(
    "question, sources",
    [
        (
            "Who is the Kremlin spokesperson?",
            ["000_9cebef51757e5eed.txt", "002_aa8d7564ce6ae218.txt"],
        ),  # both name Peskov
        (
            "Where was Putin's annual press conference?",
            None,
        ),  # no article says where: a tentative quote, not pinned here
    ],
)
def test_citations_are_unique_per_article_and_verbatim(qa, question, sources):
    answer = qa.ask(question)
    cited = [c.source for c in answer.citations]
    assert len(cited) == len(set(cited)) and cited == (sources or cited)  # one each
    for citation in answer.citations:
        assert qa.store.document(citation.source).text[citation.start : citation.end] == citation.quote


DISAGREEING = {
    "ledger.md": (
        "The Daily Ledger",
        "2024-12-10",
        "The Harbour Bridge will reopen on Monday after repairs, the city engineer said.",
    ),
    "wire.md": (
        "Metro Wire",
        "2025-01-20",
        "The Harbour Bridge will reopen on Friday after repairs ran late, the city engineer said.",
    ),
    "courier.md": (
        "Northern Courier",
        "2025-02-02",
        "Repairs to the Harbour Bridge will finish on Friday, the council said.",
    ),
}


def test_articles_that_disagree_are_each_cited_with_their_own_answer_outlet_and_date(tmp_path, embedder):
    for name, (outlet, day, text) in DISAGREEING.items():
        (tmp_path / name).write_text(
            f"---\noutlet: {outlet}\npublished: {day}\n---\nBridge works\n{text}\n"
            "Other city news follows in this sentence about parks.\n"
        )
    answer = rag.build(tmp_path, index_dir=tmp_path / "index", embedder=embedder).ask(
        "When will the Harbour Bridge reopen?"
    )
    spans = {c.source: (c.span.text, c.agrees) for c in answer.citations}
    assert {"ledger.md", "wire.md"} <= set(spans)  # Monday against Friday, whichever is the answer
    assert {text for text, agrees in spans.values() if agrees} == {answer.span.text} and len(
        {t for t, _ in spans.values()}
    ) == 2
    differing = [c for c in answer.citations if not c.agrees]
    assert differing and all(c.meta.outlet and c.meta.published for c in answer.citations)
    corroborating = [c for c in answer.citations[1:] if c.agrees]
    assert [c.meta.published for c in corroborating] == sorted(
        (c.meta.published for c in corroborating), reverse=True
    )  # newest first


def test_an_answer_is_answered_tentative_or_abstained_by_the_two_calibrated_thresholds(qa):
    question = "Who is the Kremlin spokesperson?"
    p = qa.ask(question).confidence

    def asked(threshold: float, answered: float) -> rag.Answer:
        return ask_with(
            qa, Reader(confidence=replace(Reader().confidence, threshold=threshold, answered=answered)), question
        )

    sure, unsure, refused = asked(p / 2, p), asked(p / 2, (1 + p) / 2), asked((1 + p) / 2, 1.0)
    assert (sure.state, unsure.state, refused.state) == ("answered", "tentative", "abstained")
    assert sure.text == unsure.text and "Peskov" in sure.text and refused.text == "" and refused.citations == []
    assert [a.abstained for a in (sure, unsure, refused)] == [False, False, True]
    assert [a.to_dict()["state"] for a in (sure, unsure, refused)] == ["answered", "tentative", "abstained"]
    assert [a.to_dict()["abstained"] for a in (sure, unsure, refused)] == [False, False, True]


def test_an_answer_refuses_a_state_it_does_not_know():
    with pytest.raises(ValueError, match="answered, tentative, abstained"):
        rag.Answer("q", "", "maybe", 0.5)


def test_a_guess_quoted_below_the_threshold_is_tentative_never_answered(qa):
    guessed = qa.ask("What is the recipe for a chocolate cake?", abstain=False)
    assert guessed.state == "tentative" and guessed.citations
