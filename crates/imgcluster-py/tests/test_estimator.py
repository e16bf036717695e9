"""ik.KMeans as a scikit-learn estimator: scikit-learn's own checks, weights, pickling."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans as SkKMeans
from sklearn.utils.estimator_checks import parametrize_with_checks

import imgcluster as ik

# The checks scikit-learn itself expects its own KMeans to fail, for the same reason
# (listed in the README): fitting with integer weights is the same as fitting repeated
# samples only from the same initial centers; the seeding draws from other index spaces.
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data":
        "sample_weight is not equivalent to removing/repeating samples: the random "
        "seeding draws differently (scikit-learn's KMeans fails it too)",
}


@parametrize_with_checks([ik.KMeans()], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


def blobs(n=600, d=5, k=4, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, 100, (k, d))
    return (centers[rng.integers(0, k, n)] + rng.normal(0, 4, (n, d))).astype(np.float32)


def test_attributes_and_methods():
    x = blobs()
    km = ik.KMeans(4, random_state=0, n_init=3).fit(x)
    assert km.cluster_centers_.shape == (4, 5) and km.cluster_centers_.dtype == np.float32
    assert km.labels_.shape == (600,) and km.labels_.dtype == np.int32
    assert km.n_iter_ >= 1 and km.n_features_in_ == 5
    np.testing.assert_array_equal(km.predict(x), km.labels_)
    d = km.transform(x)
    assert d.shape == (600, 4)
    np.testing.assert_array_equal(d.argmin(axis=1), km.labels_)
    expect = ((x.astype(np.float64) - km.cluster_centers_[km.labels_]) ** 2).sum()
    assert km.inertia_ == pytest.approx(expect, rel=1e-5)
    assert km.score(x) == pytest.approx(-expect, rel=1e-9)
    assert km.get_params()["n_clusters"] == 4
    assert clone(km).set_params(n_clusters=3).n_clusters == 3
    np.testing.assert_array_equal(ik.KMeans(4, random_state=0, n_init=3).fit_predict(x),
                                  km.labels_)


def test_same_fit_as_scikit_learn_from_the_same_centers():
    x = blobs(2000, 8, 6, seed=3)
    init = x[:6].astype(np.float64)
    ours = ik.KMeans(6, init=init, n_init=1, tol=0, max_iter=300).fit(x)
    theirs = SkKMeans(6, init=init, n_init=1, tol=0, max_iter=300,
                      algorithm="lloyd").fit(x.astype(np.float64))
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-5)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-5)


def test_sample_weight():
    x = blobs(400, 3, 3, seed=5)
    w = np.arange(400) % 4
    init = x[[0, 1, 2]]
    weighted = ik.KMeans(3, init=init, tol=0).fit(x, sample_weight=w)
    repeated = ik.KMeans(3, init=init, tol=0).fit(np.repeat(x, w, axis=0))
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-6)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-6)
    unit = ik.KMeans(3, random_state=1).fit(x, sample_weight=np.ones(400))
    plain = ik.KMeans(3, random_state=1).fit(x)
    np.testing.assert_array_equal(unit.cluster_centers_, plain.cluster_centers_)
    np.testing.assert_array_equal(unit.labels_, plain.labels_)
    assert unit.inertia_ == plain.inertia_
    assert weighted.score(x, sample_weight=w) == pytest.approx(
        -(w * ((x - weighted.cluster_centers_[weighted.predict(x)]) ** 2).sum(1)).sum(),
        rel=1e-5)
    with pytest.raises(ValueError, match="sample_weight|weight"):
        ik.KMeans(3).fit(x, sample_weight=-np.ones(400))
    with pytest.raises(ValueError, match="weight.*zero|zero.*weight"):
        ik.KMeans(3).fit(x, sample_weight=np.zeros(400))
    with pytest.raises(ValueError, match="weights do not apply to mini-batch"):
        ik.KMeans(3, algorithm="minibatch").fit(x, sample_weight=w)


def test_minibatch_and_random_init():
    x = blobs(5000, 4, 5, seed=9)
    mb = ik.KMeans(5, algorithm="minibatch", batch_size=256, random_state=0).fit(x)
    full = ik.KMeans(5, init="random", random_state=0).fit(x)
    assert mb.n_steps_ > 0
    assert mb.inertia_ <= full.inertia_ * 1.05


def test_same_seed_same_fit_any_thread_count():
    x = blobs(3000, 6, 8, seed=2)
    fits = [ik.KMeans(8, random_state=4, n_init=2, n_threads=t).fit(x) for t in (1, 2, 4)]
    for f in fits[1:]:
        np.testing.assert_array_equal(f.cluster_centers_, fits[0].cluster_centers_)
        np.testing.assert_array_equal(f.labels_, fits[0].labels_)


def test_dtypes_and_layouts_give_the_same_fit():
    x = np.rint(blobs(1000, 6, 4, seed=8)).clip(0, 255)
    ref = ik.KMeans(4, random_state=3).fit(x.astype(np.float32))
    for v in (x, x.astype(np.uint8), x.astype(np.int32), np.asfortranarray(x),
              np.repeat(x, 2, axis=1)[:, ::2]):
        got = ik.KMeans(4, random_state=3).fit(v)
        np.testing.assert_array_equal(got.labels_, ref.labels_)
        np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_)


def test_pickle_round_trip():
    x = blobs()
    km = ik.KMeans(4, random_state=0).fit(x)
    back = pickle.loads(pickle.dumps(km))
    np.testing.assert_array_equal(back.predict(x), km.predict(x))


@pytest.mark.parametrize("params, argument", [
    (dict(n_clusters=0), "n_clusters"),
    (dict(n_clusters=700), "n_clusters"),
    (dict(init="kmeans"), "init"),
    (dict(init=np.zeros((3, 5))), "init"),
    (dict(init=np.full((4, 5), np.nan)), "init"),
    (dict(n_init=0), "n_init"),
    (dict(max_iter=0), "max_iter"),
    (dict(tol=-1.0), "tol"),
    (dict(algorithm="elkan"), "algorithm"),
    (dict(n_threads=0), "n_threads"),
])
def test_bad_parameters_name_themselves(params, argument):
    with pytest.raises(ValueError, match=rf"\b{argument}\b"):
        ik.KMeans(**params).fit(blobs())


def test_bad_data():
    with pytest.raises(ValueError, match="NaN"):
        ik.KMeans(2).fit(np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="dim"):
        ik.KMeans(2).fit(np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="float32"):
        ik.KMeans(2).fit(np.array([[1e300, 0.0], [0.0, 1.0], [2.0, 2.0]]))


def test_the_gil_is_released_while_the_engine_runs():
    # A fit on one worker thread; the main thread keeps running Python meanwhile. With the
    # GIL held, the main thread would stall for the whole fit.
    import threading
    import time

    x = blobs(60_000, 16, 32, seed=1)
    done = threading.Event()
    span = {}

    def fit():
        t0 = time.perf_counter()
        ik.KMeans(32, init="random", n_init=1, max_iter=20, tol=0, random_state=0,
                  n_threads=1).fit(x)
        span["fit"] = time.perf_counter() - t0
        done.set()

    worker = threading.Thread(target=fit)
    last, gap = time.perf_counter(), 0.0
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        gap, last = max(gap, now - last), now
    worker.join()
    assert span["fit"] > 0.05, "the fit is too short to tell"
    assert gap < span["fit"] / 2, (gap, span["fit"])
