"""examples/: every scenario runs under preflight as CI runs it (preview, then update with mocked
outputs, the project's pack with prod's policy config or the example's documented one); the YAML
program is checked against the package schema and constructed through the package's provider.

One pack process serves every run (preflight.run.run_with_pack)."""
import copy
import json
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format

from preflight.check import PHASES, build
from preflight.policyconfig import load_policy_config
from preflight.run import REPO, Setup, prepare, run_with_pack
from preflight.stackconfig import load_stack_config

from .schema_check import check as schema_problems

EXAMPLES = REPO / "examples"
PROD = REPO / "policy" / "config" / "prod.json"
YAML_MAIN = Path(__file__).with_name("yaml_main.py")
PYTHON = ("postgres-serverless-proxy", "bring-your-own-kms-key", "two-clusters-one-app")
ALL = (*PYTHON, "yaml")
STACK = "prod"


def policy_config(name: str) -> Path:
    """prod's, unless the example documents its own (next to its Pulumi.yaml)."""
    own = EXAMPLES / name / "policy-config.json"
    return own if own.is_file() else PROD


def setup_of(name: str) -> Setup:
    program = EXAMPLES / name
    if name == "yaml":  # preflight runs Python programs; the YAML one goes through the package's provider
        return Setup(load_stack_config(STACK, program), YAML_MAIN, program, REPO / "policy",
                     load_policy_config(str(policy_config(name))))
    return prepare(STACK, program_dir=program, policy_config=policy_config(name))


@pytest.fixture(scope="module")
def checks():
    setups = {name: setup_of(name) for name in ALL}
    out = {}
    with setups[ALL[0]].start_pack(True) as pack:
        for name, setup in setups.items():
            runs = {phase: run_with_pack(pack, setup.config, setup.main, setup.program_dir,
                                         setup.file_config, phase == "preview") for phase in PHASES}
            out[name] = build(runs, setup, mode="full", with_cost=False)
    return out


def types_of(check) -> list[str]:
    return [r.type for r in check.registrations]


def inputs(check, rtype: str) -> list[dict]:
    """Recorded inputs of every `rtype` in the update run (mocked outputs: values known)."""
    return [json_format.MessageToDict(r.inputs) for r in check.runs["update"].registrations if r.type == rtype]


@pytest.mark.parametrize("name", ALL)
def test_example_passes_preflight_preview_and_update(checks, name):
    check = checks[name]
    assert set(check.runs) == {"preview", "update"} and check.mode == "full"
    failing = [f"{f.policy}: {f.message}" for f in check.failing]
    assert check.exit_code == 0 and not failing, failing


def test_postgres_serverless_with_proxy(checks):
    check = checks["postgres-serverless-proxy"]
    (cluster,) = inputs(check, "aws:rds/cluster:Cluster")
    assert cluster["engine"] == "aurora-postgresql" and cluster["serverlessv2ScalingConfiguration"]["maxCapacity"] == 8
    assert {i["instanceClass"] for i in inputs(check, "aws:rds/clusterInstance:ClusterInstance")} == {"db.serverless"}
    (proxy,) = inputs(check, "aws:rds/proxy:Proxy")
    assert proxy["engineFamily"] == "POSTGRESQL" and proxy["requireTls"] is True
    links = {r.name for r in check.registrations if r.type == "aurorakit:index:SecurityGroupLink"}
    assert "app-to-proxy" in links and "app-to-db" not in links


def test_bring_your_own_kms_key_creates_no_key_and_uses_the_given_one(checks):
    check = checks["bring-your-own-kms-key"]
    arn = yaml.safe_load((EXAMPLES / "bring-your-own-kms-key" / "Pulumi.prod.yaml").read_text())[
        "config"]["aurorakit-bring-your-own-kms-key:kmsKeyArn"]
    keys = [r for r in check.registrations if r.type == "aws:kms/key:Key"]
    assert [r.name for r in keys] == ["net-flow-logs-key"]  # the network's own; the database makes none
    (cluster,) = inputs(check, "aws:rds/cluster:Cluster")
    assert cluster["kmsKeyId"] == arn and cluster["masterUserSecretKmsKeyId"] == arn
    advisory = {f.policy for f in check.findings if f.level == "advisory"}
    assert "encryption-uses-stack-cmk" in advisory  # reported, documented as accepted for this scenario


def test_byo_policy_config_is_prod_with_one_documented_change():
    own = json.loads((EXAMPLES / "bring-your-own-kms-key" / "policy-config.json").read_text())
    expected = copy.deepcopy(json.loads(PROD.read_text()))
    expected["encryption-uses-stack-cmk"] = "advisory"
    assert own == expected
    assert "encryption-uses-stack-cmk" in (EXAMPLES / "bring-your-own-kms-key" / "README.md").read_text()


def test_two_clusters_share_one_vpc_and_one_app_tier(checks):
    check = checks["two-clusters-one-app"]
    assert types_of(check).count("aws:ec2/vpc:Vpc") == 1 and types_of(check).count("aws:rds/cluster:Cluster") == 2
    assert types_of(check).count("aws:autoscaling/group:Group") == 1
    ports = sorted(r["fromPort"] for r in inputs(check, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                   if r.get("referencedSecurityGroupId") and r["fromPort"] in (3306, 5432))
    assert ports == [3306, 5432]
    connect = {res for p in inputs(check, "aws:iam/rolePolicy:RolePolicy")
               for st in json.loads(p["policy"])["Statement"] if "rds-db:connect" in st["Action"]
               for res in st["Resource"]}
    assert len(connect) == 2 and all(r.endswith("/app") and ":dbuser:cluster-" in r for r in connect)


def test_yaml_example_runs_through_the_package_provider(checks):
    check = checks["yaml"]
    components = [r for r in check.registrations if r.type.startswith("aurorakit:index:")]
    stack = next(r for r in check.registrations if r.type == "pulumi:pulumi:Stack")
    assert {r.name for r in components if r.parent == stack.urn} == {"net", "db", "app", "appToProxy"}
    (cluster,) = inputs(check, "aws:rds/cluster:Cluster")
    assert cluster["engine"] == "aurora-postgresql"
    ingress = [r for r in inputs(check, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.get("description", "").startswith("RDS Proxy tcp/5432 from app hosts")]
    assert len(ingress) == 1 and ingress[0]["fromPort"] == 5432
    assert set(stack.outputs or {}) >= {"url", "proxyEndpoint", "clusterEndpoint"}


def test_yaml_example_matches_the_committed_schema():
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())
    schema = json.loads((REPO / "provider" / "schema.json").read_text())
    assert program["runtime"] == "yaml" and program["packages"] == {"aurorakit": "../../provider"}
    assert (EXAMPLES / "yaml" / program["packages"]["aurorakit"] / "PulumiPlugin.yaml").is_file()
    assert schema_problems(program, schema) == []


@pytest.mark.parametrize("mutate, problem", [
    (lambda p: p["resources"]["db"]["properties"].update(engine="postgres"), "is not one of"),
    (lambda p: p["resources"]["db"]["properties"].update(readerz=1), "no input 'readerz'"),
    (lambda p: p["resources"]["db"]["properties"].pop("vpcId"), "missing required input 'vpcId'"),
    (lambda p: p["resources"]["db"]["properties"].update(readers="${net.vpcId}"), "plain input"),
    (lambda p: p["resources"]["app"]["properties"]["database"].update(port="${db.port}"), "plain input"),
    (lambda p: p["resources"]["app"]["properties"].update(vpcId="${net.vpcIdd}"), "has no output 'vpcIdd'"),
    (lambda p: p["resources"]["net"].update(type="aurorakit:index:Netwerk"), "unknown resource type"),
    (lambda p: p["resources"]["appToProxy"]["properties"]["target"].update(defaultPort="5432"), "is not integer"),
])
def test_the_schema_check_catches_what_preview_would_reject(mutate, problem):
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())
    schema = json.loads((REPO / "provider" / "schema.json").read_text())
    mutate(program)
    assert any(problem in p for p in schema_problems(program, schema)), schema_problems(program, schema)


@pytest.mark.parametrize("name", ALL)
def test_every_example_is_a_documented_project_that_ci_runs(name):
    program = EXAMPLES / name
    project = yaml.safe_load((program / "Pulumi.yaml").read_text())
    assert project["name"].startswith("aurorakit-") and project["name"] != "aurorakit"
    assert (program / f"Pulumi.{STACK}.yaml").is_file()
    assert len((program / "README.md").read_text().split()) > 40
    if name in PYTHON:
        assert (program / "requirements.txt").read_text().strip().endswith("../..")
        assert f"examples/{name}" in (REPO / ".ci" / "run").read_text() or "examples/*/" in (REPO / ".ci" / "run").read_text()
        assert f"examples/{name}" in (REPO / ".github" / "workflows" / "ci.yml").read_text()
    assert f"examples/{name}" in (REPO / "README.md").read_text()
