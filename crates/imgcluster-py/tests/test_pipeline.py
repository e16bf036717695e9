"""Fitted pipelines: the command line's scores, predictions and model files."""

import json
import os
import pickle
import shutil
import subprocess

import numpy as np
import pytest

import imgcluster as ik


@pytest.fixture(scope="module")
def halves():
    images, labels = ik.digits()
    # As `--train-ratio 0.5` splits the grid: the first 50 cells of every row of 100.
    cols = np.arange(5000) % 100
    train, test = cols < 50, cols >= 50
    return images[train], labels[train], images[test], labels[test]


def test_best_pipeline_fits_predicts_and_round_trips(halves, tmp_path):
    xt, yt, xh, yh = halves
    p = ik.Pipeline("best", 10, random_state=1).fit(xt, yt)
    assert p.model_.deskewed
    assert ik.evaluate(yt, p.labels_)["percent"] == "97.76"
    clusters = p.predict(xh)
    assert ik.evaluate(yh, clusters)["percent"] == "97.72"
    classes = p.predict_class(xh)
    assert (classes == yh).mean() == pytest.approx(0.9772)
    p.save(tmp_path / "best.bin")
    q = ik.Pipeline.load(tmp_path / "best.bin")
    np.testing.assert_array_equal(q.predict(xh), clusters)
    np.testing.assert_array_equal(q.predict_class(xh).astype(int), classes)
    np.testing.assert_array_equal(q.transform(xh[:20]), p.transform(xh[:20]))
    r = pickle.loads(pickle.dumps(p))
    np.testing.assert_array_equal(r.predict(xh[:100]), clusters[:100])


@pytest.mark.parametrize("preset, percent", [("tutorial-raw", "53.18"),
                                             ("tutorial-deskew", "70.92"),
                                             ("hog", "92.38")])
def test_presets_give_the_command_lines_accuracy(preset, percent):
    images, labels = ik.digits()
    p = ik.Pipeline(preset, 10).fit(images, labels)
    assert ik.evaluate(labels, p.labels_)["percent"] == percent


def test_vectors_with_an_image_shape(halves):
    xt, yt, _, _ = halves
    flat = ik.Pipeline("hog", 10, image_shape=(20, 20), random_state=1).fit(
        xt.reshape(len(xt), -1))
    stacked = ik.Pipeline("hog", 10, random_state=1).fit(xt)
    np.testing.assert_array_equal(flat.labels_, stacked.labels_)


def test_bad_input(halves):
    xt, _, _, _ = halves
    with pytest.raises(ValueError, match="^preset"):
        ik.Pipeline("fastest").fit(xt)
    with pytest.raises(ValueError, match="^X"):
        ik.Pipeline("hog").fit(xt.reshape(len(xt), -1).astype(np.float32))
    with pytest.raises(ValueError, match="^y"):
        ik.Pipeline("tutorial-raw").fit(xt, np.zeros(3))
    p = ik.Pipeline("tutorial-raw", 10).fit(xt)
    with pytest.raises(ValueError, match="^X"):
        p.predict(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="no classes"):
        p.predict_class(xt[:3])
    with pytest.raises(ValueError):
        ik.Pipeline.load(os.devnull)


def cli():
    """The command line binary: $IMGCLUSTER_BIN (CI sets it) or one on the PATH."""
    return os.environ.get("IMGCLUSTER_BIN") or shutil.which("imgcluster")


@pytest.mark.skipif(cli() is None, reason="the imgcluster binary is not built "
                    "(set IMGCLUSTER_BIN; CI does)")
def test_the_command_line_reads_and_writes_the_same_model_files(halves, tmp_path):
    xt, yt, xh, yh = halves
    p = ik.Pipeline("hog", 10, random_state=1).fit(xt, yt)
    p.save(tmp_path / "py.bin")
    np.save(tmp_path / "held.npy", xh)
    np.save(tmp_path / "held_labels.npy", yh)
    out = subprocess.run([cli(), "predict", "--model", str(tmp_path / "py.bin"), "--data",
                          str(tmp_path / "held.npy"), "--labels",
                          str(tmp_path / "held_labels.npy"), "--json"],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    assert report["accuracy_percent"] == pytest.approx(
        100 * (p.predict_class(xh) == yh).mean(), abs=0.005)
    # And the other way: a model the command line fitted, read here.
    subprocess.run([cli(), "classify", "--pipeline", "hog", "--seed", "1", "--train-ratio",
                    "0.5", "--model-out", str(tmp_path / "cli.bin"), "--quiet"],
                   check=True, capture_output=True)
    q = ik.Pipeline.load(tmp_path / "cli.bin")
    np.testing.assert_array_equal(q.predict(xh), p.predict(xh))
