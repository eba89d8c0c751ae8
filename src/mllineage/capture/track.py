"""``@mllineage.track``: record each call of a function as a run.

The decorator names which parameters hold input paths/URIs and which hold output paths (the
function writes them); ``"return"`` among the outputs records the return value (a path or
URI, or a list or tuple of them). Every other argument with a simple value (str, int, float,
bool, None) is recorded as a param.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

from mllineage.api.entities import Context
from mllineage.api.session import Session
from mllineage.capture.run import Run

P = ParamSpec("P")
R = TypeVar("R")
RETURN = "return"
_SIMPLE = (str, int, float, bool, type(None))


def _paths(value: Any) -> list[str | os.PathLike[str]]:
    """The paths/URIs an argument or return value holds (none for ``None``)."""
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, os.PathLike)) for v in value):
        return list(value)
    raise ValueError(f"expected a path or URI (or a list of them), got {type(value).__name__}")


def _is_paths(value: Any) -> bool:
    try:
        _paths(value)
    except ValueError:
        return False
    return True


def _check_names(
    signature: inspect.Signature, names: Sequence[str], arg: str, allow_return: bool
) -> list[str]:
    if isinstance(names, str):
        names = [names]
    for name in names:
        if name == RETURN and allow_return:
            continue
        if name not in signature.parameters:
            raise ValueError(f"{arg} names {name!r}, which is no parameter of the function")
    return list(names)


def track(
    name: str | None = None,
    *,
    inputs: Iterable[str] = (),
    outputs: Iterable[str] | None = None,
    type: str = "Training",
    context: str | Context | None = None,
    code: bool | str | os.PathLike[str] = True,
    sagemaker_session: Session | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Record every call of the decorated function as a run (see :func:`mllineage.run`).

    Args:
        name: the run name (default: the function's qualified name).
        inputs: names of the parameters holding input paths or URIs.
        outputs: names of the parameters holding output paths the function writes, and
            ``"return"`` for its return value. Default: the return value when it is a path
            or URI (or a list of them), else nothing.
        type, context, code, sagemaker_session: as for :func:`mllineage.run`.

    Example:
        >>> @mllineage.track(inputs=["source"], outputs=["target"])
        ... def prepare(source, target, fraction=0.5): ...
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn)
        in_names = _check_names(signature, list(inputs), "inputs", allow_return=False)
        lenient = outputs is None
        out_names = _check_names(signature, list(outputs or [RETURN]), "outputs", True)
        run_name = name or fn.__qualname__

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            params = {
                key: value
                for key, value in given.items()
                if key not in in_names and key not in out_names and isinstance(value, _SIMPLE)
            }
            sources = [p for key in in_names for p in _paths(given[key])]
            with Run(
                run_name,
                type=type,
                inputs=sources,
                params=params,
                context=context,
                code=code,
                sagemaker_session=sagemaker_session,
            ) as run:
                result = fn(*args, **kwargs)
                for key in out_names:
                    value = result if key == RETURN else given[key]
                    if lenient and not _is_paths(value):
                        continue
                    for path in _paths(value):
                        run.output(path)
            return result

        return wrapper

    return decorate
