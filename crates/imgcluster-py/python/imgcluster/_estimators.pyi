from os import PathLike
from typing import Any, Literal, Optional, Union

import numpy as np
import numpy.typing as npt

from ._imgcluster import FittedPipeline

class KMeans:
    n_clusters: int
    init: Union[Literal["k-means++", "random"], npt.ArrayLike]
    n_init: Union[Literal["auto"], int]
    max_iter: int
    tol: float
    random_state: Any
    algorithm: Literal["lloyd", "minibatch"]
    batch_size: int
    n_threads: Optional[int]
    cluster_centers_: npt.NDArray[np.float32]
    labels_: npt.NDArray[np.int32]
    inertia_: float
    n_iter_: int
    n_steps_: int
    n_features_in_: int
    def __init__(
        self,
        n_clusters: int = ...,
        *,
        init: Union[Literal["k-means++", "random"], npt.ArrayLike] = ...,
        n_init: Union[Literal["auto"], int] = ...,
        max_iter: int = ...,
        tol: float = ...,
        random_state: Any = ...,
        algorithm: Literal["lloyd", "minibatch"] = ...,
        batch_size: int = ...,
        n_threads: Optional[int] = ...,
    ) -> None: ...
    def fit(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> KMeans: ...
    def fit_predict(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> npt.NDArray[np.int32]: ...
    def fit_transform(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> npt.NDArray[np.float64]: ...
    def predict(self, X: npt.ArrayLike) -> npt.NDArray[np.int32]: ...
    def transform(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def score(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> float: ...
    def get_params(self, deep: bool = ...) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> KMeans: ...

class Pipeline:
    preset: Optional[Literal["tutorial-raw", "tutorial-deskew", "hog", "best"]]
    n_clusters: int
    image_shape: Optional[tuple[int, int]]
    random_state: Optional[int]
    n_threads: Optional[int]
    model_: FittedPipeline
    labels_: npt.NDArray[np.int32]
    cluster_centers_: npt.NDArray[np.float32]
    classes_: npt.NDArray[Any]
    def __init__(
        self,
        preset: Optional[Literal["tutorial-raw", "tutorial-deskew", "hog", "best"]] = ...,
        n_clusters: int = ...,
        *,
        image_shape: Optional[tuple[int, int]] = ...,
        random_state: Optional[int] = ...,
        n_threads: Optional[int] = ...,
    ) -> None: ...
    def fit(self, X: npt.ArrayLike, y: Optional[npt.ArrayLike] = ...) -> Pipeline: ...
    def fit_predict(self, X: npt.ArrayLike, y: Optional[npt.ArrayLike] = ...) -> npt.NDArray[np.int32]: ...
    def predict(self, X: npt.ArrayLike) -> npt.NDArray[np.int32]: ...
    def predict_class(self, X: npt.ArrayLike) -> npt.NDArray[Any]: ...
    def predict_details(self, X: npt.ArrayLike) -> tuple[npt.NDArray[np.int32], Optional[npt.NDArray[np.int32]], npt.NDArray[np.float64], npt.NDArray[np.bool_]]: ...
    def transform(self, X: npt.ArrayLike) -> npt.NDArray[np.float32]: ...
    def save(self, path: Union[str, PathLike[str]]) -> None: ...
    @classmethod
    def load(cls, path: Union[str, PathLike[str]], *, n_threads: Optional[int] = ...) -> Pipeline: ...
    def get_params(self, deep: bool = ...) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Pipeline: ...
