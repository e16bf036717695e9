"""The README's Python tutorial: it prints the tutorial's two results with numpy and
imgcluster only."""

import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "examples" / "tutorial.py"

RUN = f"""
import runpy, sys
runpy.run_path({str(SCRIPT)!r}, run_name="__main__")
others = sorted({{m.split(".")[0] for m in sys.modules}} & {{"sklearn", "scipy", "cv2", "pandas"}})
assert not others, others
"""


def test_tutorial_prints_both_confusion_matrices():
    out = subprocess.run([sys.executable, "-c", RUN], check=True, capture_output=True,
                         text=True).stdout
    assert "Accuracy: 53.18% (2659/5000" in out
    assert "Accuracy: 70.92% (3546/5000" in out
    # The first rows of both matrices, as OpenCV's tutorial prints them.
    assert "[[399   0   2  28   2  23  27   0  13   6]" in out
    assert "[[400   1   5   1   2  58  27   1   1   4]" in out
    assert out.count("Confusion matrix") == 2
