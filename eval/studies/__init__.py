"""One-off studies: each script answers one question a decision rested on (its docstring says which and how to run
it); their figures are in eval/reports/, the README and docs/. Nothing in tests imports them."""
