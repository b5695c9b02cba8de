"""python -m rag.training train|calibrate: see rag/training/cli.py."""

from .cli import main

main()
