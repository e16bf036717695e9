"""Shared test data: the OpenCV fixtures of the repository (no OpenCV needed)."""

import json
import pathlib

import numpy as np
import pytest

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "opencv"


def fixture(name):
    path = FIXTURES / name
    if not path.exists():
        raise FileNotFoundError(f"missing OpenCV fixture {path}")
    return np.load(path) if name.endswith(".npy") else path


@pytest.fixture(scope="session")
def manifest():
    return json.loads(fixture("manifest.json").read_text())


@pytest.fixture(scope="session")
def cells():
    """The raw digits as OpenCV's tutorial reshapes them: 5000 x 400 float32."""
    return fixture("digits_cells.npy").reshape(5000, 400).astype(np.float32)


@pytest.fixture(scope="session")
def deskewed():
    return fixture("digits_deskewed.npy").reshape(5000, 400).astype(np.float32)
