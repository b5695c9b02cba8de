"""Verbatim web chat: `python app.py [options]` is `rag serve [options]` (see `rag serve --help`)."""

import sys

from rag.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
