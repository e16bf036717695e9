"""The estimators: ``KMeans`` (scikit-learn's interface over the fast engine) and
``Pipeline`` (the command line's fitted pipelines).

With scikit-learn installed they derive from its ``BaseEstimator``, ``ClusterMixin`` and
``TransformerMixin`` (cloning, ``get_params``/``set_params``, grid search, pipelines, and
scikit-learn's input validation); without it, from a small base with the same
``get_params``/``set_params``, so that fitting never needs scikit-learn.
"""

from __future__ import annotations

import inspect
import numbers
import os

import numpy as np

from . import _arrays
from . import _imgcluster as _ext

try:
    from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import (
        _check_sample_weight,
        check_is_fitted,
        validate_data,
    )

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised where scikit-learn is absent
    HAVE_SKLEARN = False

    class BaseEstimator:
        """``get_params``/``set_params`` as scikit-learn's (its parameters are the
        ``__init__`` arguments, stored under their names)."""

        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values()
                          if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"Invalid parameter {key!r} for estimator {self!r}")
                setattr(self, key, value)
            return self

        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class ClusterMixin:
        """``fit_predict``: the labels of a fit."""

        def fit_predict(self, X, y=None, **kwargs):
            self.fit(X, **kwargs)
            return self.labels_

    class TransformerMixin:
        """``fit_transform``: fit, then transform."""

        def fit_transform(self, X, y=None, **kwargs):
            return self.fit(X, **kwargs).transform(X)

    def check_random_state(seed):
        if seed is None or seed is np.random:
            return np.random.mtrand._rand
        if isinstance(seed, numbers.Integral):
            return np.random.RandomState(seed)
        if isinstance(seed, np.random.RandomState):
            return seed
        raise ValueError(f"random_state: {seed!r} cannot seed a numpy.random.RandomState")

    def check_is_fitted(estimator, attributes=None):
        if not hasattr(estimator, "cluster_centers_") and not hasattr(estimator, "model_"):
            raise AttributeError(
                f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator.")


def _checked(estimator, X, *, reset: bool):
    """``X`` validated (scikit-learn's rules and messages when it is installed) and
    narrowed to the engine's ``uint8``/``float32`` without copying those."""
    if HAVE_SKLEARN:
        X = validate_data(estimator, X, reset=reset, dtype="numeric", accept_sparse=False,
                          order="C")
    else:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X: expected a 2-D array, got {X.ndim} dimension(s)")
        if reset:
            estimator.n_features_in_ = X.shape[1]
        elif X.shape[1] != estimator.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
                f"expecting {estimator.n_features_in_} features as input.")
    return _arrays.samples(X, "X")


def _weights(sample_weight, X):
    if sample_weight is None:
        return None
    if HAVE_SKLEARN:
        w = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                 ensure_non_negative=True, copy=True)
    else:
        w = np.array(sample_weight, dtype=np.float64).reshape(-1)
        if w.shape[0] != X.shape[0]:
            raise ValueError(
                f"sample_weight: {w.shape[0]} weights for {X.shape[0]} samples")
    return np.ascontiguousarray(w)


def _mean_variance(X) -> float:
    """The mean over features of the variance of each, in float64, a block of rows at a
    time (never a float copy of the whole data)."""
    n, d = X.shape
    step = max(1, (1 << 22) // max(d, 1))
    total = np.zeros(d)
    for i in range(0, n, step):
        total += X[i:i + step].sum(axis=0, dtype=np.float64)
    mean = total / n
    sq = np.zeros(d)
    for i in range(0, n, step):
        block = X[i:i + step].astype(np.float64) - mean
        sq += np.einsum("ij,ij->j", block, block)
    return float(np.mean(sq / n))


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means with scikit-learn's interface over imgcluster's fast engine.

    Lloyd's algorithm to its fixed point (until no label changes or no center moves more
    than ``tol`` allows), pruned with distance bounds that never change a label; or
    mini-batch k-means (``algorithm="minibatch"``, scikit-learn's ``MiniBatchKMeans``).

    Parameters
    ----------
    n_clusters : int, default=8
    init : {"k-means++", "random"} or array of shape (n_clusters, n_features)
        ``"k-means++"``: greedy k-means++ (2 + log k trials per center, as scikit-learn);
        ``"random"``: ``n_clusters`` distinct samples drawn at random (by weight).
    n_init : "auto" or int, default="auto"
        Runs from different seeds; the best inertia is kept. ``"auto"``: 1 for
        ``"k-means++"`` and an array, 10 for ``"random"`` (as scikit-learn).
    max_iter : int, default=300
        Iterations at most (epochs for mini-batch).
    tol : float, default=1e-4
        Relative to the data's mean feature variance ``v``: a run also stops once no
        center moves farther than ``sqrt(tol * v)``. 0 stops only when no label changes.
        For mini-batch, scikit-learn's ``tol`` of ``MiniBatchKMeans``.
    random_state : None, int or numpy RandomState
        Seeds the engine's generator (one draw from it per fit).
    algorithm : {"lloyd", "minibatch"}, default="lloyd"
    batch_size : int, default=1024
        Mini-batch only.
    n_threads : int or None, default=None
        Worker threads (None: every core). Results never depend on it.

    Attributes
    ----------
    cluster_centers_ : ndarray (n_clusters, n_features), float32
    labels_ : ndarray (n_samples,), int32
    inertia_ : float
        Sum of squared distances to the closest center, weighted by ``sample_weight``.
    n_iter_ : int
        Iterations of the best run (mini-batch: epochs, with ``n_steps_`` steps).
    n_features_in_ : int

    Input: ``uint8`` and ``float32`` arrays in C order are read in place (no float copy of
    byte images); other dtypes are converted once to ``float32`` (whole numbers 0..255 to
    ``uint8``). ``sample_weight`` weighs each sample's pull on its center, its share of
    the inertia, and its chance to be drawn as an initial center.
    """

    def __init__(self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300,
                 tol=1e-4, random_state=None, algorithm="lloyd", batch_size=1024,
                 n_threads=None):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.algorithm = algorithm
        self.batch_size = batch_size
        self.n_threads = n_threads

    def _settings(self, X):
        k = _arrays.whole(self.n_clusters, "n_clusters", minimum=1)
        if X.shape[0] < k:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={k}.")
        init, centers = self.init, None
        if isinstance(init, str):
            if init not in ("k-means++", "random"):
                raise ValueError(f"init: {init!r} is not 'k-means++', 'random' or an array")
        elif callable(init):
            raise ValueError("init: a callable is not supported; pass its centers as an array")
        else:
            centers = np.ascontiguousarray(np.asarray(init, dtype=np.float32))
            if centers.ndim != 2:
                raise ValueError(f"init: expected an array (n_clusters, n_features), "
                                 f"got shape {centers.shape}")
            init = "array"
        if self.n_init == "auto":
            n_init = 10 if init == "random" else 1
        else:
            n_init = _arrays.whole(self.n_init, "n_init", minimum=1)
            if init == "array":
                n_init = 1
        max_iter = _arrays.whole(self.max_iter, "max_iter", minimum=1)
        if not isinstance(self.tol, numbers.Real) or not self.tol >= 0:
            raise ValueError(f"tol: expected a non-negative number, got {self.tol!r}")
        if self.algorithm not in ("lloyd", "minibatch"):
            raise ValueError(f"algorithm: {self.algorithm!r} is not 'lloyd' or 'minibatch'")
        batch = _arrays.whole(self.batch_size, "batch_size", minimum=1)
        return k, init, centers, n_init, max_iter, batch

    def fit(self, X, y=None, sample_weight=None):
        """Clusters ``X`` (n_samples × n_features); ``y`` is ignored."""
        X = _checked(self, X, reset=True)
        k, init, centers, n_init, max_iter, batch = self._settings(X)
        w = _weights(sample_weight, X)
        seed = int(check_random_state(self.random_state).randint(1, np.iinfo(np.int32).max))
        tol = float(self.tol)
        epsilon = None
        if self.algorithm == "lloyd" and tol > 0:
            epsilon = float(np.sqrt(tol * _mean_variance(X)))
            if epsilon == 0.0:
                epsilon = None
        labels, centers_out, inertia, n_iter, steps = _ext.fit(
            X, k, init, centers, n_init, max_iter, epsilon, seed, w, self.algorithm, batch,
            tol, _arrays.threads(self.n_threads))
        self.labels_ = labels
        self.cluster_centers_ = centers_out
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        if self.algorithm == "minibatch":
            self.n_steps_ = int(steps)
        return self

    def predict(self, X):
        """The closest center of every sample (``int32``)."""
        check_is_fitted(self)
        X = _checked(self, X, reset=False)
        return _ext.nearest(X, self.cluster_centers_, _arrays.threads(self.n_threads))[0]

    def transform(self, X):
        """Euclidean distances to every center (n_samples × n_clusters, ``float64``)."""
        check_is_fitted(self)
        X = _checked(self, X, reset=False)
        return _ext.distances(X, self.cluster_centers_, _arrays.threads(self.n_threads))

    def score(self, X, y=None, sample_weight=None):
        """Minus the (weighted) sum of squared distances to the closest centers."""
        check_is_fitted(self)
        X = _checked(self, X, reset=False)
        w = _weights(sample_weight, X)
        d = _ext.nearest(X, self.cluster_centers_, _arrays.threads(self.n_threads))[1]
        return -float(d @ w if w is not None else d.sum())

    if HAVE_SKLEARN:
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.sparse = False
            return tags


class Pipeline(ClusterMixin, BaseEstimator):
    """A pipeline of the command line, fitted: ``tutorial-raw``, ``tutorial-deskew``,
    ``hog`` or ``best`` (HOG → PCA → kNN graph → spectral embedding → k-means++, deskew
    decided by the data), exactly as ``imgcluster classify --pipeline P`` fits it.

    ``fit(X, y=None)``: ``X`` is N×H×W ``uint8`` images (or N×D rows with
    ``image_shape=(H, W)``; the pixel pipeline also takes plain vectors); with classes
    ``y`` it also learns the cluster → class mapping (Hungarian matching when there are as
    many clusters as classes). ``predict`` gives clusters, ``predict_class`` classes,
    ``transform`` what k-means sees. ``save``/``load`` write and read the model files of
    ``classify --model-out`` and ``predict --model``. ``random_state``: as ``--seed``,
    ``cv2.setRNGSeed(random_state)`` before fitting (None: OpenCV's default state).
    The input is copied once into the data set the stages read.
    """

    def __init__(self, preset="best", n_clusters=10, *, image_shape=None, random_state=None,
                 n_threads=None):
        self.preset = preset
        self.n_clusters = n_clusters
        self.image_shape = image_shape
        self.random_state = random_state
        self.n_threads = n_threads

    def _input(self, X):
        a = np.asarray(X)
        if a.ndim == 3:
            return _arrays.images(a, "X")[0]
        return _arrays.samples(a, "X")

    def fit(self, X, y=None):
        """Fits every stage and the k-means of the pipeline to ``X``."""
        k = _arrays.whole(self.n_clusters, "n_clusters", minimum=1)
        seed = None
        if self.random_state is not None:
            seed = _arrays.whole(self.random_state, "random_state", minimum=-(2**31))
        x = self._input(X)
        shape = None
        if self.image_shape is not None:
            h, w = self.image_shape
            shape = (_arrays.whole(h, "image_shape", minimum=1),
                     _arrays.whole(w, "image_shape", minimum=1))
        classes = index = names = None
        n_classes = 0
        if y is not None:
            classes, index = _arrays.class_indices(y, "y", x.shape[0])
            n_classes = len(classes)
            names = [str(c) for c in classes]
        self.model_ = _ext.fit_pipeline(self.preset, k, x, shape, index, n_classes, names,
                                        seed, _arrays.threads(self.n_threads))
        self.labels_ = self.model_.training_labels
        self.cluster_centers_ = self.model_.centers
        if classes is not None:
            self.classes_ = classes
        return self

    def _model(self):
        if not hasattr(self, "model_"):
            raise AttributeError(
                "This Pipeline instance is not fitted yet. Call 'fit' or Pipeline.load "
                "before using it.")
        return self.model_

    def predict(self, X):
        """The cluster of every sample (``int32``)."""
        return self._model().predict(self._input(X), _arrays.threads(self.n_threads))[0]

    def predict_class(self, X):
        """The class of every sample: the class values given to ``fit`` (or, for a loaded
        model, its class names)."""
        m = self._model()
        _, classes, _, _ = m.predict(self._input(X), _arrays.threads(self.n_threads))
        if classes is None:
            raise ValueError("X: the model has no classes (fit it with y)")
        values = getattr(self, "classes_", None)
        if values is None:
            values = np.asarray(m.class_names) if m.class_names is not None else None
        return classes if values is None else values[classes]

    def predict_details(self, X):
        """Clusters, classes (or None), distances to the nearest center, and whether each
        sample is out of the distribution the model was fitted on, as ``imgcluster
        predict`` reports them."""
        return self._model().predict(self._input(X), _arrays.threads(self.n_threads))

    def transform(self, X):
        """What k-means sees of every sample: N × dims ``float32``."""
        return self._model().transform(self._input(X), _arrays.threads(self.n_threads))

    def save(self, path):
        """Writes the model file (as ``classify --model-out``)."""
        self._model().save(os.fspath(path))

    @classmethod
    def load(cls, path, *, n_threads=None):
        """Reads a model file written by ``save`` or ``classify --model-out``."""
        model = _ext.FittedPipeline.load(os.fspath(path))
        return cls._of(model, n_threads)

    @classmethod
    def _of(cls, model, n_threads):
        est = cls(preset=None, n_clusters=model.k, image_shape=model.image_shape,
                  n_threads=n_threads)
        est.model_ = model
        est.cluster_centers_ = model.centers
        labels = model.training_labels
        if labels is not None:
            est.labels_ = labels
        return est

    def __getstate__(self):
        state = self.__dict__.copy()
        if "model_" in state:
            state["model_"] = state["model_"].to_bytes()
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state["model_"] = _ext.FittedPipeline.from_bytes(state["model_"])
        self.__dict__.update(state)
