"""The error hierarchy: every store rule violation is a :class:`ClientError`.

``mllineage.ClientError`` subclasses botocore's ``ClientError``, so code written for boto3
(``except botocore.exceptions.ClientError``, ``e.response["Error"]["Code"]``) keeps working.
Each subclass carries its AWS error code and HTTP status; the server answers with them and the
HTTP store maps codes back to the same classes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import ClientError as BotocoreClientError


class ClientError(BotocoreClientError):
    """A lineage store refused a call; ``response["Error"]["Code"]`` says why."""

    code: ClassVar[str] = "InternalFailure"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, operation_name: str = "Unknown") -> None:
        response: dict[str, Any] = {
            "Error": {"Code": self.code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": self.http_status},
        }
        super().__init__(response, operation_name)  # type: ignore[arg-type]
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.operation_name))


class ValidationException(ClientError):
    """A request broke a rule: a length, a pattern, a duplicate, a cycle."""

    code = "ValidationException"
    http_status = 400


class ResourceNotFound(ClientError):
    """An ARN or name that does not exist (or belongs to another account)."""

    code = "ResourceNotFound"
    http_status = 400


class ResourceLimitExceeded(ClientError):
    """A limit of the spec was reached: associations per entity, query size or time."""

    code = "ResourceLimitExceeded"
    http_status = 400


class ConflictException(ClientError):
    """The call raced another writer and could not be applied; retrying is safe."""

    code = "ConflictException"
    http_status = 400


class InternalFailure(ClientError):
    """The store failed in a way that is not the caller's fault."""

    code = "InternalFailure"
    http_status = 500


ERROR_CLASSES: dict[str, type[ClientError]] = {
    cls.code: cls
    for cls in (
        ValidationException,
        ResourceNotFound,
        ResourceLimitExceeded,
        ConflictException,
        InternalFailure,
    )
}


def error_for_code(code: str, message: str, operation_name: str = "Unknown") -> ClientError:
    """Build the :class:`ClientError` subclass that matches an AWS error code."""
    cls = ERROR_CLASSES.get(code)
    if cls is None:
        cls = type(code, (ClientError,), {"code": code, "http_status": 400})
    return cls(message, operation_name)
