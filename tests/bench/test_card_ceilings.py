"""Whether a card's ceilings are known is told without starting CUDA in the harness: then the
child that reports the card shares it, else it measures them with the card alone."""
import subprocess

import torch

import tools.roofline as roofline


def _smi(name: str | None):
    def run(cmd, **_):
        if name is None:
            raise FileNotFoundError("nvidia-smi")
        assert cmd[:3] == ["nvidia-smi", "-i", "3"]
        return subprocess.CompletedProcess(cmd, 0, stdout=f"{name}\n", stderr="")
    return run


def test_ceilings_are_known_only_for_this_card_and_this_torch(monkeypatch):
    key = f"NVIDIA H200 | torch {torch.__version__}"
    monkeypatch.setattr(roofline, "known_ceilings", lambda: {key: {"key": key}})
    monkeypatch.setattr(subprocess, "run", _smi("NVIDIA H200"))
    assert roofline.measured_already("3")
    monkeypatch.setattr(subprocess, "run", _smi("NVIDIA H100 80GB HBM3"))  # another card
    assert not roofline.measured_already("3")
    monkeypatch.setattr(subprocess, "run", _smi(None))  # no nvidia-smi: measure, alone
    assert not roofline.measured_already("3")
    monkeypatch.setattr(roofline, "known_ceilings", lambda: {
        "NVIDIA H200 | torch 1.0": {}})  # measured under another torch
    monkeypatch.setattr(subprocess, "run", _smi("NVIDIA H200"))
    assert not roofline.measured_already("3")
