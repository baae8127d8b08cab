"""serverless.yml against the built zips and shared/settings/functions.py; every zip imports in a
clean Python.

The zips are built once per session by deploy.package (cached in build/ by a hash of every input,
so a repeated run costs one cache check). The import check runs the runtime's own Python version
in a fresh process that sees only the unpacked zip and the standard library, as SCF would.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from deploy import package, runtime, vendor
from shared.settings.functions import (
    ALLOWED_REGIONS,
    CALLBACK_SECRET,
    CALLBACK_SECRET_PREVIOUS,
    CALLBACK_URL,
    ENDPOINT_URL,
    QUEUE_ID,
    SETTINGS_VARIABLES,
    TAG_PREFIX,
    load_callback_settings,
    load_upload_settings,
)
from tests.runtimes import require_python

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = runtime.load_manifest(ROOT / "serverless.yml")
INSTANCES = runtime.instance_inputs(MANIFEST)
VERSION = runtime.runtime_version(MANIFEST)
UPLOAD, CALLBACK, RECONCILE = "submit_on_upload", "tag_on_callback", "reconcile_on_timer"
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z0-9_]+)\}")
RESERVED_PREFIXES = ("SCF_", "QCLOUD_", "TENCENTCLOUD_")
PYC_TAG = f"cpython-{VERSION[0]}{VERSION[1]}"

CLEAN_IMPORT = r"""
import importlib.machinery, json, sys, sysconfig
root = sys.argv[1]
sys.path.insert(0, root)
compiled = []
original = importlib.machinery.SourceFileLoader.source_to_code
def spy(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return original(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = spy
import index
stdlib = tuple({sysconfig.get_paths()[key] + "/" for key in ("stdlib", "platstdlib")})
outside, inside = [], 0
for name, module in sorted(sys.modules.items()):
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) or getattr(module, "__file__", None)
    if not origin or origin in ("built-in", "frozen") or origin.startswith(stdlib):
        continue
    if origin.startswith(root + "/"):
        inside += 1
    else:
        outside.append(name + ": " + origin)
print(json.dumps({
    "callable": callable(getattr(index, "main_handler", None)),
    "outside": outside, "inside": inside, "compiled_from_source": compiled,
    "version": list(sys.version_info[:2]), "index_cached": index.__spec__.cached,
}))
"""


@pytest.fixture(scope="session")
def built() -> dict[str, package.BuiltFunction]:
    python = require_python(VERSION)  # skipped with the reason, or failed, when it is missing
    return {item.name: item for item in package.build_all(python=python, report=lambda line: None)}


def _deployed_environment(function: str, values: dict[str, str]) -> dict[str, str]:
    variables = _variables(function)
    return {
        name: ENV_REFERENCE.sub(lambda match: values[match.group(1)], value)
        for name, value in variables.items()
    }


def _example_values() -> dict[str, str]:
    """deploy/env.example, with the two values a user must invent filled in."""
    values = {}
    for line in (ROOT / "deploy" / "env.example").read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values[name.strip()] = value.strip()
    values[CALLBACK_SECRET] = "s" * 40
    values[CALLBACK_URL] = "https://1250000000-abcdefgh.ap-guangzhou.tencentscf.com"
    return values


def test_every_function_folder_is_deployed_and_nothing_else() -> None:
    assert sorted(INSTANCES) == package.discover_functions(ROOT), (
        "each functions/<name>/index.py needs an instances.<name> entry in serverless.yml"
    )


def test_one_documented_python_runtime_for_all() -> None:
    assert VERSION >= (3, 10)
    for inputs in INSTANCES.values():
        assert inputs["runtime"] == f"Python{runtime.dotted(VERSION)}"
        assert inputs["type"] == "event"
        assert inputs["memorySize"] == 64 or inputs["memorySize"] in range(128, 3073, 128)
        assert 1 <= inputs["timeout"] <= 900
        assert inputs["region"] == "${env:DEPLOY_REGION}"
        assert inputs["role"] == "${env:DEPLOY_ROLE}"
        assert inputs["src"] == {"src": "./" + package.DEPLOY_SOURCE_DIR}


def _variables(function: str) -> dict[str, Any]:
    variables: dict[str, Any] = INSTANCES[function].get("environment", {}).get("variables", {})
    return variables


def test_environment_variables_are_settings_the_functions_know() -> None:
    for function in INSTANCES:
        variables = _variables(function)
        unknown = sorted(set(variables) - SETTINGS_VARIABLES)
        assert not unknown, (
            f"{function} sets variables shared/settings/functions.py does not read: {unknown}"
        )
        assert ENDPOINT_URL not in variables  # the emulator override never reaches the cloud
        assert not [name for name in variables if name.startswith(RESERVED_PREFIXES)]
        assert all(isinstance(value, str) for value in variables.values())
        for secret in (CALLBACK_SECRET, CALLBACK_SECRET_PREVIOUS):  # never written into the file
            if secret in variables:
                assert variables[secret] == "${env:" + secret + "}"
    prefixes = {_variables(function).get(TAG_PREFIX) for function in INSTANCES}
    assert len(prefixes) == 1 and None not in prefixes  # one tag namespace, stated everywhere


def test_deployed_environment_loads_as_valid_settings() -> None:
    values = _example_values()
    upload = load_upload_settings(_deployed_environment(UPLOAD, values))
    callback = load_callback_settings(_deployed_environment(CALLBACK, values))
    assert upload.callback_url == values[CALLBACK_URL]
    assert callback.allowed_buckets == frozenset({values["DEPLOY_BUCKET"]})
    assert callback.allowed_regions == frozenset({values["DEPLOY_REGION"]})
    assert callback.previous_secrets == ()  # empty outside a rotation
    assert upload.queue_id is None  # CI's default queue unless one is set
    assert upload.tag_prefix == callback.tag_prefix


def test_the_issue_11_and_19_settings_reach_the_functions_that_use_them() -> None:
    callback, upload = _variables(CALLBACK), _variables(UPLOAD)
    reconcile = _variables(RECONCILE)
    assert callback[CALLBACK_SECRET_PREVIOUS] == "${env:" + CALLBACK_SECRET_PREVIOUS + "}"
    assert callback[ALLOWED_REGIONS] == "${env:DEPLOY_REGION}"
    assert upload[QUEUE_ID] == reconcile[QUEUE_ID] == "${env:" + QUEUE_ID + "}"
    assert QUEUE_ID not in callback  # GET /jobs/<id> names no queue
    assert CALLBACK_SECRET_PREVIOUS not in upload  # the upload function only mints
    rotating = _example_values() | {CALLBACK_SECRET_PREVIOUS: "p" * 40, QUEUE_ID: "p" + "0" * 32}
    assert load_callback_settings(_deployed_environment(CALLBACK, rotating)).previous_secrets == (
        "p" * 40,
    )
    assert load_upload_settings(_deployed_environment(UPLOAD, rotating)).queue_id == "p" + "0" * 32


def test_every_env_reference_is_documented_in_env_example() -> None:
    referenced = set(ENV_REFERENCE.findall(json.dumps(MANIFEST)))  # values, not comments
    documented = set(_example_values())
    assert referenced and referenced <= documented, sorted(referenced - documented)


def test_upload_function_has_the_cos_trigger() -> None:
    events = INSTANCES[UPLOAD]["events"]
    assert [next(iter(event)) for event in events] == ["cos"]
    parameters = events[0]["cos"]["parameters"]
    assert parameters["events"] == "cos:ObjectCreated:*"
    assert parameters["enable"] is True
    assert parameters["bucket"] == "${env:DEPLOY_BUCKET}.cos.${env:DEPLOY_REGION}.myqcloud.com"
    assert parameters["filter"] == {
        "prefix": "${env:DEPLOY_PREFIX}",
        "suffix": "${env:DEPLOY_SUFFIX}",
    }


def test_callback_function_has_a_public_function_url() -> None:
    events = INSTANCES[CALLBACK]["events"]
    assert [next(iter(event)) for event in events] == ["http"]
    parameters = events[0]["http"]["parameters"]
    assert parameters["authType"] == "NONE"
    assert parameters["netConfig"]["enableExtranet"] is True


def test_handlers_resolve_to_main_handler_inside_each_zip(built: dict[str, Any]) -> None:
    for function, inputs in INSTANCES.items():
        module, _, attribute = inputs["handler"].partition(".")
        with zipfile.ZipFile(built[function].zip_path) as archive:
            names = set(archive.namelist())
            tree = ast.parse(archive.read(f"{module}.py"))
        assert f"__pycache__/{module}.{PYC_TAG}.pyc" in names
        handlers = [
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name == attribute
        ]
        assert len(handlers) == 1 and len(handlers[0].args.args) == 2, function


def test_rendered_deploy_folders_match_the_manifest(built: dict[str, Any]) -> None:
    import yaml

    for function, item in built.items():
        rendered = yaml.safe_load((item.tree.parent / "serverless.yml").read_text(encoding="utf-8"))
        expected = {"app": MANIFEST["app"], "stage": MANIFEST["stage"]}
        expected.update(MANIFEST["instances"][function])
        assert rendered == expected


def test_zips_fit_the_size_budget(built: dict[str, Any]) -> None:
    for item in built.values():
        assert item.size == item.zip_path.stat().st_size <= package.MAX_ZIP_BYTES


def test_zips_ship_bytecode_for_the_runtime_and_no_build_leftovers(built: dict[str, Any]) -> None:
    for item in built.values():
        with zipfile.ZipFile(item.zip_path) as archive:
            names = archive.namelist()
        assert names == sorted(names)
        modules = [name for name in names if name.endswith(".py")]
        for name in modules:
            folder, _, stem = name.rpartition("/")
            cached = f"{folder}/__pycache__/{stem[:-3]}.{PYC_TAG}.pyc".lstrip("/")
            assert cached in names, f"{name} has no .pyc for Python {VERSION}"
        pycs = [name for name in names if name.endswith(".pyc")]
        assert all(f".{PYC_TAG}.pyc" in name for name in pycs)
        assert not [name for name in names if name.startswith(("bin/", "tests/", "deploy/"))]
        metadata = [n for n in names if ".dist-info/" in n and not n.endswith("/")]
        assert all(re.search(r"licen[cs]e|copying|notice|authors", n.lower()) for n in metadata)


def test_sdk_ships_exactly_the_modules_our_imports_reach(built: dict[str, Any]) -> None:
    import tencentcloud  # the same pinned release, installed whole in the dev environment

    site = Path(tencentcloud.__file__).parent.parent
    every = vendor.module_files(site, "tencentcloud")
    sources = sorted((ROOT / "shared").rglob("*.py")) + [
        ROOT / "functions" / name / "index.py" for name in INSTANCES
    ]
    reached = vendor.reachable_modules(every, vendor.project_imports(sources, "tencentcloud"))
    assert "tencentcloud.common.credential" in reached and len(reached) < len(every)
    for item in built.values():
        with zipfile.ZipFile(item.zip_path) as archive:
            shipped = {
                name[: -len(".py")].replace("/__init__", "").replace("/", ".")
                for name in archive.namelist()
                if name.startswith("tencentcloud/") and name.endswith(".py")
            }
        assert shipped == reached


def test_each_zip_imports_in_a_clean_interpreter(built: dict[str, Any], tmp_path: Path) -> None:
    python = require_python(VERSION)
    for function, item in built.items():
        unpacked = tmp_path / function
        with zipfile.ZipFile(item.zip_path) as archive:
            archive.extractall(unpacked)
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run(
            [python, "-I", "-S", "-B", "-c", CLEAN_IMPORT, str(unpacked.resolve())],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["callable"] is True
        assert report["version"] == list(VERSION)
        assert report["outside"] == [], report["outside"]
        assert report["inside"] > 50  # shared + requests + urllib3 ... really came from the zip
        assert report["compiled_from_source"] == [], "a shipped .pyc was not used"
        assert not list(unpacked.rglob(f"*.{PYC_TAG}.pyc.*"))  # nothing written beside them


IMPORT_EVERY_SHIPPED = r"""
import importlib, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(root))
names = sorted(
    ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
    for p in (root / "shared").rglob("*.py")
)
failed = {}
for name in names:
    try:
        module = importlib.import_module(name)
        if not str(module.__file__).startswith(str(root) + "/"):
            failed[name] = "imported from outside the zip: " + str(module.__file__)
    except Exception as exc:
        failed[name] = type(exc).__name__ + ": " + str(exc)
print(json.dumps({"names": names, "failed": failed}))
"""
# Operator tools: the command line and backfill machinery. No function's imports reach them.
OPERATOR_MODULES = ("shared/__main__.py", "shared/ops/")


def test_every_shipped_module_imports_from_the_unpacked_zip(
    built: dict[str, Any], tmp_path: Path
) -> None:
    python = require_python(VERSION)
    for function, item in built.items():
        unpacked = tmp_path / function
        with zipfile.ZipFile(item.zip_path) as archive:
            archive.extractall(unpacked)
        done = subprocess.run(
            [python, "-I", "-S", "-B", "-c", IMPORT_EVERY_SHIPPED, str(unpacked.resolve())],
            env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["failed"] == {}, (function, report["failed"])
        assert f"functions.{function}" not in report["names"]
        assert len(report["names"]) > 20, report["names"]


def test_zips_ship_only_what_their_entry_point_reaches(built: dict[str, Any]) -> None:
    from deploy.shipped import shipped_files

    for function, item in built.items():
        with zipfile.ZipFile(item.zip_path) as archive:
            shipped = sorted(
                name
                for name in archive.namelist()
                if name.startswith("shared/") and name.endswith(".py")
            )
        assert shipped == [path.as_posix() for path in shipped_files(ROOT, function)]
        operator = [name for name in shipped if name.startswith(OPERATOR_MODULES)]
        assert operator == [], f"{function} ships operator modules {operator}"
    with zipfile.ZipFile(built[UPLOAD].zip_path) as archive:
        names = archive.namelist()
    assert "shared/callback/service.py" not in names  # the upload zip has no callback code
    assert "shared/upload/service.py" in names


def test_closure_follows_imports_inside_functions(tmp_path: Path) -> None:
    """A lazy import inside a function body is followed, an unimported module is left out."""
    from deploy.shipped import shipped_modules

    (tmp_path / "functions" / "f").mkdir(parents=True)
    (tmp_path / "functions" / "f" / "index.py").write_text(
        "def main_handler(e, c):\n    from shared.a import run\n    return run()\n"
    )
    (tmp_path / "shared" / "p").mkdir(parents=True)
    (tmp_path / "shared" / "__init__.py").write_text("")
    (tmp_path / "shared" / "a.py").write_text("from shared.p import b\n")
    (tmp_path / "shared" / "p" / "__init__.py").write_text("")
    (tmp_path / "shared" / "p" / "b.py").write_text("x = 1\n")
    (tmp_path / "shared" / "unused.py").write_text("y = 2\n")
    assert shipped_modules(tmp_path, "f") == ["shared", "shared.a", "shared.p", "shared.p.b"]


# --- the deploy tool (python -m deploy) and serverless.yml describe the same deployment --------
# Both routes read the same `instances`; these checks render every instance through the tool's
# reader (deploy/cloud/manifest.py) and compare it with serverless.yml read independently here.
TOP_REFERENCE = re.compile(r"\$\{(app|stage)\}")


def _framework_value(value: Any, values: dict[str, str]) -> Any:
    """serverless.yml's ${app}/${stage}/${env:NAME} resolved as the framework does."""
    if isinstance(value, dict):
        return {name: _framework_value(item, values) for name, item in value.items()}
    if isinstance(value, list):
        return [_framework_value(item, values) for item in value]
    if not isinstance(value, str):
        return value
    value = TOP_REFERENCE.sub(lambda match: str(MANIFEST[match.group(1)]), value)
    return ENV_REFERENCE.sub(lambda match: values[match.group(1)], value)


def _tool_spec(function: str) -> Any:
    from deploy.cloud.manifest import Manifest

    values = _example_values()
    return Manifest(MANIFEST).render(function, values, values["DEPLOY_REGION"])


def test_deploy_tool_deploys_every_instance_with_its_settings() -> None:
    values = _example_values()
    for function, raw in INSTANCES.items():
        inputs, spec = _framework_value(raw, values), _tool_spec(function)
        assert spec.key == function
        assert (spec.name, spec.handler, spec.runtime, spec.namespace) == (
            inputs["name"],
            inputs["handler"],
            inputs["runtime"],
            inputs["namespace"],
        )
        assert (spec.memory_size, spec.timeout) == (inputs["memorySize"], inputs["timeout"])
        assert (spec.description, spec.role) == (inputs["description"], values["DEPLOY_ROLE"])
        deployed = {k: v for k, v in _deployed_environment(function, values).items() if v != ""}
        assert dict(spec.environment) == deployed, function


def test_deploy_tool_creates_the_triggers_serverless_yml_declares() -> None:
    values = _example_values()
    for function, raw in INSTANCES.items():
        events = _framework_value(raw, values)["events"]
        triggers = _tool_spec(function).triggers
        assert [trigger.kind for trigger in triggers] == [next(iter(e)) for e in events]
        for trigger, event in zip(triggers, events):
            parameters = event[trigger.kind]["parameters"]
            assert trigger.qualifier == parameters["qualifier"]
            if trigger.kind == "http":
                net = parameters["netConfig"]
                assert trigger.description == {
                    "AuthType": parameters["authType"],
                    "NetConfig": {
                        "EnableIntranet": net["enableIntranet"],
                        "EnableExtranet": net["enableExtranet"],
                    },
                }
            elif trigger.kind == "cos":
                assert trigger.name == parameters["bucket"]
                assert trigger.enabled is parameters["enable"]
                assert trigger.description == {
                    "event": parameters["events"],
                    "filter": {
                        "Prefix": parameters["filter"]["prefix"] or "",
                        "Suffix": parameters["filter"]["suffix"] or "",
                    },
                }
            else:
                assert trigger.kind == "timer"
                assert trigger.description == parameters["cronExpression"] == "0 */30 * * * * *"
                assert (trigger.name, trigger.enabled) == (parameters["name"], parameters["enable"])


def test_every_instance_input_is_applied_by_the_deploy_tool_or_explained() -> None:
    """A new `inputs` key (layers, initTimeout, ...) must be taught to deploy/cloud/manifest.py
    (or listed in NOT_APPLIED_INPUTS with the reason) so the two routes cannot drift."""
    from deploy.cloud.manifest import Manifest

    manifest = Manifest(MANIFEST)
    assert {function: manifest.unapplied_inputs(function) for function in INSTANCES} == {
        function: [] for function in INSTANCES
    }


def test_the_previous_secret_variable_is_the_agreed_name() -> None:
    """issue 19: the deploy tool sets it, the functions read it (shared/settings/functions.py)."""
    import shared.settings.functions as function_settings
    from deploy.cloud.callback_secret import CALLBACK_SECRET_PREVIOUS

    assert CALLBACK_SECRET_PREVIOUS == "MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS"
    agreed = getattr(function_settings, "CALLBACK_SECRET_PREVIOUS", CALLBACK_SECRET_PREVIOUS)
    assert agreed == CALLBACK_SECRET_PREVIOUS
