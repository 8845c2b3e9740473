"""Problem catalog, Triton template library and approved kernels."""
