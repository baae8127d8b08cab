"""The COS error answers several emulator.cos modules raise (404s of missing things).

Codes and messages: NoSuchKey and NoSuchBucket as COS sends them (cos-facts.md 7.2, 12.1);
NoSuchUpload's exact message is UNCERTAIN for COS (cos-facts.md 12.1), S3's wording is used.
This module only builds ``ServiceError`` values.
"""

from __future__ import annotations

from emulator.wire import ServiceError


def no_such_key() -> ServiceError:
    return ServiceError(404, "NoSuchKey", "The specified key does not exist.")


def no_such_bucket() -> ServiceError:
    return ServiceError(404, "NoSuchBucket", "The specified bucket does not exist.")


def no_such_upload() -> ServiceError:
    return ServiceError(
        404,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed.",
    )
