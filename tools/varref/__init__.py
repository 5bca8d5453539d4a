"""varref: a small PyTorch reference of VAR (next-scale prediction) and CoDe, written from
docs/model.md. Used to train the shipped tiny models and to write the fixtures
that the Swift engine is tested against. Nothing here is needed to build, run or test the Swift code."""
