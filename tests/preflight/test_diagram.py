"""The diagram is derived from the recorded resources and their relationships."""
import pytest

from preflight.diagram import build, write_diagram


@pytest.fixture
def result(fixture_result):
    return fixture_result


def test_structure_follows_the_program(result):
    src = build(result).source
    vpc = src.index('label="VPC net-vpc 10.0.0.0/16"')
    az = src.index('label="eu-west-1a"')
    subnet = src.index('label="private 10.0.1.0/24"')
    host = src.index('[label="EC2 app\nt3.micro"')
    assert vpc < az < subnet < host  # host drawn inside its subnet, inside the AZ, inside the VPC
    assert "Aurora cluster db\naurora-mysql" in src
    # the SG rule db-from-app becomes one labelled edge from the host to the cluster
    edges = [ln.strip().split(" [")[0] for ln in src.splitlines() if "->" in ln and "tcp 3306" in ln]
    assert edges == ["n_pulumi_pulumi_Stack_aws_ec2_instance_Instance__app -> "
                     "n_pulumi_pulumi_Stack_aws_rds_cluster_Cluster__db"]


def test_writes_svg_and_dot(result, tmp_path):
    write_diagram(result, str(tmp_path / "a.svg"))
    write_diagram(result, str(tmp_path / "a.dot"))
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert "digraph architecture" in (tmp_path / "a.dot").read_text()
    assert "tcp 3306" in (tmp_path / "a.svg").read_text()
