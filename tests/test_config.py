"""Settings: defaults, parsing, and a ConfigError naming the variable for every bad value."""

from __future__ import annotations

import re

import pytest

from shared.errors import ConfigError
from shared.records import FrozenRecordError
from shared.settings import functions as config
from shared.settings.functions import (
    CallbackSettings,
    UploadSettings,
    load_callback_settings,
    load_upload_settings,
)
from shared.settings.reconcile import load_reconcile_settings

SECRET = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-0123"  # 32 characters
BASE = {
    "MEDIA_TAGGER_CALLBACK_URL": "https://1250000000-abcdefgh.ap-guangzhou.tencentscf.com/",
    "MEDIA_TAGGER_CALLBACK_SECRET": SECRET,
}


def upload(**extra: str) -> UploadSettings:
    return load_upload_settings({**BASE, **extra})


def callback(**extra: str) -> CallbackSettings:
    return load_callback_settings({"MEDIA_TAGGER_CALLBACK_SECRET": SECRET, **extra})


def test_upload_defaults() -> None:
    settings = upload()
    assert settings.callback_url == BASE["MEDIA_TAGGER_CALLBACK_URL"]
    assert settings.callback_secret == SECRET
    assert settings.callback_format == "JSON"
    assert settings.job_level == 0
    assert settings.include_prefixes == ()
    assert settings.exclude_prefixes == ()
    assert settings.idempotency_check is False  # docs "Costs": a duplicate job costs less
    assert settings.concurrency == 8
    assert settings.hand_on_max_age_s == 24 * 3600
    assert settings.hand_on_backoff_s == 2.0
    assert settings.tag_prefix == "media:"
    assert settings.endpoint_url is None
    assert settings.max_attempts == 4
    assert settings.log_level == "INFO"
    assert settings.extensions is not None
    for ext in ("mp4", "mov", "mkv", "webm", "m4a", "mp3", "wav", "flac"):
        assert ext in settings.extensions
    for ext in ("pdf", "jpg", "txt", "MP4"):
        assert ext not in settings.extensions


def test_callback_defaults() -> None:
    settings = callback()
    assert settings.tag_fields == (
        "status",
        "etag",
        "duration",
        "resolution",
        "vcodec",
        "acodec",
        "fps",
    )
    assert settings.own_tag_cap == 7
    assert settings.max_callback_bytes == 1048576
    assert settings.allowed_buckets == frozenset()
    assert settings.tag_prefix == "media:"


def test_callback_settings_do_not_need_the_callback_url() -> None:
    assert callback().callback_secret == SECRET


def test_values_are_parsed() -> None:
    settings = upload(
        MEDIA_TAGGER_CALLBACK_FORMAT="xml",
        MEDIA_TAGGER_JOB_LEVEL="2",
        MEDIA_TAGGER_EXTENSIONS=" MP4, .Mov ,,webm",
        MEDIA_TAGGER_INCLUDE_PREFIXES="videos/, audio/",
        MEDIA_TAGGER_EXCLUDE_PREFIXES="videos/tmp/",
        MEDIA_TAGGER_IDEMPOTENCY_CHECK="off",
        MEDIA_TAGGER_TAG_PREFIX="mi/",
        MEDIA_TAGGER_ENDPOINT_URL="http://127.0.0.1:9000",
        MEDIA_TAGGER_MAX_ATTEMPTS="1",
        MEDIA_TAGGER_LOG_LEVEL="debug",
    )
    assert settings.callback_format == "XML"
    assert settings.job_level == 2
    assert settings.extensions == frozenset({"mp4", "mov", "webm"})
    assert settings.include_prefixes == ("videos/", "audio/")
    assert settings.exclude_prefixes == ("videos/tmp/",)
    assert settings.idempotency_check is False
    assert settings.tag_prefix == "mi/"
    assert settings.endpoint_url == "http://127.0.0.1:9000"
    assert settings.max_attempts == 1
    assert settings.log_level == "DEBUG"


def test_star_allows_every_extension() -> None:
    assert upload(MEDIA_TAGGER_EXTENSIONS="*").extensions is None


def test_blank_values_mean_default() -> None:
    settings = upload(MEDIA_TAGGER_JOB_LEVEL="  ", MEDIA_TAGGER_EXTENSIONS="")
    assert settings.job_level == 0
    assert settings.extensions == config.DEFAULT_EXTENSIONS


def test_tag_fields_keep_status_and_etag_first() -> None:
    settings = callback(MEDIA_TAGGER_TAG_FIELDS="Duration, vcodec, status")
    assert settings.tag_fields == ("status", "etag", "duration", "vcodec")


def test_callback_values_are_parsed() -> None:
    settings = callback(
        MEDIA_TAGGER_MAX_CALLBACK_BYTES="2048",
        MEDIA_TAGGER_ALLOWED_BUCKETS="media-uploads-1250000000, other-1250000001",
    )
    assert settings.max_callback_bytes == 2048
    assert settings.allowed_buckets == frozenset({"media-uploads-1250000000", "other-1250000001"})


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("MEDIA_TAGGER_CALLBACK_URL", "", "missing (the callback function's URL)"),
        (
            "MEDIA_TAGGER_CALLBACK_URL",
            "not a url",
            "must be an absolute http(s) URL without a #fragment",
        ),
        (
            "MEDIA_TAGGER_CALLBACK_URL",
            "ftp://example.com/cb",
            "must be an absolute http(s) URL without a #fragment",
        ),
        (
            "MEDIA_TAGGER_CALLBACK_URL",
            "http://example.com/cb",
            "must use https (plain http only for a loopback host)",
        ),
        (
            "MEDIA_TAGGER_CALLBACK_URL",
            "https://example.com/cb#frag",
            "must be an absolute http(s) URL without a #fragment",
        ),
        ("MEDIA_TAGGER_CALLBACK_URL", "https://user:pw@example.com/cb", "must not carry user info"),
        (
            "MEDIA_TAGGER_CALLBACK_URL",
            "https://example.com/cb?token=abc",
            "must not contain a token parameter (it is added per job)",
        ),
        ("MEDIA_TAGGER_CALLBACK_URL", "https://[::1/cb", "is not a URL"),
        (
            "MEDIA_TAGGER_CALLBACK_URL",
            "https://example.com/cb/v2.abc",
            "must not end in a v2. path segment (the token goes there)",
        ),  # the token's place
        (
            "MEDIA_TAGGER_QUEUE_ID",
            "undefined",
            "reads like an unset ${env:...} reference: set it in .env (empty means none)",
        ),  # what the deploy CLI writes for an unset ${env:}
        (
            "MEDIA_TAGGER_QUEUE_ID",
            "p1/../jobs",
            "must be a CI media queue id like p2242ab62c7c9448...",
        ),
        ("MEDIA_TAGGER_CALLBACK_SECRET", "", "missing (set a random string of 32+ characters)"),
        ("MEDIA_TAGGER_CALLBACK_SECRET", "x" * 31, "must be at least 32 characters"),
        ("MEDIA_TAGGER_CALLBACK_SECRET", " " + "x" * 40, "has leading or trailing whitespace"),
        ("MEDIA_TAGGER_CALLBACK_FORMAT", "YAML", "must be one of JSON, XML"),
        ("MEDIA_TAGGER_JOB_LEVEL", "3", "must be a whole number from 0 to 2"),
        ("MEDIA_TAGGER_JOB_LEVEL", "-1", "must be a whole number from 0 to 2"),
        ("MEDIA_TAGGER_JOB_LEVEL", "one", "must be a whole number from 0 to 2"),
        ("MEDIA_TAGGER_EXTENSIONS", ",,", "must be a comma list of extensions like mp4,mov (or *)"),
        (
            "MEDIA_TAGGER_EXTENSIONS",
            "mp4,m p4",
            "must be a comma list of extensions like mp4,mov (or *)",
        ),
        (
            "MEDIA_TAGGER_EXTENSIONS",
            "tar.gz",
            "must be a comma list of extensions like mp4,mov (or *)",
        ),
        (
            "MEDIA_TAGGER_IDEMPOTENCY_CHECK",
            "maybe",
            "must be true or false (also 1/0, yes/no, on/off)",
        ),
        (
            "MEDIA_TAGGER_TAG_PREFIX",
            "media,",
            "must be 1-64 characters of A-Z a-z 0-9 + - = . _ : /",
        ),
        (
            "MEDIA_TAGGER_TAG_PREFIX",
            "qcs:media:",
            "must not start with a reserved prefix (qcs:, project)",
        ),
        (
            "MEDIA_TAGGER_TAG_PREFIX",
            "me@dia:",
            "must be 1-64 characters of A-Z a-z 0-9 + - = . _ : /",
        ),  # '@' is outside the API page's tag charset
        (
            "MEDIA_TAGGER_TAG_PREFIX",
            "x" * 65,
            "must be 1-64 characters of A-Z a-z 0-9 + - = . _ : /",
        ),
        (
            "MEDIA_TAGGER_ENDPOINT_URL",
            "ftp://127.0.0.1",
            "must be http(s)://<loopback address or host name>[:port]",
        ),
        (
            "MEDIA_TAGGER_ENDPOINT_URL",
            "http://127.0.0.1:9000/path",
            "must be http(s)://<loopback address or host name>[:port]",
        ),
        ("MEDIA_TAGGER_MAX_ATTEMPTS", "0", "must be a whole number from 1 to 10"),
        ("MEDIA_TAGGER_MAX_ATTEMPTS", "11", "must be a whole number from 1 to 10"),
        ("MEDIA_TAGGER_MAX_ATTEMPTS", "4.5", "must be a whole number from 1 to 10"),
        ("MEDIA_TAGGER_LOG_LEVEL", "LOUD", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ],
)
def test_bad_upload_values_name_the_variable(variable: str, value: str, problem: str) -> None:
    environ = {**BASE, variable: value}
    with pytest.raises(ConfigError, match=re.escape(f"{variable}: {problem}")) as caught:
        load_upload_settings(environ)
    assert caught.value.variable == variable
    assert variable in str(caught.value)
    if len(value.strip()) >= 6:
        assert value.strip() not in str(caught.value)  # values (maybe secrets) are never echoed


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        (
            "MEDIA_TAGGER_TAG_FIELDS",
            "duration,colour",
            "unknown field(s) colour; known: acodec,bitrate,channels,container,duration",
        ),
        ("MEDIA_TAGGER_TAG_FIELDS", "duration,duration", "lists a field twice"),
        ("MEDIA_TAGGER_MAX_CALLBACK_BYTES", "100", "must be a whole number from 1024 to 6291456"),
        ("MEDIA_TAGGER_MAX_CALLBACK_BYTES", "lots", "must be a whole number from 1024 to 6291456"),
        (
            "MEDIA_TAGGER_MAX_CALLBACK_BYTES",
            str(7 * 1024 * 1024),
            "must be a whole number from 1024 to 6291456",
        ),
        (
            "MEDIA_TAGGER_ALLOWED_BUCKETS",
            "media-uploads",
            "must be a comma list of <name>-<appid> bucket names",
        ),
        (
            "MEDIA_TAGGER_ALLOWED_BUCKETS",
            "Media-1250000000",
            "must be a comma list of <name>-<appid> bucket names",
        ),
        ("MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS", "p" * 31, "must be at least 32 characters"),
        (
            "MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS",
            "p" * 40 + ",,",
            "has an empty item (a comma list of secrets, newest first)",
        ),
        (
            "MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS",
            "p" * 40 + "," + "q" * 31,
            "must be at least 32 characters",
        ),
        ("MEDIA_TAGGER_ALLOWED_REGIONS", "guangzhou", "must be COS region names like ap-guangzhou"),
        (
            "MEDIA_TAGGER_ALLOWED_REGIONS",
            "ap-guangzhou.evil.example",
            "must be COS region names like ap-guangzhou",
        ),
        ("TENCENTCLOUD_REGION", "ap-guangzhou/x", "must be COS region names like ap-guangzhou"),
    ],
)
def test_bad_callback_values_name_the_variable(variable: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{variable}: {problem}")) as caught:
        callback(**{variable: value})
    assert caught.value.variable == variable


def test_previous_secrets_verify_only_newest_first() -> None:
    older, oldest = "o" * 32, "p" * 40
    settings = callback(MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS=f" {older} , {oldest}")
    assert settings.previous_secrets == (older, oldest)
    assert settings.verifying_secrets == (SECRET, older, oldest)
    assert callback().previous_secrets == ()
    assert callback(MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS="  ").verifying_secrets == (SECRET,)


def test_allowed_regions_default_to_the_region_scf_runs_in() -> None:
    assert callback().allowed_regions == frozenset()  # outside SCF (local runs): any region
    deployed = callback(TENCENTCLOUD_REGION="ap-guangzhou")
    assert deployed.allowed_regions == frozenset({"ap-guangzhou"})
    listed = callback(
        TENCENTCLOUD_REGION="ap-guangzhou",
        MEDIA_TAGGER_ALLOWED_REGIONS="ap-shanghai-fsi, ap-beijing-1",
    )
    assert listed.allowed_regions == frozenset({"ap-shanghai-fsi", "ap-beijing-1"})


def test_queue_id_is_optional_for_submitting_and_listing() -> None:
    queue = "p2242ab62c7c94486915508540933a2c6"
    assert upload().queue_id is None
    assert upload(MEDIA_TAGGER_QUEUE_ID=f" {queue} ").queue_id == queue
    assert load_reconcile_settings({}).queue_id is None
    assert load_reconcile_settings({"MEDIA_TAGGER_QUEUE_ID": queue}).queue_id == queue


def test_plain_http_is_allowed_for_a_loopback_callback() -> None:
    url = "http://127.0.0.1:8081/callback?x=1"
    assert upload(MEDIA_TAGGER_CALLBACK_URL=url).callback_url == url


def test_the_secret_is_not_in_the_repr() -> None:
    assert SECRET not in repr(upload())
    previous = "previous-secret-0123456789-abcdef"
    settings = callback(MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS=previous)
    assert SECRET not in repr(settings)
    assert previous not in repr(settings)


def test_settings_are_frozen() -> None:
    settings = upload()
    with pytest.raises(FrozenRecordError, match="cannot assign to field 'job_level'"):
        settings.job_level = 1  # type: ignore[misc]


def test_every_variable_is_named_once_and_documented_set() -> None:
    names = {
        value
        for name, value in vars(config).items()
        if name.isupper() and isinstance(value, str) and value.startswith("MEDIA_TAGGER_")
    }
    assert names == set(config.SETTINGS_VARIABLES)
    assert len(config.SETTINGS_VARIABLES) == 27
    assert config.CREDENTIAL_VARIABLES == (
        "TENCENTCLOUD_SECRETID",
        "TENCENTCLOUD_SECRETKEY",
        "TENCENTCLOUD_SESSIONTOKEN",
    )
