"""Bucket-level COS requests: PUT, HEAD, DELETE and GET Bucket, GET /?uploads.

How buckets come to exist in the emulator: created by PUT Bucket, named in the server's
``buckets`` list at start (``serve --bucket``, the demo, the soak and the tests name theirs), or
already in the data folder from an earlier run (a bucket is a folder, emulator.cos.store). Every
other bucket is missing, as on COS: HEAD answers 404 without a body, every other request 404
NoSuchBucket ("The specified bucket does not exist.", cos-facts.md 7.2). PUT Bucket answers 200
(empty body) or 409 BucketAlreadyOwnedByYou for a bucket the emulator has (one account owns
them all, so BucketAlreadyExists never happens); DELETE answers 204, or 409 BucketNotEmpty while
objects or unfinished multipart uploads remain (cos-facts.md 7.2). ACLs, bucket tags and MAZ
configuration sent with PUT Bucket are accepted and ignored. Object requests are not answered
here (emulator.cos.api checks their bucket itself).
"""

from __future__ import annotations

from emulator.cos.errors import no_such_bucket
from emulator.cos.listing import list_bucket
from emulator.cos.multipart_list import list_uploads
from emulator.cos.multipart_store import MultipartStore
from emulator.cos.store import ObjectStore
from emulator.wire import ApiRequest, Reply, ServiceError

MAX_CREATE_BODY = 64 * 1024


def create_bucket(store: ObjectStore, request: ApiRequest) -> Reply:
    request.body.read_all(MAX_CREATE_BODY)  # CreateBucketConfiguration (MAZ/OFS): ignored
    if not store.create_bucket(request.bucket):
        raise ServiceError(
            409,
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
    return Reply(200)


def bucket_request(store: ObjectStore, uploads: MultipartStore, request: ApiRequest) -> Reply:
    """Answer a request whose path is ``/``."""
    if request.method == "PUT":
        return create_bucket(store, request)
    if not store.bucket_exists(request.bucket):
        request.body.drain()
        if request.method == "HEAD":
            return Reply(404)  # HEAD answers carry no body
        raise no_such_bucket()
    if request.method == "HEAD":
        return Reply(200, [("x-cos-bucket-region", request.region)])
    if request.method == "GET":
        if request.has_param("uploads"):
            return list_uploads(uploads, request)
        return list_bucket(store, request)
    if request.method == "DELETE":
        if not store.is_empty(request.bucket) or uploads.has_uploads(request.bucket):
            raise ServiceError(
                409, "BucketNotEmpty", "The bucket you tried to delete is not empty."
            )
        store.delete_bucket(request.bucket)
        return Reply(204)
    raise ServiceError(405, "MethodNotAllowed", f"{request.method} on a bucket is not emulated.")
