"""Parameterised Triton templates, one module per family. Each declares FAMILY, REQUIRES (op
sets of a problem's forward that it can implement), PARAMS (the tunables and their values),
DEFAULT, valid(config) and render(config, ops) -> the source of a candidate file; optionally
PREFERRED, configurations the search tries right after the default."""
