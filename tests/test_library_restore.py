"""Undoing a removal: the article's file comes back from .removed/ and is indexed again."""

import shutil

import pytest

from rag.errors import RagError
from rag.library import Library
from tests.conftest import ARTICLES


@pytest.fixture(scope="module")
def library(tmp_path_factory, articles_index):
    root = tmp_path_factory.mktemp("restore")
    shutil.copytree(ARTICLES, root / "corpus")
    shutil.copytree(articles_index, root / "index")
    return Library(root / "corpus", root / "index")


def test_a_removed_article_is_brought_back_and_indexed_again(library):
    doc = "003_11d5bc04a0aec479.txt"
    text = (library.corpus_dir / doc).read_bytes()
    library.remove(doc)
    restored, qa = library.restore(doc)
    assert restored == doc and (library.corpus_dir / doc).read_bytes() == text
    assert not (library.corpus_dir / ".removed" / doc).exists()
    assert doc in {d.id for d in qa.store.documents()}
    assert "Putin" in qa.ask("Who is ready to talk with Trump?").text


def test_only_a_removed_article_inside_the_corpus_can_be_restored(library):
    for doc in ("never-there.txt", "../corpus/003_11d5bc04a0aec479.txt", "/etc/passwd"):
        with pytest.raises(RagError, match="no removed article"):
            library.restore(doc)
