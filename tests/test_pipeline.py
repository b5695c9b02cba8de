import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import rag
from rag.errors import InvalidQuestionError
from tests.conftest import SHIPPED

PESKOV = (
    "Kremlin spokesperson Dmitry Peskov stated on Thursday, “We do not perceive anything new in this context,” when "
    "asked about Trump’s economic ultimatums."
)  # 000_9cebef51757e5eed.txt, line 20


def test_kremlin_spokesperson_is_answered_verbatim_with_citation(qa):
    answer = qa.ask("Who is the Kremlin spokesperson?")
    assert not answer.abstained and 0.5 <= answer.confidence <= 1
    assert answer.text == PESKOV
    # 002 names him too ("Russian President Vladimir Putin’s spokesperson, Dmitry Peskov, confirmed this"), on line 1
    assert [(c.source, c.line) for c in answer.citations] == [
        ("000_9cebef51757e5eed.txt", 20),
        ("002_aa8d7564ce6ae218.txt", 1),
    ]
    citation = answer.citations[0]
    document = qa.store.document(citation.source).text
    assert document[citation.start : citation.end] == citation.quote == answer.text
    assert citation.line == document.count("\n", 0, citation.start) + 1
    assert answer.passages and answer.passages == sorted(answer.passages, key=lambda p: -p.probability)


@pytest.mark.parametrize(
    "question, span",
    [
        ("Who is the Kremlin spokesperson?", "Dmitry Peskov"),
        (
            "In what year did Russia launch its full-scale invasion of Ukraine?",
            "2022",
        ),  # the year alone, not "February 2022"
        ("In which city did Trump address the World Economic Forum?", "Davos"),
    ],
)
def test_short_answer_span_points_inside_the_quote(qa, question, span):
    answer = qa.ask(question)
    assert answer.span.text == span
    citation = answer.citations[0]
    assert citation.start <= answer.span.start < answer.span.end <= citation.end
    assert qa.store.document(citation.source).text[answer.span.start : answer.span.end] == span


def test_questions_asking_for_a_figure_the_articles_never_give_abstain(qa):
    for question in [
        "What is the range of the Oreshnik hypersonic missile?",
        "How many nuclear warheads does Russia possess?",
    ]:
        answer = qa.ask(question)
        assert answer.abstained and answer.span is None, question


def test_every_article_stating_the_answer_is_cited(qa):
    answer = qa.ask("In what year did Russia launch its full-scale invasion of Ukraine?")
    sources = [c.source for c in answer.citations]
    # 000: "the full-scale military invasion of Ukraine that Putin initiated in February 2022"; 001: "Russia's invasion of
    # Ukraine in 2022"; 002: "Russia launched its attack on Ukraine in February 2022". 003 and 004 give no year.
    assert sorted(sources) == SHIPPED[:3]


def test_every_citation_and_passage_is_verbatim(qa):
    for question in [
        "When did Putin launch the invasion?",
        "What did Trump ask OPEC to do?",
        "Where was Putin's annual press conference?",
    ]:
        answer = qa.ask(question, k=5)
        for citation in answer.citations:
            assert qa.store.document(citation.source).text[citation.start : citation.end] == citation.quote
        for passage in answer.passages:
            assert qa.store.document(passage.source).text[passage.start : passage.end] == passage.text
        assert len(answer.text.split()) <= 60


def test_unanswerable_question_abstains_but_returns_passages(qa):
    answer = qa.ask("What is the recipe for a chocolate cake?")
    assert answer.abstained and answer.text == "" and answer.citations == []
    assert answer.confidence < 0.5
    assert len(answer.passages) == 5


def test_answer_serialises_to_json(qa):
    data = json.loads(json.dumps(qa.ask("Who is the Kremlin spokesperson?").to_dict()))
    assert set(data) >= {"text", "abstained", "confidence", "citations", "passages"}
    assert set(data["citations"][0]) == {
        "source",
        "start",
        "end",
        "line",
        "quote",
        "title",
        "outlet",
        "published",
        "author",
        "url",
        "page",
        "span",
        "agrees",
    }
    cited = data["citations"][0]
    assert (
        cited["title"]
        and cited["page"] is None
        and cited["quote"][cited["span"]["start"] - cited["start"] :].startswith(cited["span"]["text"])
    )


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 100_000])
def test_empty_and_huge_questions_get_a_clear_error(qa, question):
    with pytest.raises(InvalidQuestionError, match="empty|limit is 1,000"):
        qa.ask(question)


def test_k_and_retriever_are_checked(qa):
    with pytest.raises(InvalidQuestionError, match="k must be"):
        qa.ask("Who is Peskov?", k=0)
    with pytest.raises(InvalidQuestionError, match="unknown retriever"):
        qa.ask("Who is Peskov?", retriever="magic")
    assert len(qa.ask("Putin Trump talks", k=3).passages) == 3


@pytest.mark.parametrize("retriever", rag.RETRIEVERS)
def test_every_retriever_finds_the_spokesperson(qa, retriever):
    assert qa.ask("Who is the Kremlin spokesperson?", retriever=retriever).text == PESKOV


def test_ask_is_safe_from_many_threads(qa):
    questions = [
        "Who is the Kremlin spokesperson?",
        "What did Trump urge OPEC to do?",
        "What is the recipe for a chocolate cake?",
        "When did the invasion begin?",
    ] * 6
    expected = {q: qa.ask(q).to_dict() for q in set(questions)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(qa.ask, questions))
    assert [r.to_dict() for r in results] == [expected[q] for q in questions]


def test_the_same_sentence_in_several_articles_is_cited_in_each(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shared = "The harbour authority confirmed that the new lighthouse will be lit on the first of March."
    (corpus / "a.txt").write_text(f"Local news from the coast.\n{shared}\nFishermen welcomed the news.")
    (corpus / "b.txt").write_text(f"Coastal briefing.\n{shared}\nTourism is expected to grow.")
    (corpus / "c.txt").write_text("The football club signed a new striker from Brazil on Tuesday.")

    qa = rag.build(corpus, index_dir=tmp_path / "index", model=embedder.model_name)
    answer = qa.ask("When will the new lighthouse be lit?")

    assert answer.text == shared
    assert sorted(c.source for c in answer.citations) == ["a.txt", "b.txt"]
    assert all(c.quote == shared for c in answer.citations)


@pytest.mark.model
def test_build_then_load_round_trip(corpus, tmp_path):
    index_dir = tmp_path / "index"
    built = rag.build(corpus, index_dir=index_dir)
    assert built.report.added == SHIPPED
    loaded = rag.load(index_dir)
    question = "What did Zelenskyy say Putin is trying to do?"
    assert loaded.ask(question).to_dict() == built.ask(question).to_dict()


def test_a_follow_up_asked_with_history_is_understood_and_says_how(qa):
    first = qa.ask("Who said Putin is trying to manipulate Trump?")
    follow = qa.ask("When did he say it?", history=[first])
    assert first.span.text == "President Zelenskyy"  # 000, line 12
    assert follow.question == "When did he say it?"
    assert follow.context.question == "When did Zelenskyy say it (said Putin trying manipulate Trump President)?"
    assert follow.context.turn == 0 and follow.context.source == first.citations[0].source
    assert (
        qa.ask("When did he say it?", history=[first.to_dict()]).to_dict() == follow.to_dict()
    )  # as /ask returns them
    assert qa.ask("When did he say it?").context is None
    assert follow.abstained or not (
        follow.citations[0].source == first.citations[0].source
        and follow.span.start < first.span.end
        and follow.span.end > first.span.start
    )  # says something new
    assert qa.ask("Who is the Kremlin spokesperson?", history=[first]).context is None  # a new subject stands alone
    assert json.loads(json.dumps(follow.to_dict()))["context"]["question"] == follow.context.question


def test_a_follow_ups_quote_is_judged_by_its_own_words_not_the_carried_ones(qa):
    first = qa.ask("Who said Putin is trying to manipulate Trump?")
    context = qa.ask("When did he say it?", history=[first]).context
    query = qa.retrieval(context.question)[0]
    assert (
        set(qa._as_read(query, context).terms)
        == set(qa.analyzer.run(["When did Zelenskyy say it?"])[0])
        < set(query.terms)
    )
    why = qa.ask("Why?", history=[first]).context  # no words of its own: judged by what it carries
    assert qa._as_read(qa.retrieval(why.question)[0], why).terms == qa.retrieval(why.question)[0].terms
