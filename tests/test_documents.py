import logging

import pytest

from rag.documents import DocumentLoader, parse_document
from rag.errors import CorpusError, UnreadableFileError

HTML = b"""<html><head><title>Kremlin says talks possible</title></head><body>
<nav>Home | World | Sport</nav>
<article><h1>Kremlin says talks possible</h1>
<p>Kremlin spokesperson Dmitry Peskov said on Thursday that talks with Washington were possible.</p>
<p>He added that no date had been set for a meeting between the two presidents.</p></article>
<footer>Copyright 2025 Example News. All rights reserved.</footer></body></html>"""


def test_loads_txt_md_html_recursively_with_relative_ids(tmp_path):
    (tmp_path / "world" / "europe").mkdir(parents=True)
    (tmp_path / "a.txt").write_text("First line title\nBody sentence here.")
    (tmp_path / "world" / "b.md").write_text("# Markdown title\n\nSome text.")
    (tmp_path / "world" / "europe" / "c.html").write_bytes(HTML)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / ".hidden.txt").write_text("secret")

    corpus = DocumentLoader().run(tmp_path)

    by_id = {d.id: d for d in corpus.documents}
    assert sorted(by_id) == ["a.txt", "world/b.md", "world/europe/c.html"]
    assert by_id["a.txt"].title == "First line title"
    assert by_id["world/b.md"].title == "Markdown title"
    html_doc = by_id["world/europe/c.html"]
    assert html_doc.title == "Kremlin says talks possible"
    assert "Dmitry Peskov said on Thursday" in html_doc.text
    assert "Copyright" not in html_doc.text and "<p>" not in html_doc.text
    assert corpus.skipped == []


def test_shipped_articles_load_whole(tmp_path):
    from tests.conftest import ARTICLES

    corpus = DocumentLoader().run(ARTICLES)
    assert len(corpus.documents) == 5
    for document in corpus.documents:
        assert document.text == (ARTICLES / document.id).read_text(encoding="utf-8")
        assert len(document.sha256) == 64


def test_bad_files_are_skipped_with_a_warning_naming_them(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("A fine article about talks.")
    (tmp_path / "empty.txt").write_text("   \n\n")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    caplog.set_level(logging.WARNING)

    corpus = DocumentLoader().run(tmp_path)

    assert [d.id for d in corpus.documents] == ["good.txt"]
    reasons = {s.path: s.reason for s in corpus.skipped}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "skipped binary.txt" in caplog.text and "skipped empty.txt" in caplog.text


def test_non_utf8_text_is_decoded_with_a_fallback(tmp_path, caplog):
    (tmp_path / "latin.txt").write_bytes("Le président a déclaré « oui » — 5 €.".encode("cp1252"))
    caplog.set_level(logging.WARNING)

    [document] = DocumentLoader().run(tmp_path).documents

    assert document.text == "Le président a déclaré « oui » — 5 €."
    assert "latin.txt is not valid UTF-8; decoded it as cp1252" in caplog.text


def test_windows_line_endings_are_normalised():
    document = parse_document("a.txt", b"Line one.\r\nLine two.\rLine three.")
    assert document.text == "Line one.\nLine two.\nLine three."


@pytest.mark.parametrize("name", ["a.pdf", "a", "a.docx"])
def test_unsupported_types_are_refused(name):
    with pytest.raises(UnreadableFileError, match="unsupported file type"):
        parse_document(name, b"text")


def test_missing_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        DocumentLoader().run(tmp_path / "nope")
