from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunking import SentenceChunker, SentenceSplitter
from rag.tokens import get_encoding


def sentences_of(text: str) -> list[str]:
    return [s.text for s in SentenceSplitter().run(text)]


def test_abbreviations_do_not_end_sentences():
    text = "Mr. Putin met U.S. President Donald Trump at 3 p.m. on Jan. 5. They talked for an hour."
    assert sentences_of(text) == [
        "Mr. Putin met U.S. President Donald Trump at 3 p.m. on Jan. 5.",
        "They talked for an hour.",
    ]


def test_closing_quotes_stay_with_their_sentence():
    text = "Putin said, “We are always open to this and ready for negotiations,” emphasizing peace. He added: “It would be better for us to meet.” Trump agreed."
    assert sentences_of(text) == [
        "Putin said, “We are always open to this and ready for negotiations,” emphasizing peace.",
        "He added: “It would be better for us to meet.”",
        "Trump agreed.",
    ]


def test_a_sentence_the_segmenter_drops_is_kept():
    # pysbd returns no segment for the second sentence of this SQuAD paragraph (CC BY-SA 4.0).
    text = (
        "Sax's patent expired in 1866; thereafter, numerous saxophonists and instrument manufacturers implemented "
        "their own improvements to the design and keywork. The first substantial modification was by a French "
        "manufacturer who extended the bell slightly and added an extra key to extend the range downwards by one "
        "semitone to B\u266d. It is suspected that Sax himself may have attempted this modification."
    )
    sentences = SentenceSplitter().run(text)
    assert "".join(s.text for s in sentences).replace(" ", "") == text.replace(" ", "")
    assert any(s.text.startswith("The first substantial modification") for s in sentences)


def test_lines_are_sentence_boundaries():
    assert sentences_of("Thursday, 19 December 2024\n\nPutin Signals Readiness\nHe spoke.") == [
        "Thursday, 19 December 2024",
        "Putin Signals Readiness",
        "He spoke.",
    ]


def test_chunks_pack_whole_sentences_within_budget_with_overlap():
    text = " ".join(f"Sentence number {i} talks about the peace negotiations in some detail." for i in range(40))
    chunked = SentenceChunker(max_tokens=60, overlap_sentences=1).run(text)
    # Each sentence is 13 tokens: four (52 with the spaces between them) fit in 60, five (65) do not.
    assert [(c.first_sentence, c.last_sentence) for c in chunked.chunks] == [(i, i + 3) for i in range(0, 37, 3)]
    for previous, chunk in zip(chunked.chunks, chunked.chunks[1:], strict=False):
        assert chunk.first_sentence == previous.last_sentence  # one sentence of overlap
    for chunk in chunked.chunks:
        assert chunk.n_tokens == len(get_encoding().encode(chunk.text)) <= 60
        assert chunk.text.startswith("Sentence") and chunk.text.endswith(".")
    assert chunked.chunks[-1].last_sentence == len(chunked.sentences) - 1


def test_a_sentence_over_the_budget_is_cut_at_word_boundaries():
    text = "word " * 300 + "end."
    chunked = SentenceChunker(max_tokens=50).run(text)
    assert all(len(get_encoding().encode(s.text)) <= 50 for s in chunked.sentences)
    assert all(not s.text.startswith(" ") and not s.text.endswith(" ") for s in chunked.sentences)
    assert "".join(s.text + " " for s in chunked.sentences).strip() == text.strip()


odd_text = st.lists(
    st.sampled_from(
        list("abc XYZ.,!?;:\"'“”‘’()\n\t—-0123456789")
        + ["Mr. ", "U.S. ", "é", "日本", "🙂", "\r\n", "  ", "...", "\u00a0", "wordy "]
    ),
    max_size=300,
).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=odd_text, max_tokens=st.integers(min_value=8, max_value=80), overlap=st.integers(min_value=0, max_value=2))
def test_offsets_are_exact_and_budgets_hold_on_odd_input(text, max_tokens, overlap):
    chunked = SentenceChunker(max_tokens=max_tokens, overlap_sentences=overlap).run(text)
    encode = get_encoding().encode
    for sentence in chunked.sentences:
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.text.strip() == sentence.text != ""
        assert len(encode(sentence.text)) <= max_tokens
    for a, b in zip(chunked.sentences, chunked.sentences[1:], strict=False):
        assert a.end <= b.start
        assert not text[a.end : b.start].strip(), "text between sentences must be blank: every word is in a sentence"
    for chunk in chunked.chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.n_tokens == len(encode(chunk.text)) <= max_tokens
        assert chunk.start == chunked.sentences[chunk.first_sentence].start
        assert chunk.end == chunked.sentences[chunk.last_sentence].end
    covered = {i for c in chunked.chunks for i in range(c.first_sentence, c.last_sentence + 1)}
    assert covered == set(range(len(chunked.sentences)))
    if text.strip():
        assert chunked.sentences, "non-blank text must yield sentences"


def test_a_chunk_never_spans_text_outside_the_blocks():
    text = "First sentence of the story is here. Second one follows it.\nSubscribe For Free Breaking News Updates!\nThird sentence comes after the box."
    blocks = ((0, 59), (101, len(text)))
    chunked = SentenceChunker(max_tokens=128, overlap_sentences=1).run(text, blocks)
    assert [s.text for s in chunked.sentences] == [
        "First sentence of the story is here.",
        "Second one follows it.",
        "Third sentence comes after the box.",
    ]
    assert [c.text for c in chunked.chunks] == [
        text[:59],
        "Third sentence comes after the box.",
    ]  # no overlap across the gap
