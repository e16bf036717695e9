"""ik.kmeans against cv2.kmeans 4.8's own results (the repository's fixtures)."""

import numpy as np
import pytest

import imgcluster as ik
from imgcluster import _imgcluster
from conftest import fixture

CRITERIA = (ik.TERM_CRITERIA_EPS + ik.TERM_CRITERIA_MAX_ITER, 10, 1.0)
FLAGS = {"KMEANS_RANDOM_CENTERS": ik.KMEANS_RANDOM_CENTERS,
         "KMEANS_PP_CENTERS": ik.KMEANS_PP_CENTERS}


def tutorial(data, **kw):
    return ik.kmeans(data, 10, None, CRITERIA, 10, ik.KMEANS_RANDOM_CENTERS, **kw)


@pytest.mark.parametrize("case", range(10))
def test_every_fixture_bit_for_bit(case, manifest, cells, deskewed):
    c = manifest["kmeans"][case]
    data = cells if c["data"] == "raw" else deskewed
    # The fixtures' "default state" is a fresh process, which setRNGSeed(0) restores.
    ik.setRNGSeed(c["rng_seed"] or 0)
    criteria = (ik.TERM_CRITERIA_EPS + ik.TERM_CRITERIA_MAX_ITER, c["max_iter"], c["epsilon"])
    compactness, labels, centers = ik.kmeans(
        data, c["K"], None, criteria, c["attempts"], FLAGS[c["flags"]])
    assert labels.shape == (5000, 1) and labels.dtype == np.int32
    assert centers.shape == (c["K"], 400) and centers.dtype == np.float32
    np.testing.assert_array_equal(labels.ravel(), fixture(c["labels"]).ravel())
    np.testing.assert_array_equal(centers, fixture(c["centers"]))
    assert compactness == c["compactness"]


def test_seed_12345_on_the_digits():
    images, _ = ik.digits()
    ik.setRNGSeed(12345)
    _, labels, centers = tutorial(images.reshape(-1, 400).astype(np.float32))
    np.testing.assert_array_equal(labels.ravel(), fixture("kmeans_07_labels.npy"))
    np.testing.assert_array_equal(centers, fixture("kmeans_07_centers.npy"))


def test_successive_calls_advance_the_generator_like_opencv(cells):
    ik.setRNGSeed(1)
    first = tutorial(cells)
    state = _imgcluster.rng_state()
    second = tutorial(cells)
    assert _imgcluster.rng_state() != state
    assert not np.array_equal(first[1], second[1]) or first[0] != second[0]
    # The same sequence again from the same seed.
    ik.setRNGSeed(1)
    assert tutorial(cells)[0] == first[0]
    again = tutorial(cells)
    np.testing.assert_array_equal(again[1], second[1])
    np.testing.assert_array_equal(again[2], second[2])


def test_initial_labels_and_output_centers(cells):
    ik.setRNGSeed(4)
    _, labels, _ = tutorial(cells)
    out = np.zeros((10, 400), np.float32)
    ik.setRNGSeed(4)
    c1, l1, ce1 = ik.kmeans(cells, 10, labels, CRITERIA, 1, ik.KMEANS_USE_INITIAL_LABELS, out)
    assert ce1 is out
    ik.setRNGSeed(4)
    c2, l2, _ = ik.kmeans(cells, 10, labels.ravel().astype(np.int64), CRITERIA, 1,
                          ik.KMEANS_USE_INITIAL_LABELS)
    assert c1 == c2
    np.testing.assert_array_equal(l1, l2)


def test_other_layouts_and_dtypes_give_the_same_result(cells):
    ik.setRNGSeed(7)
    reference = tutorial(cells)
    variants = {
        "uint8": cells.astype(np.uint8),
        "float64": cells.astype(np.float64),
        "int64": cells.astype(np.int64),
        "int16 beyond a byte": None,
        "fortran": np.asfortranarray(cells),
        "strided view": np.repeat(cells, 2, axis=1)[:, ::2],
        "list": None,
    }
    assert not variants["strided view"].flags.c_contiguous
    for name, data in variants.items():
        if data is None:
            continue
        ik.setRNGSeed(7)
        got = tutorial(data)
        assert got[0] == reference[0], name
        np.testing.assert_array_equal(got[1], reference[1], err_msg=name)
        np.testing.assert_array_equal(got[2], reference[2], err_msg=name)
    # Integers beyond a byte go to float32: scaled data, scaled result.
    ik.setRNGSeed(7)
    small = cells[:500] * 3
    ref = tutorial(small)
    ik.setRNGSeed(7)
    got = tutorial(small.astype(np.int16))
    np.testing.assert_array_equal(got[1], ref[1])
    # A list of lists works too.
    ik.setRNGSeed(7)
    got = ik.kmeans(cells[:300].tolist(), 3, None, CRITERIA, 2, ik.KMEANS_PP_CENTERS)
    ik.setRNGSeed(7)
    ref = ik.kmeans(cells[:300], 3, None, CRITERIA, 2, ik.KMEANS_PP_CENTERS)
    np.testing.assert_array_equal(got[1], ref[1])


def test_results_do_not_depend_on_the_thread_count(cells):
    outs = []
    for n in (1, 2, 3):
        ik.setRNGSeed(3)
        outs.append(tutorial(cells, n_threads=n))
    for o in outs[1:]:
        assert o[0] == outs[0][0]
        np.testing.assert_array_equal(o[1], outs[0][1])
        np.testing.assert_array_equal(o[2], outs[0][2])


@pytest.mark.parametrize("args, argument", [
    (dict(K=0), "K"),
    (dict(K=20), "K"),
    (dict(attempts=0), "attempts"),
    (dict(criteria=(3, 10)), "criteria"),
    (dict(criteria="eps"), "criteria"),
    (dict(criteria=(8, 10, 1.0)), "criteria"),
    (dict(criteria=(3, 10, float("nan"))), "criteria"),
    (dict(criteria=(3, "ten", 1.0)), "criteria"),
    (dict(flags=4), "flags"),
    (dict(flags=ik.KMEANS_USE_INITIAL_LABELS), "bestLabels"),
    (dict(flags=ik.KMEANS_USE_INITIAL_LABELS, bestLabels=np.full(10, 11)), "bestLabels"),
    (dict(flags=ik.KMEANS_USE_INITIAL_LABELS, bestLabels=np.zeros(9, int)), "bestLabels"),
    (dict(flags=ik.KMEANS_USE_INITIAL_LABELS, bestLabels=-np.ones(10, int)), "bestLabels"),
    (dict(data=np.zeros((10, 2, 2), np.float32)), "data"),
    (dict(data=np.zeros((0, 2), np.float32)), "K"),
    (dict(data=np.full((10, 2), np.nan, np.float32)), "data"),
    (dict(data=np.full((10, 2), np.inf)), "data"),
    (dict(data=np.full((10, 2), 1e300)), "data"),
    (dict(data=np.array([["a", "b"]] * 10)), "data"),
])
def test_bad_input_is_a_value_error_naming_the_argument(args, argument):
    call = dict(data=np.arange(20, dtype=np.float32).reshape(10, 2), K=3, bestLabels=None,
                criteria=CRITERIA, attempts=2, flags=ik.KMEANS_PP_CENTERS)
    call.update(args)
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        ik.kmeans(**call)


def test_nan_message_names_the_sample():
    data = np.zeros((10, 3), np.float32)
    data[4, 2] = np.nan
    with pytest.raises(ValueError, match=r"^data: .*sample 4, feature 2 is NaN"):
        ik.kmeans(data, 2, None, CRITERIA, 1, 0)


def test_set_rng_seed_takes_an_int():
    with pytest.raises(ValueError, match="^seed"):
        ik.setRNGSeed(2**40)
    with pytest.raises(ValueError, match="^seed"):
        ik.setRNGSeed(1.5)
