"""scikit-learn: record every ``fit`` as a run, with its dataset and the fitted model.

``mllineage.capture.sklearn.autolog()`` wraps the ``fit`` method of every scikit-learn
estimator class, those defined already (found through ``BaseEstimator.__subclasses__()``, so
nothing more is imported) and those defined later (through ``__init_subclass__``). A call of
``fit`` then records a ``Training`` run named after the estimator class:

- params: the estimator's own ``get_params(deep=False)`` that are simple values;
- input: the training data, a ``Dataset`` artifact identified by the sha256 of its content
  (``X`` and ``y``: dtype, shape and bytes of numpy arrays; pandas' own row hashes and the
  column names of DataFrames), source URI ``mllineage://datasets/sha256/<hex>``;
- output: the fitted estimator saved with ``joblib`` in ``model_dir`` as
  ``<run action name>.joblib``, a ``Model`` artifact.

A ``fit`` called by another ``fit`` (a Pipeline's steps, a grid search's candidates) is part
of the outer one and not recorded on its own. Inside a ``with mllineage.run(...)`` block a
fit is a nested run. ``autolog(disable=True)`` puts every method back.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import os
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mllineage.api.session import Session
from mllineage.capture.artifacts import default_model_dir
from mllineage.capture.run import Run

_in_fit: contextvars.ContextVar[bool] = contextvars.ContextVar("mllineage_in_fit", default=False)
_SIMPLE = (str, int, float, bool, type(None))


class _State:
    """What ``autolog`` changed, so ``disable=True`` can put it back."""

    def __init__(self) -> None:
        self.patched: dict[type, Callable[..., Any]] = {}
        self.init_subclass: Any = None
        self.options: dict[str, Any] = {}


_state = _State()


def _update_with(digest: Any, data: Any) -> None:
    import numpy as np

    if data is None:
        digest.update(b"none")
        return
    if type(data).__module__.startswith("pandas") and _update_with_frame(digest, data):
        return
    if hasattr(data, "tocsr"):  # a scipy sparse matrix
        data = data.tocsr()
        for part in (data.data, data.indices, data.indptr):
            _update_with(digest, part)
        digest.update(repr(data.shape).encode())
        return
    array = np.asarray(data)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    if array.dtype == object:
        digest.update(pickle.dumps(array.tolist()))
    else:
        digest.update(np.ascontiguousarray(array).tobytes())


def _update_with_frame(digest: Any, data: Any) -> bool:
    """Hash a DataFrame or Series (column names, dtypes, pandas' row hashes); False for
    other pandas objects. (pandas is imported only when the data is pandas'.)"""
    import pandas as pd

    if not isinstance(data, (pd.DataFrame, pd.Series)):
        return False
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
    return True


def dataset_uri(X: Any, y: Any = None) -> str:
    """``mllineage://datasets/sha256/<hex>`` of the training data ``X`` (and ``y``)."""
    digest = hashlib.sha256()
    _update_with(digest, X)
    _update_with(digest, y)
    return f"mllineage://datasets/sha256/{digest.hexdigest()}"


def _shape(X: Any) -> dict[str, str]:
    shape = getattr(X, "shape", None)
    if shape is None:
        return {"rows": str(len(X))} if hasattr(X, "__len__") else {}
    return {"rows": str(shape[0]), **({"features": str(shape[1])} if len(shape) > 1 else {})}


def _data(args: Any, kwargs: Any) -> tuple[Any, Any]:
    """The training data of a ``fit`` call: ``fit(X, y=None, ...)`` for most estimators,
    ``fit(y)`` for a few (``LabelEncoder``)."""
    if args:
        return args[0], args[1] if len(args) > 1 else kwargs.get("y")
    if "X" in kwargs:
        return kwargs["X"], kwargs.get("y")
    return kwargs.get("y"), None


def _record(fit: Callable[..., Any], estimator: Any, args: Any, kwargs: Any) -> Any:
    X, y = _data(args, kwargs)
    options = _state.options
    params = {k: v for k, v in estimator.get_params(deep=False).items() if isinstance(v, _SIMPLE)}
    with Run(
        type(estimator).__name__,
        params=params,
        context=options.get("context"),
        code=options.get("code", True),
        sagemaker_session=options.get("sagemaker_session"),
    ) as run:
        run.input(dataset_uri(X, y), name="training data", properties=_shape(X))
        result = fit(estimator, *args, **kwargs)
        path = _save(estimator, run)
        if path is not None:
            run.output(
                path, artifact_type="Model", properties={"estimator": type(estimator).__name__}
            )
    return result


def _save(estimator: Any, run: Run) -> Path | None:
    """Save the fitted model with joblib; a model that cannot be pickled (a class defined in
    a function, say) is recorded without it, with a warning, and its fit still succeeds."""
    import joblib

    model_dir = Path(_state.options.get("model_dir") or default_model_dir())
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / f"{run.action.action_name if run.action else run.run_id}.joblib"
    try:
        joblib.dump(estimator, path)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        path.unlink(missing_ok=True)
        warnings.warn(f"model of run {run.arn} not saved: {error}", RuntimeWarning, stacklevel=4)
        return None
    return path


def _wrap(cls: type) -> None:
    original = cls.__dict__.get("fit")
    if original is None or cls in _state.patched or getattr(original, "_mllineage", False):
        return

    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _in_fit.get():
            return original(self, *args, **kwargs)
        token = _in_fit.set(True)
        try:
            return _record(original, self, args, kwargs)
        finally:
            _in_fit.reset(token)

    fit._mllineage = True  # type: ignore[attr-defined]
    _state.patched[cls] = original
    cls.fit = fit  # type: ignore[attr-defined]


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    stack: list[type] = [cls]
    while stack:
        subclasses: list[type] = type.__subclasses__(stack.pop())
        found += subclasses
        stack += subclasses
    return found


def autolog(
    *,
    model_dir: str | os.PathLike[str] | None = None,
    context: str | None = None,
    code: bool | str | os.PathLike[str] = True,
    sagemaker_session: Session | None = None,
    disable: bool = False,
) -> None:
    """Record every scikit-learn ``fit`` as a run (see the module docstring).

    Args:
        model_dir: where fitted models are saved (default :func:`default_model_dir`).
        context, code, sagemaker_session: as for :func:`mllineage.run`.
        disable: undo an earlier ``autolog()``.

    Example:
        >>> from mllineage.capture import sklearn as lineage_sklearn
        >>> lineage_sklearn.autolog(model_dir="models")
        >>> LogisticRegression().fit(X, y)  # recorded
    """
    from sklearn.base import BaseEstimator

    if disable:
        for cls, original in _state.patched.items():
            cls.fit = original  # type: ignore[attr-defined]
        _state.patched.clear()
        if _state.init_subclass is _NO_OWN:
            del BaseEstimator.__init_subclass__
        elif _state.init_subclass is not None:
            BaseEstimator.__init_subclass__ = _state.init_subclass
        _state.init_subclass = None
        return
    _state.options = {
        "model_dir": model_dir,
        "context": context,
        "code": code,
        "sagemaker_session": sagemaker_session,
    }
    for cls in _subclasses(BaseEstimator):
        _wrap(cls)
    if _state.init_subclass is None:
        _install_subclass_hook(BaseEstimator)


#: Marks that BaseEstimator had no ``__init_subclass__`` of its own before autolog.
_NO_OWN = object()


def _install_subclass_hook(base: type) -> None:
    own = base.__dict__.get("__init_subclass__")
    _state.init_subclass = own if own is not None else _NO_OWN

    def hook(cls: type, /, **kwargs: Any) -> None:
        if own is not None:
            own.__get__(None, cls)(**kwargs)
        else:
            getattr(super(base, cls), "__init_subclass__")(**kwargs)  # noqa: B009
        _wrap(cls)

    base.__init_subclass__ = classmethod(hook)  # type: ignore[assignment]
