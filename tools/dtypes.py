"""The torch dtype a name stands for ("torch.bfloat16"): one parser for the harness's plans and
layouts and for the verifier's launch records. Kept apart from `tools.bench` so that the
analysis zygote reads records without importing the harness."""


def dtype_named(name: str | None):
    """The torch dtype `name` names, None for None; ValueError for anything else (a launch
    record is the candidate's data, and `torch.<name>` may be any attribute of torch)."""
    if name is None:
        return None
    import torch
    dtype = getattr(torch, str(name).removeprefix("torch."), None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"{name!r} is not a torch dtype")
    return dtype
