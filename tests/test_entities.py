import pytest

from rag.entities import NUMBER, PEOPLE, PERSON, PLACE, TIME, EntityTagger, expected_types


@pytest.mark.parametrize("question, kind", [
    ("Who is the Kremlin spokesperson?", PEOPLE),
    ("When did the invasion begin?", TIME),
    ("In what year did Russia launch its invasion?", TIME),
    ("Where did Trump address the forum?", PLACE),
    ("In which Turkish city was the accord drafted?", PLACE),
    ("How many people fled their homes?", NUMBER),
    ("Which U.S. leader did Putin offer to meet?", PERSON),
    ("What did Dmitry Peskov say when asked about the ultimatums?", ()),  # "when" inside the question is no time question
    ("Why did Trump urge OPEC to lower oil prices?", ()),
])
def test_questions_are_typed_by_what_they_ask_for(question, kind):
    assert expected_types(question) == kind


def test_tagger_finds_people_dates_and_places():
    text = "Kremlin spokesperson Dmitry Peskov spoke in Davos on Thursday, 23 January 2025."
    [entities] = EntityTagger().run([text])
    found = {(text[e.start : e.end], e.label) for e in entities}
    assert ("Dmitry Peskov", "PERSON") in found and ("Davos", "GPE") in found
    assert any(label == "DATE" for _, label in found)
