"""Deterministic tools the loop calls: verify (Z3), bench (sandboxed measurement), git, profile."""
