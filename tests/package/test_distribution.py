"""The two install routes, offline, into fresh virtualenvs (no PYTHONPATH, not run from this
checkout): the pip route (a wheel built from the sources, installed, the README's reuse example
run under preflight) and the component package's own install step (provider/requirements.txt:
the distribution from `..`), whose plugin then serves the committed schema over gRPC, as the
engine asks it during `pulumi package add`.

No network: the wheel is built with this venv's setuptools + wheel (--no-build-isolation) and
installed with --no-index --no-deps; the fresh venvs reach the already installed dependencies
(pulumi, pulumi-aws, ...) through one .pth line naming this venv's site-packages, appended AFTER
their own site-packages, so `aurorakit` can only come from what was installed (checked)."""
import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from components import __version__

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "components", "app", "provider")
EXAMPLE = "postgres-serverless-proxy"
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}  # no PYTHONPATH, no venv activation


def run(cmd, cwd, timeout=180):
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}\n{out.stdout}\n{out.stderr}"
    return out.stdout


def copy_tree(names, src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name in names:
        item = src / name
        if item.is_dir():
            shutil.copytree(item, dst / name, ignore=shutil.ignore_patterns("__pycache__", "venv", "*.egg-info"))
        else:
            shutil.copy2(item, dst / name)
    return dst


def fresh_venv(path: Path) -> Path:
    run([sys.executable, "-m", "venv", "--without-pip", path], cwd=path.parent)
    site = next(path.glob("lib/python*/site-packages"))
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path / "bin" / "python"


def pip(python: Path, *args, cwd):
    return run([sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check", *args], cwd=cwd)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("dist")


@pytest.fixture(scope="module")
def wheel(tmp) -> Path:
    src = copy_tree(SOURCES, ROOT, tmp / "src")
    run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", tmp / "dist"], cwd=src)
    (built,) = (tmp / "dist").glob("*.whl")
    return built


def test_the_wheel_carries_one_import_name_with_the_app_inside(wheel):
    assert wheel.name == f"aurorakit-{__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("aurorakit-")}
    assert tops == {"aurorakit"}  # no top-level `components` or `app` to collide with
    from app.cloud_init import APP_FILES
    from components.db_bootstrap import PACKAGE_FILES
    assert {f"aurorakit/app/{f}" for f in APP_FILES} <= set(names)  # what the hosts get
    # what building their boot artifacts reads (the archive, the lock's wheels) and the Lambda's package
    assert {"aurorakit/app/boot_artifacts.py", "aurorakit/app/lockfile.py", "aurorakit/app/requirements.lock",
            *(f"aurorakit/app/bootstrap/{f}" for f in PACKAGE_FILES)} <= set(names)
    assert {"aurorakit/provider.py", "aurorakit/webapp.py", "aurorakit/artifact_store.py"} <= set(names)
    meta = zipfile.ZipFile(wheel).read(f"aurorakit-{__version__}.dist-info/METADATA").decode()
    assert "Requires-Dist: pulumi<4,>=3.272.0" in meta and "Requires-Dist: pulumi-aws<8,>=7.51.1" in meta


def test_components_reach_the_app_only_through_webapp():
    """Installed, the app is `aurorakit.app` and there is no top-level `app`: a component module
    that imports `app` itself works here and breaks the installed package."""
    import ast
    offenders = []
    for path in sorted((ROOT / "components").glob("*.py")):
        if path.name == "webapp.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            offenders += [f"{path.name}: {n}" for n in names if n == "app" or n.startswith("app.")]
    assert not offenders, offenders


@pytest.fixture(scope="module")
def wheel_venv(tmp, wheel) -> Path:
    python = fresh_venv(tmp / "venv-wheel")
    pip(python, "install", "--no-index", "--no-deps", "-q", wheel, cwd=tmp)
    return python


def test_installed_package_is_self_contained(tmp, wheel_venv):
    probe = ("import importlib.util as u, json, aurorakit, aurorakit.webapp as w;"
             "print(json.dumps([aurorakit.__file__, w.APP, w.cloud_init.__file__, aurorakit.__version__,"
             " u.find_spec('components') is None, u.find_spec('app') is None]))")
    init, app, cloud_init, version, no_components, no_app = json.loads(run([wheel_venv, "-c", probe], cwd=tmp))
    site = str(wheel_venv.parent.parent)
    assert init.startswith(site) and cloud_init.startswith(site) and app == "aurorakit.app"
    assert version == __version__ and no_components and no_app
    assert "No broken requirements" in run([wheel_venv, "-m", "pip", "check"], cwd=tmp)


def test_the_readme_example_runs_under_preflight_from_the_installed_wheel(tmp, wheel_venv):
    tools = copy_tree(("preflight", "policy"), ROOT, tmp / "tools")  # preflight itself, not the components
    program = copy_tree([p.name for p in (ROOT / "examples" / EXAMPLE).iterdir() if p.name != "venv"],
                        ROOT / "examples" / EXAMPLE, tmp / "program")
    report = tmp / "report.json"
    run([wheel_venv, "-m", "preflight", "--program", program, "--stack", "prod", "--policy-config",
         tools / "policy" / "config" / "prod.json", "--quiet", "--json", report], cwd=tools, timeout=300)
    result = json.loads(report.read_text())  # `run` asserted exit 0: no mandatory violation
    assert result["mode"] == "full" and result["error"] is None
    assert result["summary"]["exitCode"] == 0 and result["summary"]["mandatory"] == 0
    types = [r["type"] for r in result["resources"]]
    assert types.count("aws:rds/proxy:Proxy") == 1 and "aurorakit:index:AppFleet" in types


def test_the_plugin_installs_from_its_requirements_and_serves_the_committed_schema(tmp, wheel):
    src = tmp / "src"  # the same sources the wheel was built from (a clone of the repository)
    python = fresh_venv(tmp / "venv-plugin")
    # PulumiPlugin.yaml's install step: `pip install -r requirements.txt` in provider/ (-> `..`)
    pip(python, "install", "--no-index", "--no-deps", "--no-build-isolation", "-q", "-r", "requirements.txt",
        cwd=src / "provider")
    # The engine starts `python provider/ <engine address>`; the plugin prints its port.
    proc = subprocess.Popen([str(python), str(src / "provider"), "127.0.0.1:1"], cwd=tmp, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60).schema)
            info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=10)
        assert isinstance(info, plugin_pb2.PluginInfo) and info.version == __version__
        assert served == json.loads((ROOT / "provider" / "schema.json").read_text())
    finally:
        proc.kill()
        proc.wait(timeout=10)
