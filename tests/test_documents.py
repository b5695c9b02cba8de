import codecs
import hashlib
import logging

import pytest

from rag.documents import DocumentLoader, inside_corpus, parse_document, read_document
from rag.errors import CorpusError, UnreadableFileError
from tests.conftest import ARTICLES, SHIPPED

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
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / ".hidden.txt").write_text("secret")

    corpus = DocumentLoader().run(tmp_path)

    by_id = {d.id: d for d in corpus.documents}
    assert sorted(by_id) == ["a.txt", "world/b.md", "world/europe/c.html"]
    assert by_id["a.txt"].meta.title == "First line title"
    assert by_id["world/b.md"].meta.title == "Markdown title"
    html_doc = by_id["world/europe/c.html"]
    assert html_doc.meta.title == "Kremlin says talks possible"
    assert html_doc.text == (
        "Kremlin says talks possible\n"  # the article only: no navigation, footer or tags
        "Kremlin spokesperson Dmitry Peskov said on Thursday that talks with Washington were possible.\n"
        "He added that no date had been set for a meeting between the two presidents."
    )
    assert corpus.skipped == []


def test_shipped_articles_load_whole(tmp_path):

    corpus = DocumentLoader().run(ARTICLES)
    assert [d.id for d in corpus.documents] == SHIPPED
    for document in corpus.documents:
        assert document.text == (ARTICLES / document.id).read_text(encoding="utf-8")
        assert document.sha256 == hashlib.sha256((ARTICLES / document.id).read_bytes()).hexdigest()


def test_bad_files_are_skipped_with_a_warning_naming_them(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("A fine article about talks.")
    (tmp_path / "empty.txt").write_text("   \n\n")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    caplog.set_level(logging.WARNING)

    corpus = DocumentLoader().run(tmp_path)

    assert [d.id for d in corpus.documents] == ["good.txt"]
    assert [(s.path, s.reason) for s in corpus.skipped] == [
        ("binary.txt", "binary file (contains NUL bytes)"),
        ("empty.txt", "empty file (no text to index)"),
    ]
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


@pytest.mark.parametrize("name", ["a.odt", "a", "a.docx"])
def test_unsupported_types_are_refused(name):
    with pytest.raises(UnreadableFileError, match="unsupported file type"):
        parse_document(name, b"text")


def test_missing_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        DocumentLoader().run(tmp_path / "nope")


SECRET = "The launch codes are kept under the third flowerpot."


def outside_and_corpus(tmp_path):
    """A corpus with one article, next to a folder outside it that holds a secret file and folder."""
    outside, corpus = make_outside(tmp_path), tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("A fine article about talks.")
    return outside, corpus


def make_outside(tmp_path):
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.txt").write_text(SECRET)
    (outside / "folder" / "leak.md").write_text(SECRET)
    return outside


def test_symlinks_are_followed_only_inside_the_corpus(tmp_path, caplog):
    outside, corpus = outside_and_corpus(tmp_path)
    (corpus / ".drafts").mkdir()
    (corpus / ".drafts" / "draft.txt").write_text("A draft linked into the corpus.")
    (corpus / ".private").mkdir()
    (corpus / ".private" / "note.md").write_text("A note linked into the corpus.")
    (corpus / "sub").mkdir()
    (corpus / "secret.txt").symlink_to(outside / "secret.txt")
    (corpus / "relative.txt").symlink_to("../outside/secret.txt")
    (corpus / "elsewhere").symlink_to(outside / "folder", target_is_directory=True)
    (corpus / "gone.txt").symlink_to(corpus / "nowhere.txt")
    (corpus / "self.txt").symlink_to("self.txt")
    (corpus / "copy.txt").symlink_to("a.txt")  # a second path to a file already read
    (corpus / "public.md").symlink_to(".private/note.md")
    (corpus / "published").symlink_to(".drafts", target_is_directory=True)
    (corpus / "sub" / "up").symlink_to("..", target_is_directory=True)  # a loop back to the root
    caplog.set_level(logging.WARNING)

    corpus_read = DocumentLoader().run(corpus)

    by_id = {d.id: d.text for d in corpus_read.documents}
    assert sorted(by_id) == ["a.txt", "public.md", "published/draft.txt"]
    assert by_id["public.md"] == "A note linked into the corpus."
    assert by_id["published/draft.txt"] == "A draft linked into the corpus."
    assert corpus_read.skipped == []
    for name in ("secret.txt", "relative.txt", "elsewhere"):
        assert f"skipped {name}: it points outside the corpus" in caplog.text
    assert "skipped gone.txt: dangling symlink" in caplog.text
    assert "skipped self.txt: symlink loop" in caplog.text
    assert "copy.txt" not in caplog.text and "sub/up" not in caplog.text


def test_files_are_given_with_every_symlink_resolved(tmp_path):
    _, corpus = outside_and_corpus(tmp_path)
    (corpus / "b.txt").write_text("Another article.")
    (corpus / "link.txt").symlink_to(corpus / "b.txt")
    (corpus / "c.txt").symlink_to(corpus / ".d.txt")
    (corpus / ".d.txt").write_text("Read through its link only.")

    files = DocumentLoader().files(corpus)

    real = corpus.resolve()
    assert files == [("a.txt", real / "a.txt"), ("b.txt", real / "b.txt"), ("c.txt", real / ".d.txt")]


def test_a_file_swapped_for_a_link_outside_after_the_scan_is_refused(tmp_path, caplog):
    outside, corpus = outside_and_corpus(tmp_path)
    [(doc_id, path)] = DocumentLoader().files(corpus)
    path.unlink()
    path.symlink_to(outside / "secret.txt")
    caplog.set_level(logging.WARNING)

    read = read_document(doc_id, path, corpus)

    assert read.path == "a.txt" and "outside the corpus" in read.reason
    assert "skipped a.txt: it points outside the corpus" in caplog.text
    assert read_document(doc_id, path).text == SECRET  # without a root nothing is checked


def test_inside_corpus_checks_any_path_against_the_root(tmp_path):
    outside, corpus = outside_and_corpus(tmp_path)
    assert inside_corpus(corpus, corpus / "a.txt") == (corpus / "a.txt").resolve()
    with pytest.raises(UnreadableFileError, match="outside the corpus"):
        inside_corpus(corpus, corpus / ".." / "outside" / "secret.txt")
    with pytest.raises(UnreadableFileError, match="no such file"):
        inside_corpus(corpus, corpus / "missing.txt")


def test_an_index_holds_no_text_from_outside_the_corpus(tmp_path, corpus, embedder, caplog):
    from rag.indexing import Indexer
    from rag.store import IndexStore

    outside = make_outside(tmp_path)
    (corpus / "secret.txt").symlink_to(outside / "secret.txt")
    (corpus / "elsewhere").symlink_to(outside / "folder", target_is_directory=True)
    caplog.set_level(logging.WARNING)

    report = Indexer(embedder).run(corpus, tmp_path / "index")

    store = IndexStore.open(tmp_path / "index")
    ids = [d.id for d in store.documents()]
    assert ids == report.added == SHIPPED  # none from outside
    assert all(SECRET not in store.document(doc_id).text for doc_id in ids)
    assert "skipped secret.txt: it points outside the corpus" in caplog.text
    store.close()


TEXT = "Le président a déclaré « oui » — 5 €.\nSecond line."


@pytest.mark.parametrize(
    "bom, encoding",
    [
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_utf16_and_utf32_with_a_byte_order_mark_are_decoded(bom, encoding, caplog):
    raw = bom + TEXT.encode(encoding)
    caplog.set_level(logging.WARNING)

    document = parse_document("a.txt", raw)

    assert document.text == TEXT
    assert document.sha256 == hashlib.sha256(raw).hexdigest()
    assert caplog.text == ""  # a byte-order mark declares the encoding: nothing was guessed


def test_utf8_with_a_byte_order_mark_still_reads():
    assert parse_document("a.txt", codecs.BOM_UTF8 + TEXT.encode("utf-8")).text == TEXT


def test_utf16_without_a_byte_order_mark_is_still_refused_as_binary():
    with pytest.raises(UnreadableFileError, match="binary file"):
        parse_document("a.txt", TEXT.encode("utf-16-le"))


def test_a_byte_order_mark_before_invalid_text_is_refused():
    with pytest.raises(UnreadableFileError, match="not valid utf-16-le despite its byte-order mark"):
        parse_document("a.txt", codecs.BOM_UTF16_LE + "ok".encode("utf-16-le") + b"\x00\xdc")


def _pdf(pages: list[str] | None, title: str = "Harbour report") -> bytes:
    """A PDF made here: a text layer of these pages, or (None) one page with only a drawn shape, like a scan."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages or [None]:
        pdf.add_page()
        if text is None:
            pdf.rect(10, 10, 80, 60, style="F")
        else:
            pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def test_a_pdf_is_read_page_by_page_with_offsets_into_its_text_and_a_page_for_each_offset():
    document = parse_document(
        "report.pdf",
        _pdf(
            [
                "Harbour Report 2025\nThe harbour handled 4.2 million containers in 2024.",
                "The new crane terminal opens in June 2026, the authority said.",
            ]
        ),
    )
    assert document.meta.title == "Harbour report" and len(document.pages) == 2
    assert (
        document.page_of(document.text.index("4.2 million")) == 1
        and document.page_of(document.text.index("crane")) == 2
    )


def test_a_pdf_without_a_text_layer_is_refused_saying_so():
    with pytest.raises(UnreadableFileError, match="no text layer"):
        parse_document("scan.pdf", _pdf(None))
    with pytest.raises(UnreadableFileError, match="not a readable PDF"):
        parse_document("broken.pdf", b"%PDF-1.4 nothing else")


def test_a_pdf_answer_cites_its_page(tmp_path, embedder):
    import rag

    (tmp_path / "report.pdf").write_bytes(
        _pdf(
            [
                "Harbour Report 2025\nThe harbour handled 4.2 million containers in 2024.",
                "The new crane terminal opens in June 2026, the port authority said.",
            ]
        )
    )
    answer = rag.build(tmp_path, index_dir=tmp_path / "index", embedder=embedder).ask(
        "When does the new crane terminal open?"
    )
    assert not answer.abstained and answer.citations[0].page == 2 and "June 2026" in answer.text
    assert answer.citations[0].label.endswith("page 2")
