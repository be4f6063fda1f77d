"""Engine exceptions, each with a stable error code.

The codes are part of the GUI <-> engine protocol: the worker turns any `HourglassError` into a `failed`
event carrying `code`, and the GUI maps codes to help text. Messages are written for the user.
"""

from __future__ import annotations


class ErrorCode:
    INVALID_REQUEST = "invalid_request"
    INPUT_NOT_FOUND = "input_not_found"
    INPUT_UNREADABLE = "input_unreadable"
    UNSUPPORTED_INPUT = "unsupported_input"
    IMAGE_TOO_LARGE = "image_too_large"
    OUTPUT_EXISTS = "output_exists"
    OUTPUT_NOT_WRITABLE = "output_not_writable"
    MODEL_NOT_FOUND = "model_not_found"
    MODEL_INVALID = "model_invalid"
    DEVICE_UNAVAILABLE = "device_unavailable"
    OUT_OF_MEMORY = "out_of_memory"
    CANCELLED = "cancelled"
    BUSY = "busy"
    ENGINE_CRASHED = "engine_crashed"
    INTERNAL = "internal"

    ALL = (
        INVALID_REQUEST, INPUT_NOT_FOUND, INPUT_UNREADABLE, UNSUPPORTED_INPUT, IMAGE_TOO_LARGE,
        OUTPUT_EXISTS, OUTPUT_NOT_WRITABLE, MODEL_NOT_FOUND, MODEL_INVALID, DEVICE_UNAVAILABLE,
        OUT_OF_MEMORY, CANCELLED, BUSY, ENGINE_CRASHED, INTERNAL,
    )


class HourglassError(Exception):
    """Base class: `code` is one of `ErrorCode`, `str(err)` is safe to show to a user."""

    code = ErrorCode.INTERNAL

    def __init__(self, message: str, *, detail: str | None = None):
        super().__init__(message)
        self.detail = detail


class InvalidRequestError(HourglassError):
    """A command that is malformed or refers to something that cannot be done."""

    code = ErrorCode.INVALID_REQUEST


class InputNotFoundError(HourglassError):
    code = ErrorCode.INPUT_NOT_FOUND


class InputUnreadableError(HourglassError):
    """The file exists but cannot be decoded (corrupt, truncated, no permission)."""

    code = ErrorCode.INPUT_UNREADABLE


class UnsupportedInputError(HourglassError):
    code = ErrorCode.UNSUPPORTED_INPUT


class ImageTooLargeError(HourglassError):
    code = ErrorCode.IMAGE_TOO_LARGE


class OutputExistsError(HourglassError):
    code = ErrorCode.OUTPUT_EXISTS


class OutputNotWritableError(HourglassError):
    code = ErrorCode.OUTPUT_NOT_WRITABLE


class ModelNotFoundError(HourglassError):
    code = ErrorCode.MODEL_NOT_FOUND


class ModelInvalidError(HourglassError):
    """A file that is not a DiffUIR checkpoint we accept; the message says what is wrong with it."""

    code = ErrorCode.MODEL_INVALID


class DeviceUnavailableError(HourglassError):
    code = ErrorCode.DEVICE_UNAVAILABLE


class OutOfMemoryError(HourglassError):
    code = ErrorCode.OUT_OF_MEMORY


class Cancelled(HourglassError):
    """Raised at a step or tile boundary when the job's cancel token is set."""

    code = ErrorCode.CANCELLED

    def __init__(self, message: str = "cancelled", **kw):
        super().__init__(message, **kw)
