"""Digits, deskew, HOG, scores, loaders and quantization."""

import gzip
import struct

import numpy as np
import pytest
from sklearn import metrics as skm

import imgcluster as ik
from conftest import fixture


def test_digits_are_opencvs_cells():
    images, labels = ik.digits()
    assert images.shape == (5000, 20, 20) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, fixture("digits_cells.npy"))
    np.testing.assert_array_equal(labels, fixture("digits_labels.npy"))


def test_deskew_is_opencvs_pixel_for_pixel():
    images, _ = ik.digits()
    expect = fixture("digits_deskewed.npy")
    np.testing.assert_array_equal(ik.deskew(images), expect)
    np.testing.assert_array_equal(ik.deskew(images[17]), expect[17])
    np.testing.assert_array_equal(ik.deskew(images[:50].astype(np.float64)), expect[:50])
    with pytest.raises(ValueError, match="^img"):
        ik.deskew(np.zeros((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="^img"):
        ik.deskew(np.full((20, 20), 300))
    with pytest.raises(ValueError, match="^factor"):
        ik.deskew(images[:2], factor=float("nan"))


def test_hog():
    images, _ = ik.digits()
    h = ik.hog(images[:100])
    assert h.shape == (100, 432) and h.dtype == np.float32
    np.testing.assert_array_equal(ik.hog(images[5]), h[5])
    np.testing.assert_allclose(np.linalg.norm(h, axis=1), 1.0, rtol=1e-5)


def test_scores_match_the_tutorial_and_scikit_learn():
    labels = fixture("digits_labels.npy")
    clusters = fixture("kmeans_00_labels.npy")
    e = ik.evaluate(labels, clusters)
    assert e["percent"] == "53.18" and e["correct"] == 2659
    assert ik.accuracy(labels, clusters) == pytest.approx(0.5318)
    cm = ik.confusion_matrix(labels, clusters)
    assert cm.shape == (10, 10) and cm.sum() == 5000 and np.trace(cm) == 2659
    np.testing.assert_array_equal(cm[0], [399, 0, 2, 28, 2, 23, 27, 0, 13, 6])
    assert ik.nmi(labels, clusters) == pytest.approx(
        skm.normalized_mutual_info_score(labels, clusters), abs=1e-12)
    assert ik.ari(labels, clusters) == pytest.approx(
        skm.adjusted_rand_score(labels, clusters), abs=1e-12)
    # Invariant under renaming the clusters, and the labels may be any values.
    perm = np.random.default_rng(0).permutation(10)
    assert ik.accuracy(labels * 10 + 3, perm[clusters]) == pytest.approx(0.5318)
    with pytest.raises(ValueError, match="^y_pred"):
        ik.accuracy(labels, clusters[:10])


def test_load_reads_every_format_the_command_line_reads(tmp_path):
    images, labels = ik.digits()
    x, y = images[:30], labels[:30]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    got = ik.load(tmp_path / "x.npy", labels=tmp_path / "y.npy")
    np.testing.assert_array_equal(got.X, x)
    np.testing.assert_array_equal(got.y, y)
    # IDX, gzipped, as MNIST ships it.
    with gzip.open(tmp_path / "img-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 30, 20, 20) + x.tobytes())
    with open(tmp_path / "lab-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x801, 30) + y.astype(np.uint8).tobytes())
    got = ik.load(tmp_path / "img-idx3-ubyte.gz", labels=tmp_path / "lab-idx1-ubyte")
    np.testing.assert_array_equal(got.X, x)
    np.testing.assert_array_equal(got.y, y)
    # CSV with a label column and a header.
    rows = ["label," + ",".join(f"p{i}" for i in range(400))]
    rows += [f"{c}," + ",".join(map(str, r)) for c, r in zip(y, x.reshape(30, -1))]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    got = ik.load(tmp_path / "d.csv")
    np.testing.assert_array_equal(got.X.reshape(30, -1), x.reshape(30, -1))
    np.testing.assert_array_equal(got.y, y)
    # The grid PNG of the repository.
    data = fixture("digits_cells.npy")
    grid = ik.load(fixture("manifest.json").parents[2] / ".." / "data" / "digits.png")
    np.testing.assert_array_equal(grid.X, data)
    # Errors are the command line's.
    with pytest.raises(ValueError, match="x.npy: .*not CSV"):
        ik.load(tmp_path / "x.npy", labels=tmp_path / "y.npy", format="csv")
    with pytest.raises(ValueError, match="missing"):
        ik.load(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match="^format"):
        ik.load(tmp_path / "x.npy", format="tiff")


def test_quantize_is_opencvs_tutorial_pixel_for_pixel():
    img = ik.read_rgb(fixture("quantize_input.png"))
    assert img.shape == (60, 80, 3)
    q = ik.quantize(img, 8)
    np.testing.assert_array_equal(q.image, ik.read_rgb(fixture("quantize_k8.png")))
    assert q.palette.shape == (8, 3) and q.labels.shape == (60, 80)
    q = ik.quantize(img, 5, init="k-means++", seed=3)
    np.testing.assert_array_equal(q.image, ik.read_rgb(fixture("quantize_pp_k5_seed3.png")))
    with pytest.raises(ValueError, match="^image"):
        ik.quantize(img[..., 0], 4)
    with pytest.raises(ValueError, match="^k"):
        ik.quantize(img, 0)


def test_load_reads_a_folder_of_class_folders(tmp_path):
    # Two classes, images of two sizes: made gray and brought to the first image's size.
    for cls, names in (("ants", ["quantize_input.png", "quantize_k8.png"]),
                       ("bees", ["quantize_pp_k5_seed3.png"])):
        (tmp_path / cls).mkdir()
        for name in names:
            (tmp_path / cls / name).write_bytes(fixture(name).read_bytes())
    got = ik.load(tmp_path, size=(30, 40))
    assert got.X.shape == (3, 30, 40) and got.X.dtype == np.uint8
    np.testing.assert_array_equal(got.y, [0, 0, 1])
    assert got.class_names == ["ants", "bees"]
    with pytest.raises(ValueError, match="^size"):
        ik.load(tmp_path, size="30by40")
