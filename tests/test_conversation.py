"""Follow-ups are read with what the conversation already holds; a question that stands alone is left alone."""

import json
from dataclasses import replace

import pytest

from rag.conversation import FollowUpResolver, Said, Turn
from rag.errors import InvalidQuestionError

OPEC = Turn(
    "What did Trump ask OPEC to do?", "lower global oil prices", "000.txt", 1200, "What did Trump ask OPEC to do?"
)
MANIPULATE = Turn(
    "Who said Putin is trying to manipulate Trump?",
    "President Zelenskyy",
    "000.txt",
    900,
    "Who said Putin is trying to manipulate Trump?",
)


@pytest.fixture(scope="module")
def resolver():
    return FollowUpResolver()


def test_a_bare_why_carries_the_earlier_question_and_answer_over(resolver):
    context = resolver.run("Why?", [OPEC])
    assert context.how == "short" and context.turn == 0 and (context.source, context.offset) == ("000.txt", 1200)
    assert context.about == OPEC.question  # not "Trump": a bare "Why?" asks about the whole earlier question
    assert (
        context.question == "Why (Trump ask OPEC lower global oil prices)?"
    )  # the question's and answer's content words


def test_a_follow_up_of_a_bare_why_is_about_what_that_was_about(resolver):
    why = resolver.run("Why?", [OPEC])
    turns = [
        OPEC,
        Turn(why.question, "to cut the Kremlin's revenue", "000.txt", 1200, "Why?", why.carried, about=why.about),
    ]
    assert resolver.run("What did Putin reply?", turns).about == OPEC.question  # not "Why (Trump ask OPEC…)?"
    said = resolver.run("When did he say it?", [MANIPULATE])
    turns = [
        MANIPULATE,
        Turn(said.question, "on Friday", "000.txt", 900, "When did he say it?", said.carried, about=said.about),
    ]
    assert resolver.run("Why?", turns).about == "When did Zelenskyy say it?"  # its own words, without the carried ones


def test_a_personal_pronoun_becomes_the_earlier_answers_name(resolver):
    context = resolver.run("When did he say it?", [MANIPULATE])
    assert context.question.startswith("When did Zelenskyy say it (") and context.about == "Zelenskyy"
    assert context.resolved == "When did Zelenskyy say it?" and context.carried in context.question


def test_he_is_the_earlier_answer_only_when_it_asked_for_someone(resolver):
    interview = Turn(
        "Where did Putin give the interview?",
        "on Russian state television",
        "002.txt",
        40,
        "Where did Putin give the interview?",
    )
    assert resolver.run("What kind of meeting did he suggest?", [interview]).question.startswith(
        "What kind of meeting did Putin suggest ("
    )


@pytest.mark.parametrize("answer", ["The Russian leader", "a BBC reporter"])
def test_he_after_an_answer_that_only_describes_someone_stays_he_and_carries_the_description(resolver, answer):
    asked = "Which journalist asked Putin about meeting Trump?"
    context = resolver.run("Which network does he work for?", [Turn(asked, answer, "003.txt", 400, asked)])
    assert context.question.startswith("Which network does he work for (") and answer.split()[-2] in context.carried
    assert context.about == asked  # not "Russian", nor Putin from the question


def test_he_after_a_name_with_more_words_is_that_name(resolver):
    asked = "Which journalist asked Putin about meeting Trump?"
    context = resolver.run(
        "Which network does he work for?", [Turn(asked, "Steve Rosenberg of the BBC", "003.txt", 400, asked)]
    )
    assert context.about == "Steve Rosenberg" and context.question.startswith(
        "Which network does Steve Rosenberg work for ("
    )


def test_he_is_no_name_in_capitals_and_it_carries_the_earlier_question(resolver):
    election = Turn(
        "When was the US election that Trump won?",
        "November 5",
        "004.txt",
        10,
        "When was the US election that Trump won?",
    )
    assert resolver.run("What had he promised before it?", [election]).question.startswith(
        "What had Trump promised before it ("
    )
    assert (
        resolver.run("What was it about?", [election]).about == election.question
    )  # "it" stays: the question is carried


def test_he_is_no_place_an_earlier_question_names(resolver):
    election = Turn(
        "When was the US election that Trump won?",
        "November 5",
        "004.txt",
        10,
        "When was the US election that Trump won?",
    )
    promised = resolver.run("What had he promised before it?", [election])
    worries = Turn(
        "What worries does that raise in Kyiv (promised)?",
        "a deal that favors Russia",
        "004.txt",
        30,
        "What worries does that raise in Kyiv?",
        "promised",
    )
    turns = [
        election,
        Turn(promised.question, "to end the war", "004.txt", 20, "What had he promised before it?", promised.carried),
        worries,
    ]
    assert resolver.run("What did he say next?", turns).about == "Trump"  # not Kyiv: "in Kyiv" is a place
    for asked in (
        "What was promised in Zelensky's speech?",
        "What did reporters shout at Zelensky?",
        "What did the envoy say to Zelensky?",
    ):
        assert (
            resolver.run("What did he mean?", [OPEC, Turn(asked, "nothing new", "000.txt", 20, asked)]).about
            == "Zelensky"
        )


@pytest.mark.parametrize(
    "asked, subject",
    [
        ("Why won't Moscow accept Zelensky signing a peace deal?", "Zelensky"),  # a city before the person
        ("Is that a change of strategy for Russia, or is Putin bluffing?", "Putin"),  # a country
        ("Did Washington hear from Peskov?", "Peskov"),
        ("What did Whitney Houston sing?", "Whitney Houston"),  # a whole name is someone, even holding a city's
    ],
)
def test_he_is_never_a_city_or_country_whatever_words_come_before_it(resolver, asked, subject):
    context = resolver.run("Why is he still in office?", [Turn(asked, "martial law", "001.txt", 40, asked)])
    assert context.about == subject and context.resolved == f"Why is {subject} still in office?"


def test_a_question_ending_on_it_points_back_however_long_and_whoever_it_names(resolver):
    first = Turn(
        "Where was the preliminary agreement negotiated?",
        "Istanbul",
        "001.txt",
        50,
        "Where was the preliminary agreement negotiated?",
    )
    context = resolver.run("Why do some politicians in Kyiv dislike it?", [first])
    assert context.how == "pronoun" and context.carried == "preliminary agreement negotiated Istanbul"
    assert context.question == "Why do some politicians in Kyiv dislike it (preliminary agreement negotiated Istanbul)?"


def test_a_question_where_it_acts_points_back_however_long(resolver):
    houston = Turn(
        "What was Houston the first city to do after the recession?",
        "diversify its economy",
        "houston.txt",
        0,
        "What was Houston the first city to do after the recession?",
    )
    context = resolver.run("On what Forbes list did it appear in 2013?", [houston])
    assert context.how == "pronoun" and context.carried == "Houston first city recession diversify economy"


def test_a_question_ending_on_this_or_that_and_a_word_points_back_too(resolver):
    deaths = Turn(
        "How many people have been killed in the war?",
        "tens of thousands",
        "001.txt",
        30,
        "How many people have been killed in the war?",
    )
    context = resolver.run("Since when have relations with the West been this bad?", [deaths])
    assert context.how == "pronoun" and context.carried == "many people killed war tens thousands"


@pytest.mark.parametrize(
    "question, read",
    [
        ("What was his reason?", "What was Zelenskyy's reason ("),
        ("Did her aide reply?", "Did Zelenskyy's aide reply ("),
        ("Who asked her?", "Who asked Zelenskyy ("),
    ],
)
def test_his_and_her_become_the_name_as_possessive_or_object(resolver, question, read):
    assert resolver.run(question, [MANIPULATE]).question.startswith(read)


def test_and_a_new_name_asks_the_earlier_question_of_it(resolver):
    peskov = Turn(
        "What did Peskov say about the talks?", "nothing new", "000.txt", 10, "What did Peskov say about the talks?"
    )
    context = resolver.run("And Zelensky?", [peskov])
    assert context.how == "ellipsis" and context.question == "What did Zelensky say about the talks?"


def test_and_a_name_the_earlier_question_gives_swaps_the_two(resolver):
    meeting = Turn(
        "How soon does Trump say he will meet Putin?",
        "within hours",
        "004.txt",
        10,
        "How soon does Trump say he will meet Putin?",
    )
    context = resolver.run("And Putin?", [meeting])
    assert context.how == "ellipsis" and context.question == "How soon does Putin say he will meet Trump?"
    summit = Turn(
        "When will Donald Trump meet Putin on Trumpism?",
        "soon",
        "004.txt",
        10,
        "When will Donald Trump meet Putin on Trumpism?",
    )
    assert (
        resolver.run("And Trump?", [summit]).question == "When will Putin meet Trump on Trumpism?"
    )  # whole names, whole words


def test_and_a_name_after_a_question_naming_no_one_carries_that_question_over(resolver):
    deaths = Turn(
        "How many people have been killed in the war?",
        "tens of thousands",
        "001.txt",
        30,
        "How many people have been killed in the war?",
    )
    context = resolver.run("What about the Kremlin?", [deaths])
    assert (
        context.how == "ellipsis"
        and context.question.startswith("What about the Kremlin (")
        and "killed war" in context.carried
    )


def test_and_a_name_then_a_question_of_its_own_asks_that_question_of_the_name(resolver):
    meet = Turn(
        "Does Putin actually want to sit down with Trump in person?",
        "ready to meet with Trump whenever necessary",
        "003.txt",
        10,
        "Does Putin actually want to sit down with Trump in person?",
    )
    context = resolver.run("What about Zelensky, is he up for talks?", [meet])
    assert context.how == "ellipsis" and context.resolved == "Is Zelensky up for talks?" and context.about == "Zelensky"
    assert resolver.run("And Zelensky, what did he say?", [meet]).resolved == "What did Zelensky say?"
    assert (
        resolver.run("What about Zelensky, is it true he resigned?", [meet]).resolved == "Is it true Zelensky resigned?"
    )
    for other in ("But seriously, is he going to meet Trump?", "What about the talks with Putin, did they end?"):
        assert resolver.run(other, [meet]).how != "ellipsis"  # what comes before the comma is no name: not asked of one
    assert (
        resolver.run("And Zelensky, really?", [meet]).question
        == "Does Zelensky actually want to sit down with Trump in person?"
    )


def test_he_is_not_a_name_an_earlier_question_gives_after_its_own_he(resolver):
    spokesperson = Turn(
        "Who is the Kremlin spokesperson?", "Dmitry Peskov", "000.txt", 10, "Who is the Kremlin spokesperson?"
    )
    ultimatums = resolver.run("What did he say about Trump's ultimatums?", [spokesperson])
    said = Turn(
        ultimatums.question,
        "nothing new",
        "000.txt",
        20,
        "What did he say about Trump's ultimatums?",
        ultimatums.carried,
    )
    assert resolver.run("How old is he?", [spokesperson, said]).about == "Dmitry Peskov"  # not Trump
    interview = Turn(
        "Where did Putin give the interview in which he said he was ready?",
        "on Russian state television",
        "002.txt",
        40,
        "Where did Putin give the interview in which he said he was ready?",
    )
    assert (
        resolver.run("What kind of meeting did he suggest?", [interview]).about == "Putin"
    )  # his 'he' follows his name
    paris = Turn("What did Zelenskyy say in Paris?", "nothing new", "000.txt", 10, "What did Zelenskyy say in Paris?")
    delegation = Turn(
        "Who did he say would lead the delegation?",
        "Rustem Umerov",
        "000.txt",
        20,
        "Who did he say would lead the delegation?",
    )
    assert (
        resolver.run("When was he appointed?", [paris, delegation]).about == "Rustem Umerov"
    )  # whom it asked for, all the same


def test_he_after_who_is_a_name_is_that_name_not_what_the_answer_names(resolver):
    peskov = Turn("Who is Dmitry Peskov?", "Russian President Vladimir Putin", "002.txt", 114, "Who is Dmitry Peskov?")
    assert resolver.run("Did he sound worried?", [peskov]).about == "Dmitry Peskov"
    spokesperson = Turn(
        "Who is the Kremlin spokesperson?", "Dmitry Peskov", "000.txt", 10, "Who is the Kremlin spokesperson?"
    )
    assert resolver.run("How old is he?", [spokesperson]).about == "Dmitry Peskov"  # there the answer names him


def test_and_a_clause_with_a_question_of_its_own_is_not_the_earlier_question_asked_again(resolver):
    context = resolver.run("And if Trump loses, what will he do?", [OPEC])
    assert context.how != "ellipsis" and context.resolved == "And if Trump loses, what will he do?"


def test_a_short_follow_up_that_names_someone_new_but_points_back_is_still_a_follow_up(resolver):
    context = resolver.run("What did Putin reply?", [OPEC])
    assert context.question == "What did Putin reply (Trump ask OPEC lower global oil prices)?"


@pytest.mark.parametrize(
    "question",
    [
        "When did Russia launch its full-scale invasion of Ukraine?",  # names its own subject; 'its' points inside it
        "Who is the Kremlin spokesperson?",  # says enough on its own
        "What did Putin acknowledge about the battlefield at his annual press conference?",
        "What did Zelenskyy say that Putin wants from the talks?",  # 'that' joins a clause: it points nowhere
        "Who did Zelenskyy meet in Paris this week?",  # 'this week' is now, not an earlier turn
        "How much aid did Ukraine say it needs from its allies now?",  # 'it' with a word after it points inside
        "How much military aid did Ukraine say it needs?",
        "How long will it take Ukraine to rebuild its power plants?",  # 'it' acting, but only as a placeholder
        "How long has it been since Russia launched its full-scale invasion of Ukraine?",
        "What does it mean for NATO that Trump met Putin in Alaska?",
        "Has it ever happened before that OPEC cut output twice in one year?",
    ],
)
def test_a_question_that_stands_alone_is_not_dragged_back(resolver, question):
    assert resolver.run(question, [OPEC, MANIPULATE]) is None


@pytest.mark.parametrize(
    "question, how",
    [
        ("And how many have been displaced?", "short"),  # "have been" are no content words: two are left
        (
            "What share of the federal budget does it make up?",
            "pronoun",
        ),  # nor "does" or "up": "it" points back in a short question
    ],
)
def test_function_words_do_not_make_a_follow_up_stand_alone(resolver, question, how):
    context = resolver.run(question, [OPEC])
    assert (context.how, context.question) == (how, f"{question[:-1]} (Trump ask OPEC lower global oil prices)?")


def test_a_follow_up_carries_content_words_it_does_not_say_itself(resolver):
    reply = Turn(
        "What did Putin say about Trump's ultimatums?",
        "We do not perceive anything new",
        "003.txt",
        70,
        "What did Putin say about Trump's ultimatums?",
    )
    context = resolver.run("Why did Putin say it?", [reply])
    assert context.carried.split() == [
        "Trump's",
        "ultimatums",
        "perceive",
        "anything",
        "new",
    ]  # no "about", "we", "not", nor "Putin"


def test_a_name_in_the_possessive_is_the_name(resolver):
    ultimatums = Turn(
        "What were Trump's ultimatums?", "tariffs and sanctions", "003.txt", 70, "What were Trump's ultimatums?"
    )
    assert resolver.run("How old is he?", [ultimatums]).question.startswith("How old is Trump (")
    assert resolver.run("What was his reason?", [ultimatums]).question.startswith("What was Trump's reason (")


def test_without_history_nothing_is_resolved(resolver):
    assert resolver.run("Why?", []) is None


def test_a_chain_of_follow_ups_keeps_its_subject(resolver):
    first = Turn(
        "Where was the preliminary agreement negotiated?",
        "Istanbul",
        "001.txt",
        50,
        "Where was the preliminary agreement negotiated?",
    )
    second = resolver.run("Why do some politicians dislike it?", [first])
    answered = Turn(
        second.question, "a form of surrender", "001.txt", 80, "Why do some politicians dislike it?", second.carried
    )
    third = resolver.run("Was it ever implemented?", [first, answered])
    assert "agreement" in third.question and third.turn == 1


def test_he_after_a_bare_why_is_the_chains_subject_never_a_name_from_the_words_it_carried(resolver):
    interview = Turn(
        "Where did Putin give the interview?",
        "on Russian state television",
        "002.txt",
        40,
        "Where did Putin give the interview?",
    )
    turns = [interview]
    for asked, answer in (
        ("What kind of meeting did he suggest?", "a face-to-face meeting with Trump"),
        ("Why?", "to talk calmly"),
    ):
        context = resolver.run(asked, turns)
        turns.append(Turn(context.question, answer, "002.txt", 60, asked, context.carried))
    assert "Trump" in turns[-1].question and turns[-1].resolved == "Why?"
    context = resolver.run("What did he say in his December interview?", turns)
    assert context.question.startswith("What did Putin say in his December interview (") and context.about == "Putin"


def test_a_reply_is_another_statement_than_the_quote_it_answers(resolver):
    warned = Turn(
        "What did Trump warn Russia about?",
        "higher tariffs",
        "002.txt",
        300,
        "What did Trump warn Russia about?",
        said=Said("002.txt", 340, 354),
        quoted=Said("002.txt", 300, 420),
    )
    statement = replace(warned.quoted, goes_on=True)  # with what goes on from it: "He added, …"
    for question, said in (
        ("How did Russia respond?", [warned.said, statement]),
        ("What did Putin reply?", [warned.said, statement]),
        ("When did he say it?", [warned.said]),
    ):
        context = resolver.run(question, [warned])
        assert context is not None and resolver.said(question, context, [warned]) == said, question


def test_turns_come_from_answers_or_their_dicts_and_anything_else_is_refused():
    data = {
        "question": "Why?",
        "abstained": False,
        "span": {"text": "lower prices", "start": 5, "end": 17},
        "citations": [{"source": "a.txt", "start": 3, "end": 40, "line": 2, "quote": "…"}],
        "context": {"question": "Why (Trump OPEC)?", "carried": "Trump OPEC"},
    }
    turn = Turn.of(json.loads(json.dumps(data)))
    assert (turn.question, turn.asked, turn.answer, turn.source, turn.offset, turn.carried) == (
        "Why (Trump OPEC)?",
        "Why?",
        "lower prices",
        "a.txt",
        3,
        "Trump OPEC",
    )
    assert turn.said == Said("a.txt", 5, 17)  # the span, which a follow-up's answer is not
    assert turn.quoted == Said("a.txt", 3, 40)  # the quote, which a reply is not taken from
    abstained = Turn.of({**data, "abstained": True, "citations": []})
    assert abstained.answer is None and abstained.source is None
    for bad in ({"text": "no question"}, "a string", {"question": 3}):
        with pytest.raises(InvalidQuestionError, match="history must be"):
            Turn.of(bad)


def test_a_history_is_read_the_same_from_answers_their_dicts_and_turns(qa):
    from rag.conversation import History

    first = qa.ask("Who is the Kremlin spokesperson?")
    from_answers, from_dicts = History.of([first]), History.from_dict([first.to_dict()])
    assert from_answers == from_dicts == History.of([first.to_dict()]) == History.of(from_answers)
    turn = from_answers[0]
    assert (turn.question, turn.answer, turn.source) == (
        "Who is the Kremlin spokesperson?",
        first.span.text,
        first.citations[0].source,
    )
    assert History.of(None) == History.of([]) == ()
    with pytest.raises(InvalidQuestionError, match="history must be the conversation's earlier answers"):
        History.of(["not an answer"])


def test_the_about_line_quotes_the_question_it_leans_on_and_the_hover_reads_plainly(resolver):
    why = resolver.run("Why?", [OPEC])
    assert why.describe(1) == "about: “What did Trump ask OPEC to do?”, from your previous question"
    assert why.read_with(1, "Why?") == "Read with your previous question, “What did Trump ask OPEC to do?”"
    answered = Turn.from_dict(
        {
            "question": "Why?",
            "context": {**why.__dict__},
            "span": {"text": "to cut the Kremlin's revenue", "start": 1200, "end": 1228},
            "citations": [{"source": "000.txt", "start": 1190, "end": 1300}],
        }
    )
    reply = resolver.run("What did Putin reply?", [OPEC, answered])
    assert reply.question == resolver.run("What did Putin reply?", [OPEC, replace(answered, leans_on=-1)]).question
    assert reply.describe(2) == "about: “What did Trump ask OPEC to do?”, from your question 1"  # not "previous"
    assert reply.read_with(2, "What did Putin reply?") == "Read with your question 1, “What did Trump ask OPEC to do?”"
    assert "(" not in reply.read_with(2, "What did Putin reply?")  # no carried keywords


def test_the_about_line_names_whom_he_became_and_the_hover_the_question_with_it(resolver):
    said = resolver.run("When did he say it?", [MANIPULATE])
    assert said.describe(1) == "about: Zelenskyy, from your previous question"
    assert said.read_with(1, "When did he say it?") == (
        "Read as “When did Zelenskyy say it?”, with your previous question, "
        "“Who said Putin is trying to manipulate Trump?”"
    )
