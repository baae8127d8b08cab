"""Command line: ``python -m deploy up|plan|status|down|rotate-secret [--finish]`` (docs/deploy.md).

Wires the collaborators (credentials, target, serverless.yml, state file, SDK clients, the CI
transport) from flags, the environment and ``.env``, runs one command and maps errors to exit
statuses: 0 done / everything agrees, 1 error, 3 ``status`` found differences or ``plan`` found
something ``up`` would stop on. Every output line passes through a redactor that replaces any
secret value the run knows (API key, token, callback secrets) with ``***``, as a last guard.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests
from tencentcloud.common.credential import Credential

from deploy.cloud.api import ClientFactory, CloudApi, sdk_client
from deploy.cloud.callback_secret import new_secret
from deploy.cloud.changes import ChangeSet
from deploy.cloud.credentials import DeployCredentials, load_credentials
from deploy.cloud.deployment import Deployment, Waits
from deploy.cloud.down import run_down
from deploy.cloud.errors import DeployError
from deploy.cloud.manifest import Manifest
from deploy.cloud.media_processing import MediaProcessing
from deploy.cloud.rotation import finish_rotation, start_rotation
from deploy.cloud.state import DeployState, default_state_path, load_state
from deploy.cloud.status import run_status
from deploy.cloud.target import DeployTarget, load_target, read_dotenv
from deploy.cloud.up import run_up
from deploy.runtime import BuildError, load_manifest
from shared.tencent.transport import Transport

ROOT = Path(__file__).resolve().parent.parent.parent
EXIT_DIFFERENCES = 3
WRITING_COMMANDS = frozenset({"up", "down", "rotate-secret"})
DEFAULT_WAITS = Waits()  # time.time / time.sleep; a frozen value, nothing is started


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    flags = common.add_argument_group("where and how (flags beat the environment and .env)")
    flags.add_argument("--region", help="SCF and bucket region (DEPLOY_REGION)")
    flags.add_argument("--bucket", help="full bucket name <name>-<appid> (DEPLOY_BUCKET)")
    flags.add_argument("--prefix", help="COS trigger key prefix (DEPLOY_PREFIX)")
    flags.add_argument("--suffix", help="COS trigger key suffix (DEPLOY_SUFFIX)")
    flags.add_argument("--role", help="execution role name (DEPLOY_ROLE)")
    flags.add_argument("--stage", help="stage of the function names (serverless.yml's stage)")
    flags.add_argument("--profile", help="tccli profile (~/.tccli/NAME.credential)")
    flags.add_argument("--env-file", type=Path, default=ROOT / ".env", help="default: ./.env")
    flags.add_argument("--state-file", type=Path, help="default: ~/.config/cos-media-tagger/...")
    flags.add_argument("--build-dir", type=Path, default=ROOT / "build", help="make package's")
    flags.add_argument(
        "--manifest", type=Path, default=ROOT / "serverless.yml", help="serverless.yml"
    )
    parser = argparse.ArgumentParser(
        prog="python -m deploy",
        description="Deploy cos-media-tagger to Tencent Cloud SCF for one bucket (docs/deploy.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", parents=[common], help="create or update everything")
    for sub in (up, commands.add_parser("plan", parents=[common], help="print what up would do")):
        sub.add_argument(
            "--update-iam",
            action="store_true",
            help="make an existing role/policy match instead of stopping",
        )
        sub.add_argument(
            "--no-enable-media-processing",
            action="store_true",
            help="stop with the console steps instead of enabling it",
        )
    commands.add_parser("status", parents=[common], help="what is deployed; do pieces agree")
    down = commands.add_parser("down", parents=[common], help="remove what up created")
    down.add_argument("--yes", action="store_true", help="delete without asking")
    rotate = commands.add_parser("rotate-secret", parents=[common], help="rotate the secret")
    rotate.add_argument("--finish", action="store_true", help="drop the previous secret")
    return parser


def ask(question: str) -> bool:
    if not sys.stdin.isatty():
        print(f"{question} [y/N] no (stdin is not a terminal; pass --yes)")
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


class Redactor:
    """Replaces every secret value known to the run with ``***`` before a line is shown."""

    def __init__(self, credentials: DeployCredentials, state: DeployState) -> None:
        self._credentials = credentials
        self._state = state

    def __call__(self, text: str) -> str:
        known = [self._credentials.secret_key, self._credentials.token, self._state.callback_secret]
        for value in [*known, *self._state.previous_secrets]:
            if value and len(value) >= 8:
                text = text.replace(value, "***")
        return text


def _media(credentials: DeployCredentials, session: requests.Session | None) -> MediaProcessing:
    def credential() -> Credential:
        return Credential(credentials.secret_id, credentials.secret_key, credentials.token)

    return MediaProcessing(Transport(credential, session=session))


def _report_total(dep: Deployment, command: str, count: int) -> None:
    verb = "made" if dep.changes.apply else "planned, nothing sent"
    done = f"{count} change(s) {verb}" if count else "nothing to change"
    if dep.changes.stops:
        done += f"; up stops on the {len(dep.changes.stops)} difference(s) marked !"
    dep.report(f"{command}: {done}")


def _dispatch(
    args: argparse.Namespace,
    dep: Deployment,
    media: MediaProcessing,
    confirm: Callable[[str], bool],
    generate: Callable[[], str],
) -> int:
    template = (ROOT / "deploy" / "cam-policy.json").read_text(encoding="utf-8")
    if args.command in ("up", "plan"):
        summaries = run_up(dep, media, template, generate)
        _report_total(dep, args.command, len(summaries))
        return EXIT_DIFFERENCES if dep.changes.stops else 0
    if args.command == "status":
        return 0 if run_status(dep, media, template) else EXIT_DIFFERENCES
    if args.command == "down":
        return 0 if run_down(dep, (lambda _: True) if args.yes else confirm) else EXIT_DIFFERENCES
    if args.finish:
        finish_rotation(dep)
    else:
        start_rotation(dep, generate)
    return 0


@dataclass(frozen=True)
class Setup:
    """What a command needs before it talks to the cloud."""

    credentials: DeployCredentials
    manifest: Manifest
    target: DeployTarget
    state: DeployState
    environ: dict[str, str]


def load_setup(args: argparse.Namespace, environ: Mapping[str, str], home: Path) -> Setup:
    merged = {**read_dotenv(args.env_file), **environ}
    credentials = load_credentials(merged, home, args.profile)
    manifest = Manifest(load_manifest(args.manifest), args.stage)
    target = load_target(
        app=manifest.app,
        stage=manifest.stage,
        environ=merged,
        region=args.region,
        bucket=args.bucket,
        prefix=args.prefix,
        suffix=args.suffix,
        role=args.role,
        profile_region=credentials.profile_region,
    )
    path = args.state_file or default_state_path(
        target.app, target.stage, target.region, target.bucket, environ=merged, home=home
    )
    return Setup(credentials, manifest, target, load_state(path), merged)


def build_deployment(
    args: argparse.Namespace, setup: Setup, changes: ChangeSet, waits: Waits
) -> Deployment:
    return Deployment(
        changes,
        setup.target,
        setup.manifest,
        setup.state,
        setup.environ,
        args.build_dir,
        waits,
        update_iam=getattr(args, "update_iam", False),
        enable_media_processing=not getattr(args, "no_enable_media_processing", False),
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    client_factory: ClientFactory = sdk_client,
    session: requests.Session | None = None,
    waits: Waits = DEFAULT_WAITS,
    confirm: Callable[[str], bool] = ask,
    report: Callable[[str], None] = print,
    generate: Callable[[], str] = new_secret,
) -> int:
    """Run one command; every collaborator that touches the world is a parameter."""
    args = build_parser().parse_args(argv)
    try:
        setup = load_setup(args, os.environ if environ is None else environ, home or Path.home())
    except (DeployError, BuildError) as exc:
        print(f"python -m deploy {args.command}: {exc}", file=sys.stderr)
        return 1
    redact = Redactor(setup.credentials, setup.state)
    api = CloudApi(
        setup.credentials, setup.target.region, client_factory=client_factory, sleep=waits.sleep
    )
    changes = ChangeSet(
        api, apply=args.command in WRITING_COMMANDS, report=lambda line: report(redact(line))
    )
    dep = build_deployment(args, setup, changes, waits)
    target = setup.target
    changes.report(
        f"python -m deploy {args.command}: {target.app} {target.stage} in {target.region}, "
        f"bucket {target.bucket} (keys: {setup.credentials.source})"
    )
    try:
        return _dispatch(args, dep, _media(setup.credentials, session), confirm, generate)
    except DeployError as exc:
        print(redact(f"python -m deploy {args.command}: {exc}"), file=sys.stderr)
        return 1
