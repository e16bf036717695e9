from os import PathLike
from typing import Any, Literal, NamedTuple, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from ._estimators import KMeans as KMeans, Pipeline as Pipeline

__version__: str

KMEANS_RANDOM_CENTERS: int
KMEANS_USE_INITIAL_LABELS: int
KMEANS_PP_CENTERS: int
TERM_CRITERIA_MAX_ITER: int
TERM_CRITERIA_COUNT: int
TERM_CRITERIA_EPS: int

_Path = Union[str, PathLike[str]]
_Mapping = Literal["hungarian", "majority"]

def setRNGSeed(seed: int) -> None: ...
def kmeans(
    data: npt.ArrayLike,
    K: int,
    bestLabels: Optional[npt.ArrayLike],
    criteria: tuple[int, int, float],
    attempts: int,
    flags: int,
    centers: Optional[npt.NDArray[np.float32]] = ...,
    *,
    n_threads: Optional[int] = ...,
) -> tuple[float, npt.NDArray[np.int32], npt.NDArray[np.float32]]: ...
def digits() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32]]: ...
def deskew(img: npt.ArrayLike, factor: float = ..., *, n_threads: Optional[int] = ...) -> npt.NDArray[np.uint8]: ...
def hog(images: npt.ArrayLike, *, n_threads: Optional[int] = ...) -> npt.NDArray[np.float32]: ...
def evaluate(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, mapping: _Mapping = ...) -> dict[str, Any]: ...
def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, mapping: _Mapping = ...) -> float: ...
def confusion_matrix(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, mapping: _Mapping = ...) -> npt.NDArray[np.int64]: ...
def nmi(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float: ...
def ari(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float: ...

class Loaded(NamedTuple):
    X: npt.NDArray[Any]
    y: Optional[npt.NDArray[np.int32]]
    class_names: Optional[list[str]]

def load(
    path: _Path,
    *,
    labels: Optional[_Path] = ...,
    format: Literal["auto", "grid", "npy", "idx", "folder", "csv"] = ...,
    shape: Union[None, str, Sequence[int]] = ...,
    size: Union[None, str, Sequence[int]] = ...,
    cell: int = ...,
    classes: Optional[int] = ...,
    label_column: Optional[str] = ...,
    n_threads: Optional[int] = ...,
) -> Loaded: ...
def read_rgb(path: _Path) -> npt.NDArray[np.uint8]: ...

class Quantized(NamedTuple):
    image: npt.NDArray[np.uint8]
    palette: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.int32]
    compactness: float

def quantize(
    image: npt.NDArray[np.uint8],
    k: int = ...,
    *,
    attempts: int = ...,
    max_iter: int = ...,
    epsilon: float = ...,
    init: Literal["random", "k-means++"] = ...,
    seed: Optional[int] = ...,
    max_samples: int = ...,
    n_threads: Optional[int] = ...,
) -> Quantized: ...
