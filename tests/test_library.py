import os
import shutil

import pytest

from rag.errors import RagError
from rag.library import Library, safe_file_name
from tests.conftest import ARTICLES


@pytest.mark.parametrize(
    "name, safe",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\win.ini.MD", "win.ini.md"),
        (".hidden.txt", "hidden.txt"),
        ("Putin & Trump: talks?.html", "Putin_Trump_talks.html"),
        ("/abs/path/ok.txt", "ok.txt"),
        ("....txt", "article.txt"),
    ],
)
def test_upload_names_are_sanitised(name, safe):
    assert safe_file_name(name) == safe


@pytest.fixture(scope="module")
def library(tmp_path_factory, articles_index):
    root = tmp_path_factory.mktemp("library")
    shutil.copytree(ARTICLES, root / "corpus")
    shutil.copytree(articles_index, root / "index")
    return Library(root / "corpus", root / "index", max_upload_bytes=10_000)


def test_uploads_are_checked_one_by_one_and_the_good_ones_indexed(library):
    good = b"The lighthouse keeper of Port Ellen retired on Tuesday after forty-two years of service."
    progress = []
    result, qa = library.add(
        on_progress=lambda *step: progress.append(step),
        files=[
            ("../../keeper.txt", good),
            ("copy.txt", (ARTICLES / "000_9cebef51757e5eed.txt").read_bytes()),
            ("again.txt", good),
            ("empty.md", b"  \n"),
            ("blob.txt", bytes(range(256)) * 8),
            ("huge.txt", b"word " * 5000),
            ("slides.pptx", b"PK\x03\x04"),
        ],
    )
    assert result.added == ["keeper.txt"]
    reasons = dict(result.rejected)
    assert "same content as 000_9cebef51757e5eed.txt" in reasons["copy.txt"]
    assert "same content as keeper.txt" in reasons["again.txt"]
    assert "empty" in reasons["empty.md"] and "binary" in reasons["blob.txt"]
    assert "limited to 10,000" in reasons["huge.txt"] and "unsupported file type" in reasons["slides.pptx"]
    assert (library.corpus_dir / "keeper.txt").read_bytes() == good
    assert not (library.corpus_dir.parent / "keeper.txt").exists()
    assert result.report.added == ["keeper.txt"] and result.report.chunks_embedded == 1
    assert [step[1:] for step in progress] == [(1, "keeper.txt")]  # sent by the indexing process as it goes
    answer = qa.ask("How long did the lighthouse keeper of Port Ellen serve?")
    assert answer.citations[0].source == "keeper.txt" and answer.span.text == "forty-two years"


def test_dotfiles_get_plain_names_and_files_the_usual_mode(library):
    umask = os.umask(0o022)
    try:
        result, qa = library.add(
            [
                (".env.txt", b"The ferry to Port Ellen sails at dawn on Sundays."),
                (".txt", b"The old mill of Port Ellen closed on Friday."),
            ]
        )
    finally:
        os.umask(umask)
    assert result.added == ["env.txt", "article.txt"] and not result.rejected
    assert {"env.txt", "article.txt"} <= {d.id for d in qa.store.documents()}
    assert {oct((library.corpus_dir / name).stat().st_mode & 0o777) for name in result.added} == {"0o644"}


def test_a_batch_with_nothing_to_index_changes_nothing(library):
    before = {d.id for d in library.open().store.documents()}
    result, qa = library.add([("empty.md", b" "), ("copy.txt", (ARTICLES / "001_50e1bebe41a30cea.txt").read_bytes())])
    assert not result.added and result.report is None
    assert result.rejected == [
        ("empty.md", "empty file (no text to index)"),
        ("copy.txt", "same content as 001_50e1bebe41a30cea.txt, already in the library"),
    ]
    assert {d.id for d in qa.store.documents()} == before


def test_removing_an_article_moves_its_file_aside_and_unindexes_it(library):
    qa = library.remove("003_11d5bc04a0aec479.txt")
    assert "003_11d5bc04a0aec479.txt" not in {d.id for d in qa.store.documents()}
    assert (library.corpus_dir / ".removed" / "003_11d5bc04a0aec479.txt").is_file()
    with pytest.raises(RagError, match="no article"):
        library.remove("../outside.txt")


@pytest.mark.model
def test_remove_refuses_paths_outside_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("An article about the harbour.")
    outside = tmp_path / "secret.txt"
    outside.write_text("not an article of this library")
    library = Library(corpus, tmp_path / "index")
    for doc_id in ("../secret.txt", str(outside), "sub/../../secret.txt"):
        with pytest.raises(RagError, match="no article"):
            library.remove(doc_id)
    assert outside.read_text() == "not an article of this library"


@pytest.mark.model
def test_removing_the_last_article_is_refused_and_loses_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "only.txt").write_text("The only article about the harbour of Port Ellen.")
    library = Library(corpus, tmp_path / "index")
    library.open()
    with pytest.raises(RagError, match="no readable"):
        library.remove("only.txt")
    assert (corpus / "only.txt").is_file()
    assert "only.txt" in {d.id for d in library.open().store.documents()}


@pytest.mark.model
def test_an_article_read_through_a_symlink_is_removed_as_that_link(corpus, tmp_path):
    (corpus / ".private").mkdir()
    note = corpus / ".private" / "note.md"
    note.write_text("The lighthouse keeper of Port Ellen retired after forty-two years of service.")
    (corpus / "public.md").symlink_to(".private/note.md")
    library = Library(corpus, tmp_path / "index")
    assert "public.md" in {d.id for d in library.open().store.documents()}

    qa = library.remove("public.md")

    assert "public.md" not in {d.id for d in qa.store.documents()} and qa.store.n_documents == 5
    assert note.is_file() and (corpus / ".removed" / "public.md").is_symlink()
    with pytest.raises(RagError, match="no article"):
        library.remove("../corpus/000_9cebef51757e5eed.txt")
