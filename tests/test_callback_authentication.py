"""shared.callback.authentication and shared.contract.object_key: where the token is read from,
which secret and which reading of the key verified, and that there are never more than two."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from shared.callback.authentication import authenticate, presented_token
from shared.callback.http_event import HttpRequest
from shared.contract.object_key import DECODED, RAW, decoded_key, key_forms, names_key
from shared.errors import ForbiddenError, UnauthorizedError
from shared.models import CallbackNotice, Job, JobInput
from tests.callback_helpers import BUCKET, KEY, REGION, SECRET, token_for, token_v2_for

OLD = "an-old-secret-0123456789abcdefghijklmn"
HOSTILE = "视频/a b+c 100%#1.mp4"


def request(path: str = "/", query: str | None = None) -> HttpRequest:
    return HttpRequest(method="POST", path=path, query={} if query is None else {"token": query})


def notice(*keys: str, region: str = REGION) -> CallbackNotice:
    jobs = tuple(Job(f"j{i}", "Success", "MediaInfo", input=JobInput(BUCKET, key, region))
                 for i, key in enumerate(keys))  # fmt: skip
    return CallbackNotice("TaskFinish", jobs)


@pytest.mark.parametrize(
    ("path", "query", "kind"),
    [
        ("/v2.x", None, "malformed-path"),
        ("/", " tok ", "malformed-query"),
        ("/cb/" + token_v2_for(REGION, BUCKET, KEY), None, "v2-path"),
        ("/", token_for(BUCKET, KEY), "v1-query"),
        ("/" + token_v2_for(REGION, BUCKET, KEY), token_v2_for(REGION, BUCKET, KEY), "v2-path"),
    ],
)
def test_where_the_token_is_read_from(path: str, query: str | None, kind: str) -> None:
    assert presented_token(request(path, query)).kind == kind


@pytest.mark.parametrize(
    ("path", "query"), [("/", None), ("/", "  "), ("/cb", ""), ("/v3.x", None)]
)
def test_no_token_at_all_is_unauthorized(path: str, query: str | None) -> None:
    with pytest.raises(UnauthorizedError, match="missing"):
        presented_token(request(path, query))


def test_two_different_tokens_are_forbidden_even_when_both_are_valid() -> None:
    both = request("/" + token_v2_for(REGION, BUCKET, KEY), token_for(BUCKET, KEY))
    with pytest.raises(ForbiddenError, match="different callback tokens"):
        presented_token(both)


def test_every_claim_must_verify_and_says_how() -> None:
    token = presented_token(request("/" + token_v2_for(REGION, BUCKET, HOSTILE, secret=OLD)))
    auth = authenticate(notice(quote(HOSTILE)), token, (SECRET, OLD))
    (verdict,) = auth.verdicts.values()
    assert (verdict.address_key, verdict.key_form, verdict.verified_by) == (
        HOSTILE,
        DECODED,
        "previous-1",
    )
    with pytest.raises(ForbiddenError, match="does not match"):
        authenticate(notice(quote(HOSTILE), "videos/other.mp4"), token, (SECRET, OLD))
    with pytest.raises(ForbiddenError, match="does not match"):
        authenticate(notice(quote(HOSTILE), region="ap-shanghai"), token, (SECRET, OLD))


def test_a_notice_that_claims_nothing_authenticates_nothing() -> None:
    token = presented_token(request("/", "garbage"))
    assert authenticate(CallbackNotice("TaskFinish", ()), token, (SECRET,)).verdicts == {}


@pytest.mark.parametrize(
    ("key", "forms"),
    [
        ("videos/plain.mp4", ((RAW, "videos/plain.mp4"),)),
        ("a%20b.mp4", ((RAW, "a%20b.mp4"), (DECODED, "a b.mp4"))),
        ("a+b%2B.mp4", ((RAW, "a+b%2B.mp4"), (DECODED, "a+b+.mp4"))),  # '+' is never a space
        ("100%.mp4", ((RAW, "100%.mp4"),)),  # no escape: nothing to decode
        ("bad%FF.mp4", ((RAW, "bad%FF.mp4"),)),  # not UTF-8: no decoded reading
        ("%25%32%30", ((RAW, "%25%32%30"), (DECODED, "%20"))),  # decoded once, never twice
    ],
)
def test_a_key_has_at_most_two_readings(key: str, forms: tuple[tuple[str, str], ...]) -> None:
    assert key_forms(key) == forms
    assert len(key_forms(key)) <= 2


def test_an_echoed_key_names_the_object_raw_or_decoded() -> None:
    assert names_key(quote(HOSTILE), HOSTILE)
    assert names_key(HOSTILE, HOSTILE)
    assert not names_key(quote(quote(HOSTILE)), HOSTILE)
    assert not names_key(None, HOSTILE)
    assert decoded_key("%") is None
