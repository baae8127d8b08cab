"""The deploy tool's inputs, offline: credentials, target, .env, the state file, serverless.yml
rendering, CAM document comparison, the callback secret's rules and CI's media bucket answer."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import responses
from tencentcloud.common.credential import Credential

from deploy.cloud.callback_secret import (
    describe_duration,
    fingerprint,
    new_secret,
    overlap_s,
    reconcile_window_s,
    with_secrets,
)
from deploy.cloud.credentials import load_credentials
from deploy.cloud.errors import SetupError
from deploy.cloud.manifest import Manifest
from deploy.cloud.media_processing import MediaProcessing
from deploy.cloud.policy_documents import TRUST_POLICY, differences, parse_document, render_policy
from deploy.cloud.state import DeployState, default_state_path, load_state
from deploy.cloud.target import load_target, read_dotenv
from deploy.runtime import load_manifest
from shared.tencent.transport import Transport

ROOT = Path(__file__).resolve().parent.parent
KEY = "k" * 40


def test_credentials_from_each_environment_family(tmp_path: Path) -> None:
    sdk = load_credentials(
        {
            "TENCENTCLOUD_SECRET_ID": "AKID1",
            "TENCENTCLOUD_SECRET_KEY": KEY,
            "TENCENTCLOUD_TOKEN": "t",
        },
        tmp_path,
    )
    assert (sdk.secret_id, sdk.token, sdk.source) == (
        "AKID1",
        "t",
        "environment TENCENTCLOUD_SECRET_ID",
    )
    scf = load_credentials(
        {"TENCENTCLOUD_SECRETID": "AKID2", "TENCENTCLOUD_SECRETKEY": KEY}, tmp_path
    )
    assert scf.secret_id == "AKID2" and scf.token is None
    framework = load_credentials(
        {"TENCENT_SECRET_ID": "AKID3", "TENCENT_SECRET_KEY": KEY}, tmp_path
    )
    assert framework.secret_id == "AKID3"
    assert KEY not in repr(sdk)


def test_a_secret_id_without_its_key_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        SetupError, match="TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY"
    ):
        load_credentials(
            {"TENCENTCLOUD_SECRET_ID": "AKID1", "TENCENTCLOUD_SECRETKEY": KEY}, tmp_path
        )


def _profile(home: Path, name: str, region: str = "ap-shanghai") -> None:
    folder = home / ".tccli"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.credential").write_text(
        json.dumps({"secretId": f"AKID-{name}", "secretKey": KEY})
    )
    (folder / f"{name}.configure").write_text(json.dumps({"_sys_param": {"region": region}}))


def test_tccli_profiles(tmp_path: Path) -> None:
    _profile(tmp_path, "default")
    _profile(tmp_path, "prod", region="ap-beijing")
    assert load_credentials({}, tmp_path).secret_id == "AKID-default"
    assert load_credentials({"TCCLI_PROFILE": "prod"}, tmp_path).profile_region == "ap-beijing"
    env = {"TENCENTCLOUD_SECRET_ID": "AKID-env", "TENCENTCLOUD_SECRET_KEY": KEY}
    assert load_credentials(env, tmp_path).secret_id == "AKID-env"  # environment beats default
    assert (
        load_credentials(env, tmp_path, profile="prod").secret_id == "AKID-prod"
    )  # flag beats all
    with pytest.raises(SetupError, match="tccli profile 'nope' not found"):
        load_credentials({}, tmp_path, profile="nope")


def test_no_credentials_names_every_accepted_source(tmp_path: Path) -> None:
    with pytest.raises(
        SetupError,
        match="no deploy credentials: set TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY",
    ) as caught:
        load_credentials({}, tmp_path)
    for name in (
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRETID",
        "TENCENT_SECRET_ID",
        "--profile",
    ):
        assert name in str(caught.value)


def test_target_flags_beat_environment_and_defaults_apply(tmp_path: Path) -> None:
    env = {
        "DEPLOY_REGION": "ap-guangzhou",
        "DEPLOY_BUCKET": "media-1250000000",
        "DEPLOY_PREFIX": "in/",
    }
    target = load_target(app="cos-media-tagger", stage="dev", environ=env, prefix="videos/")
    assert (target.prefix, target.suffix, target.role) == (
        "videos/",
        "",
        "cos-media-tagger-dev-scf",
    )
    assert target.appid == "1250000000"
    with pytest.raises(SetupError, match="DEPLOY_BUCKET: must be a full bucket name"):
        load_target(app="a", stage="dev", environ={**env, "DEPLOY_BUCKET": "media"})
    with pytest.raises(SetupError, match="no region"):
        load_target(app="a", stage="dev", environ={"DEPLOY_BUCKET": "media-1250000000"})


def test_dotenv_lines(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# comment\nexport A=1\nB = 'two words'\nC=\"x\"\nD=plain # note\nnot a line\nE=\n"
    )
    assert read_dotenv(path) == {"A": "1", "B": "two words", "C": "x", "D": "plain", "E": ""}
    assert read_dotenv(tmp_path / "missing") == {}


def test_state_file_is_private_atomic_and_hides_secrets(tmp_path: Path) -> None:
    path = default_state_path(
        "app", "dev", "ap-guangzhou", "b-1250000000", environ={}, home=tmp_path
    )
    assert (
        path == tmp_path / ".config/cos-media-tagger/deploy/app-dev-ap-guangzhou-b-1250000000.json"
    )
    state = DeployState(path, callback_secret="s" * 43, previous_secrets=["p" * 43])
    state.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "s" * 43 not in repr(state) and "p" * 43 not in repr(state)
    assert load_state(path).previous_secrets == ["p" * 43]
    path.chmod(0o644)
    with pytest.raises(SetupError, match="readable by others"):
        load_state(path)


def _manifest() -> Manifest:
    return Manifest(load_manifest(ROOT / "serverless.yml"))


def test_manifest_names_order_and_unresolved_references() -> None:
    manifest = _manifest()
    assert manifest.function_keys()[0] == "tag_on_callback"  # the URL's function first
    assert manifest.function_name("submit_on_upload") == "cos-media-tagger-dev-submit-on-upload"
    assert (
        Manifest(load_manifest(ROOT / "serverless.yml"), "prod").function_name("tag_on_callback")
        == "cos-media-tagger-prod-tag-on-callback"
    )
    with pytest.raises(SetupError, match=r"uses \$\{env:DEPLOY_REGION\}; set DEPLOY_REGION"):
        manifest.render("tag_on_callback", {}, "ap-guangzhou")


def test_secret_rules_and_overlap() -> None:
    secret = new_secret()
    assert len(secret) >= 32 and "," not in secret
    assert fingerprint("x") == "2d711642" and fingerprint(None) == "(none)"
    assert describe_duration(overlap_s(70 * 60)) == "7 h 10 min"
    assert reconcile_window_s([]) == 70 * 60
    environment = {"MEDIA_TAGGER_CALLBACK_SECRET": "a", "MEDIA_TAGGER_TAG_PREFIX": "media:"}
    rotated = with_secrets(environment, "new", ["old", "older"])
    assert rotated["MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS"] == "old,older"
    assert with_secrets({"MEDIA_TAGGER_TAG_PREFIX": "m:"}, "new", ["old"]) == {
        "MEDIA_TAGGER_TAG_PREFIX": "m:"
    }


def test_documents_compare_by_meaning_and_say_what_differs() -> None:
    ours = render_policy(
        (ROOT / "deploy" / "cam-policy.json").read_text(),
        "ap-guangzhou",
        "1250000000",
        "b-1250000000",
        "100000000001",
        namespace="default",
        upload_function="media-tagger-prod-submit-on-upload",
    )
    (invoke,) = [
        st["resource"] for st in ours["statement"] if st["action"] == ["scf:InvokeFunction"]
    ]
    assert invoke == [
        "qcs::scf:ap-guangzhou:uin/100000000001:namespace/default/function/"
        "media-tagger-prod-submit-on-upload"
    ]
    with pytest.raises(SetupError, match="unknown placeholder <namespace>"):
        render_policy((ROOT / "deploy" / "cam-policy.json").read_text(), "r", "a", "b", "o")
    respelled = json.loads(json.dumps(ours))
    respelled["statement"].reverse()
    respelled["statement"][0]["action"] = "name/" + respelled["statement"][0]["action"][0]
    assert differences(respelled, ours) == []
    encoded = "%7B%22version%22%3A%222.0%22%2C%22statement%22%3A%5B%5D%7D"
    assert parse_document(encoded) == {"version": "2.0", "statement": []}
    assert differences({"version": "2.0", "statement": []}, TRUST_POLICY) == [
        "lacks allow sts:AssumeRole on service:scf.qcloud.com"
    ]
    with pytest.raises(SetupError, match="unknown placeholder <zone>"):
        render_policy('{"resource": "<zone>"}', "r", "a", "b", "o")


def test_media_bucket_answer_is_read_with_the_safe_parser() -> None:
    media = MediaProcessing(Transport(lambda: Credential("AKIDx", KEY), sleep=lambda s: None))
    listed = (
        "<Response><TotalCount>1</TotalCount><MediaBucketList><BucketId>b-1250000000"
        "</BucketId><Name>b-1250000000</Name></MediaBucketList></Response>"
    )
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add(
            responses.GET,
            "https://ci.ap-guangzhou.myqcloud.com/mediabucket",
            body=listed,
            match=[
                responses.matchers.query_param_matcher(
                    {"bucketNames": "b-1250000000", "regions": "ap-guangzhou", "pageSize": "100"}
                )
            ],
        )
        assert media.is_enabled("b-1250000000", "ap-guangzhou")
        mock.add(
            responses.GET,
            "https://ci.ap-guangzhou.myqcloud.com/mediabucket",
            body="<Response><TotalCount>0</TotalCount></Response>",
        )
        assert not media.is_enabled("b-1250000000", "ap-guangzhou")


DEPLOY_TOOL_MAY_IMPORT_FROM_SHARED = ("shared.tencent", "shared.settings", "shared.errors",
                                      "shared.time_window")  # fmt: skip


def test_the_deploy_tool_uses_only_the_wire_and_settings_of_shared() -> None:
    """deploy/cloud/__init__.py's rule: shared's signing/transport/XML and variable names, no
    use case; and nothing shipped imports the deploy tool (tests/test_layering.py)."""
    from tests.test_layering import imported_modules

    for path in sorted((ROOT / "deploy" / "cloud").glob("*.py")):
        for line, module in imported_modules(path):
            if module.split(".")[0] == "shared":
                assert module.startswith(DEPLOY_TOOL_MAY_IMPORT_FROM_SHARED), (
                    f"{path}:{line} {module}"
                )
            assert module.split(".")[0] not in {"functions", "emulator", "benchmarks", "tests"}
