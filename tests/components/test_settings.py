"""Typed stack settings: each invalid value is ONE clear error naming key, value and allowed
values, raised before any resource is registered."""
import runpy

import pulumi
import pytest

from components.settings import SETTINGS, SettingsError
from preflight.mocks import install_mocks
from preflight.stackconfig import load_stack_config

from .conftest import ROOT

CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"

BAD = [  # (stack, overrides, key in message, part of the "allowed" text)
    ("dev", {"vpcCidr": "10.0.0.0/33"}, "vpcCidr", "IPv4 CIDR"),
    ("dev", {"vpcCidr": "10.0.0.1/16"}, "vpcCidr", "host bits zero"),
    ("dev", {"vpcCidr": "8.8.0.0/16"}, "vpcCidr", "private (RFC 1918)"),
    ("dev", {"vpcCidr": "10.0.0.0/12"}, "vpcCidr", "between /16 and /24"),
    ("prod", {"subnetPrefixLength": 18}, "subnetPrefixLength", "9 subnets (3 tiers x 3 AZs) do not fit"),
    ("dev", {"subnetPrefixLength": 29}, "subnetPrefixLength", "at most 28"),
    ("dev", {"availabilityZones": ["eu-west-1a"]}, "availabilityZones", "2 or 3 distinct AZ"),
    ("dev", {"availabilityZones": ["eu-west-1a", "eu-west-1a"]}, "availabilityZones", "2 or 3 distinct AZ"),
    ("dev", {"availabilityZones": ["us-east-1a", "us-east-1b"]}, "availabilityZones", "in aws:region eu-west-1"),
    ("dev", {"availabilityZones": "eu-west-1a"}, "availabilityZones", "must be a YAML/JSON list"),
    ("dev", {"azCount": 4, "availabilityZones": None}, "azCount", "allowed values are 2, 3"),
    ("dev", {"dbEngine": "oracle"}, "dbEngine", "allowed values are aurora-mysql, aurora-postgresql"),
    ("dev", {"dbEngineVersion": "16.4"}, "dbEngineVersion", "not a aurora-mysql version"),
    ("dev", {"dbMode": "serverless-v1"}, "dbMode", "allowed values are provisioned, serverless"),
    ("dev", {"dbInstanceClass": "r7g.large"}, "dbInstanceClass", "Aurora instance class"),
    ("dev", {"dbInstanceClass": "db.t3.small"}, "dbInstanceClass", "no micro/small"),
    # AWS: "Data API isn't supported on T DB instance classes"; the Data API creates the app user.
    ("prod", {"dbInstanceClass": "db.t4g.medium"}, "dbInstanceClass",
     "no RDS Data API (which creates appDbUser) on T DB instance classes: with dbMode provisioned choose a "
     "class outside db.t* (e.g. db.r7g.large, db.r6g.large), or set dbMode serverless"),
    ("prod", {"dbInstanceClass": "db.t3.large", "dbReaderAutoscalingMax": 0}, "dbInstanceClass",
     "no RDS Data API"),
    ("dev", {"dbServerlessMinAcu": 8}, "dbServerlessMinAcu", "must not exceed dbServerlessMaxAcu (2.0)"),
    ("dev", {"dbServerlessMaxAcu": 300}, "dbServerlessMaxAcu", "1..256 in steps of 0.5"),
    ("dev", {"dbServerlessMinAcu": 0, "dbEngineVersion": "8.0.mysql_aurora.3.07.1"}, "dbServerlessMinAcu",
     "0 ACU (auto-pause) needs aurora-mysql ≥ 3.08.0"),
    ("dev", {"dbServerlessMaxAcu": 2.25}, "dbServerlessMaxAcu", "1..256 in steps of 0.5"),
    ("dev", {"dbReaders": -1}, "dbReaders", "between 0 and 15"),
    ("dev", {"dbReaders": "two"}, "dbReaders", "must be an integer"),
    ("dev", {"natMode": "sometimes"}, "natMode", "allowed values are none, single, per-az"),
    ("dev", {"hostInstanceType": "huge"}, "hostInstanceType", "EC2 instance type like t3.micro"),
    ("dev", {"logRetentionDays": 10}, "logRetentionDays", "allowed values are 1, 3, 5, 7, 14"),
    ("dev", {"dbBackupRetentionDays": 40}, "dbBackupRetentionDays", "between 1 and 35"),
    ("dev", {"dbMasterUsername": "admin"}, "dbMasterUsername", "not one of admin"),
    ("dev", {"dbEngine": "aurora-postgresql", "dbEngineVersion": "16.6", "dbBacktrackHours": 24},
     "dbBacktrackHours", "only for aurora-mysql"),
    ("dev", {"dbDeletionProtection": "yes"}, "dbDeletionProtection", "true or false"),
    ("dev", {"protect": "on"}, "protect", "true or false"),
    ("dev", {"interfaceEndpoints": "tRue"}, "interfaceEndpoints", "true or false"),
    ("dev", {"dbMonitoringInterval": 7}, "dbMonitoringInterval", "allowed values are 0, 1, 5, 10, 15, 30, 60"),
    ("dev", {"dbPerformanceInsightsRetentionDays": 30}, "dbPerformanceInsightsRetentionDays", "multiple of 31"),
    ("dev", {"dbReaderAutoscalingMax": 20}, "dbReaderAutoscalingMax", "between max(dbReaders, 1)=1 and 15"),
    ("dev", {"natmode": "none"}, "aurorakit:natmode", "unknown key; did you mean natMode?"),
    ("dev", {"dbServerlesMaxAcu": 4}, "aurorakit:dbServerlesMaxAcu", "unknown key; did you mean dbServerlessMaxAcu?"),
    ("dev", {"zzTop": 1}, "aurorakit:zzTop", "unknown key; known keys are albAccessLogsBucket"),
    ("prod", {"hostIngressCidrs": ["0.0.0.0/0"]}, "hostIngressCidrs", "only with hostPlacement public"),
    # Without NAT a private host boots (S3 gateway endpoint) but only the endpoints let SSM in.
    ("dev", {"hostPlacement": "private", "hostIngressCidrs": None, "albAllowHttp": True}, "interfaceEndpoints",
     "a private host with natMode none needs true: Session Manager reaches it only through the ssm"),
    ("dev", {"hostKeyPairName": "ops"}, "hostAdminCidr", "required when hostKeyPairName is set"),
    ("dev", {"hostKeyPairName": "ops", "hostAdminCidr": "0.0.0.0/0"}, "hostAdminCidr", "SSH is allowed from at most a /24"),
    ("dev", {"hostKeyPairName": "ops", "hostAdminCidr": "128.0.0.0/1"}, "hostAdminCidr", "reaches 1,"),
    ("dev", {"hostKeyPairName": "ops", "hostAdminCidr": "52.0.0.0/23"}, "hostAdminCidr", "at most a /24"),
    ("dev", {"appPort": 3306}, "appPort", "must not be an admin or database port"),
    ("prod", {"albAccessLogsBucket": "Logs_Bucket"}, "albAccessLogsBucket", "must be an S3 bucket name"),
    ("dev", {"albAccessLogsBucket": "my-alb-logs"}, "albAccessLogsBucket", "only with hostPlacement private"),
    ("prod", {"albCertificateArn": "arn:aws:iam::1:cert/x"}, "albCertificateArn", "ACM certificate ARN"),
    ("dev", {"dbKmsKeyArn": "alias/mine"}, "dbKmsKeyArn", "KMS key ARN"),
    ("dev", {"dbAlarmEmails": ["ops"]}, "dbAlarmEmails", "list of e-mail addresses"),
    ("dev", {"tags": {"Team": 1}}, "tags", "string -> string"),
    ("dev", {"aws:region": None}, "aws:region", "must be set to an AWS region"),
    ("dev", {"aws:region": "eu-wset-1"}, "aws:region", "did you mean eu-west-1?"),
    ("dev", {"aws:region": "eu-west-9"}, "aws:region", "regions are af-south-1"),
    ("dev", {"aws:region": "eu-west-9", "aws:skipRegionValidation": "true"}, "availabilityZones",
     "every AZ must be in aws:region eu-west-9"),
    ("dev", {"AuroraKit:dbReaders": "2"}, "AuroraKit:dbReaders", "did you mean aurorakit:dbReaders?"),
    ("dev", {"aurorakti:dbReaders": "2"}, "aurorakti:dbReaders", "nothing reads it"),
    ("dev", {"tags": {"aws:team": "x"}}, "tags", "the prefixes aws:, aurorakit: are reserved"),
    ("dev", {"tags": {"AURORAKIT:allow-plain-http": "true"}}, "tags", "are reserved"),
    ("dev", {"tags": {"Name": "x"}}, "tags", "is set by the stack itself"),
    ("dev", {"tags": {"k" * 129: "x"}}, "tags", "keys are 1-128 characters"),
    ("dev", {"tags": {"team": "v" * 257}}, "tags", "values at most 256"),
    ("dev", {"tags": {"team": "a;b"}}, "tags", "only letters, digits, spaces"),
    ("dev", {"tags": {f"t{i}": "x" for i in range(41)}}, "tags", "at most 40 tags"),
    ("dev", {"dbName": "mysql"}, "dbName", "is a system database of aurora-mysql"),
    ("dev", {"dbName": "Information_Schema"}, "dbName", "is a system database"),
    ("dev", {"dbEngine": "aurora-postgresql", "dbEngineVersion": "16.6", "dbName": "template1"}, "dbName",
     "is a system database of aurora-postgresql"),
    ("dev", {"dbKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0f5e2c1a-8f4e-4a6f-9d55-2b1c3d4e5f60"},
     "dbKmsKeyArn", "must be a key in aws:region eu-west-1"),
    # Secure by default: a private host needs a domain, a certificate or the explicit HTTP opt-in.
    ("prod", {"appDomainName": None, "appHostedZoneId": None}, "appDomainName",
     "HTTPS needs a certificate: set appDomainName with appHostedZoneId (the stack creates and validates one), "
     "or albCertificateArn (an existing ACM certificate), or set albAllowHttp to true as an explicit opt-in"),
    ("prod", {"albCertificateArn": CERT}, "albCertificateArn", "choose one: appDomainName (the stack creates"),
    ("prod", {"albAllowHttp": True}, "albAllowHttp", "only with hostPlacement private without appDomainName or "
     "albCertificateArn"),
    ("prod", {"appDomainName": None, "appHostedZoneId": None, "albCertificateArn": CERT.replace("eu-west-1", "us-east-1")},
     "albCertificateArn", "must be a certificate in aws:region eu-west-1: an ALB serves only certificates of its own region"),
    ("prod", {"appDomainName": "App.Example.org"}, "appDomainName", "must be a lowercase DNS name"),
    ("prod", {"appDomainName": "shop.aurorakit.dev", "appHostedZoneId": "z-123"}, "appHostedZoneId",
     "must be a Route 53 hosted zone id"),
    ("prod", {"appDomainName": "shop.aurorakit.dev"}, "appHostedZoneId",
     "is the placeholder; set the id of the hosted zone that serves appDomainName"),
    ("prod", {"appHostedZoneId": "Z0123456789ABCDEFGHIJ"}, "appDomainName", "is a documentation name (RFC 2606/6761)"),
    ("prod", {"appDomainName": "shop.aurorakit.dev", "appHostedZoneId": None}, "appDomainName", "needs appHostedZoneId"),
    ("prod", {"appDomainName": None, "albAllowHttp": True}, "appHostedZoneId", "only with appDomainName"),
    ("dev", {"appDomainName": "shop.aurorakit.dev", "appHostedZoneId": "Z0123456789ABCDEFGHIJ"}, "appDomainName",
     "only with hostPlacement private"),
    ("dev", {"albAllowHttp": True}, "albAllowHttp", "only with hostPlacement private"),
    ("dev", {"albAllowHttp": False}, "albAllowHttp", "only with hostPlacement private"),
    # A key that is set but has no effect is an error, never silently ignored.
    ("dev", {"albIngressCidrs": ["10.0.0.0/8"]}, "albIngressCidrs", "only with hostPlacement private"),
    ("dev", {"dbInstanceClass": "db.r7g.large"}, "dbInstanceClass", "only with dbMode provisioned"),
    ("prod", {"dbServerlessMinAcu": 1}, "dbServerlessMinAcu", "only with dbMode serverless"),
    ("prod", {"dbServerlessMaxAcu": 4}, "dbServerlessMaxAcu", "only with dbMode serverless"),
    ("dev", {"dbReaderAutoscalingCpuTarget": 50}, "dbReaderAutoscalingCpuTarget", "only with dbReaderAutoscalingMax"),
    ("dev", {"azCount": 2}, "azCount", "only without availabilityZones"),
    ("dev", {"dbBackupWindow": "2:00-03:00"}, "dbBackupWindow", "must be hh24:mi-hh24:mi in UTC"),
    ("dev", {"dbBackupWindow": "02:00-24:00"}, "dbBackupWindow", "must be hh24:mi-hh24:mi in UTC"),
    ("dev", {"dbBackupWindow": "23:50-00:10"}, "dbBackupWindow", "at least 30 minutes"),
    ("dev", {"dbMaintenanceWindow": "Sun:04:00-Sun:05:00"}, "dbMaintenanceWindow", "mon/tue/wed/thu/fri/sat/sun"),
    ("dev", {"dbMaintenanceWindow": "sun:04:00"}, "dbMaintenanceWindow", "ddd:hh24:mi-ddd:hh24:mi in UTC"),
    ("dev", {"dbMaintenanceWindow": "sun:23:50-mon:00:10"}, "dbMaintenanceWindow", "at least 30 minutes"),
    ("prod", {"dbBackupWindow": "04:30-05:30"}, "dbBackupWindow", "overlaps dbMaintenanceWindow"),
    # a daily window that wraps midnight meets a weekly one on the next day
    ("dev", {"dbBackupWindow": "23:45-00:30", "dbMaintenanceWindow": "wed:00:15-wed:01:00"}, "dbBackupWindow",
     "overlaps dbMaintenanceWindow (wed:00:15-wed:01:00)"),
    # a weekly window that wraps Sunday night
    ("dev", {"dbBackupWindow": "00:30-01:00", "dbMaintenanceWindow": "sun:23:00-mon:01:00"}, "dbBackupWindow",
     "overlaps dbMaintenanceWindow"),
]


def _run_expecting_error(stack, overrides):
    config = load_stack_config(stack, ROOT).with_overrides(overrides)
    mocks = install_mocks(config, stack=stack)

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
    with pytest.raises(SettingsError) as info:
        program()
    return info.value, mocks


@pytest.mark.parametrize("stack,overrides,key,allowed", BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_value_is_one_clear_error_and_nothing_is_registered(stack, overrides, key, allowed):
    error, mocks = _run_expecting_error(stack, overrides)
    message = str(error)
    full = key if ":" in key else f"aurorakit:{key}"
    assert message.startswith(f"invalid stack config {full} = "), message
    assert allowed in message, message
    assert "\n" not in message
    assert isinstance(error, pulumi.RunError)   # pulumi shows RunError without a traceback
    assert mocks.resources == [], [r.name for r in mocks.resources]


def test_at_least_fifteen_distinct_keys_are_covered():
    assert len({b[2] for b in BAD}) >= 15


def test_message_names_the_offending_value():
    error, _ = _run_expecting_error("dev", {"natMode": "sometimes"})
    assert str(error) == ("invalid stack config aurorakit:natMode = 'sometimes': "
                          "allowed values are none, single, per-az")


def _settings(stack, overrides=None):
    from components.settings import load_settings
    config = load_stack_config(stack, ROOT).with_overrides(overrides or {})
    install_mocks(config, stack=stack)
    return load_settings()


def test_dev_settings_are_cheap_and_explicit():
    s = _settings("dev")
    assert s.network.nat_mode == "none" and len(s.availability_zones) == 2
    assert s.database.mode == "serverless" and s.database.readers == 0
    assert s.database.deletion_protection is False and s.database.protect is False
    assert s.host.placement == "public" and s.host.ingress_cidrs == ("203.0.113.10/32",)
    assert s.tags == {"Project": "aurorakit", "Stack": "dev", "ManagedBy": "pulumi"}


def test_prod_settings_are_safe():
    s = _settings("prod")
    assert s.network.nat_mode == "per-az" and len(s.availability_zones) == 3
    assert s.network.interface_endpoints
    assert s.database.readers == 2 and s.database.protect and s.database.deletion_protection
    assert s.database.backup_retention_days == 14 and s.database.backtrack_hours == 24
    assert s.host.placement == "private"


def test_defaults_apply_when_keys_are_absent():
    s = _settings("dev", {**{k: None for k in ("natMode", "dbMode", "hostPlacement", "hostIngressCidrs",
                                               "dbDeletionProtection", "interfaceEndpoints",
                                               "dbServerlessMinAcu", "dbServerlessMaxAcu")},
                          "albCertificateArn": CERT})
    assert s.network.nat_mode == SETTINGS["natMode"].default == "single"
    assert s.database.mode == "provisioned" and s.database.deletion_protection is True
    assert s.host.placement == "private" and s.host.load_balancer_allow_http is False


def test_yaml_1_2_boolean_spellings_are_accepted():
    s = _settings("dev", {"protect": "TRUE", "dbDeletionProtection": "True", "interfaceEndpoints": "FALSE"})
    assert s.database.protect is True and s.database.deletion_protection is True
    assert s.network.interface_endpoints is False


def test_prod_ships_https_on_a_placeholder_domain_and_each_alternative_is_accepted():
    s = _settings("prod")
    assert (s.host.domain_name, s.host.hosted_zone_id) == ("app.example.com", "ZREPLACEWITHYOURZONEID")
    assert s.host.load_balancer_allow_http is False and s.host.certificate_arn is None
    mine = _settings("prod", {"appDomainName": "shop.aurorakit.dev", "appHostedZoneId": "Z0123456789ABCDEFGHIJ"})
    assert mine.host.domain_name == "shop.aurorakit.dev"
    existing = _settings("prod", {"appDomainName": None, "appHostedZoneId": None, "albCertificateArn": CERT})
    assert existing.host.certificate_arn == CERT and existing.host.load_balancer_allow_http is False
    plain = _settings("prod", {"appDomainName": None, "appHostedZoneId": None, "albAllowHttp": True})
    assert plain.host.load_balancer_allow_http is True  # the explicit opt-in, and only that


def test_a_private_host_without_nat_is_accepted_with_the_ssm_endpoints():
    """The hosts boot from S3 through the gateway endpoint: prod needs no NAT gateway at all."""
    s = _settings("prod", {"natMode": "none"})
    assert s.network.nat_mode == "none" and s.network.interface_endpoints and s.host.placement == "private"


@pytest.mark.parametrize("how", ["engine", "env"])
def test_a_secret_value_never_appears_in_the_error(how, monkeypatch):
    secret = "alias/s3cr3t-Zq81"
    config = load_stack_config("dev", ROOT).with_overrides({"dbKmsKeyArn": secret})
    if how == "engine":
        install_mocks(config, stack="dev", secret_keys=["aurorakit:dbKmsKeyArn"])
    else:
        install_mocks(config, stack="dev")
        monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", '["aurorakit:dbKmsKeyArn"]')
    from components.settings import load_settings
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith("invalid stack config aurorakit:dbKmsKeyArn = [secret]: "), message
    assert "s3cr3t" not in message and "s3cr3t" not in repr(info.value.value)


def test_a_plain_value_is_still_shown():
    config = load_stack_config("dev", ROOT).with_overrides({"dbKmsKeyArn": "alias/mine"})
    install_mocks(config, stack="dev")
    from components.settings import load_settings
    with pytest.raises(SettingsError, match="dbKmsKeyArn = 'alias/mine'"):
        load_settings()


def test_azs_fall_back_to_the_region_invoke():
    s = _settings("dev", {"availabilityZones": None, "azCount": 3})
    assert s.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")


def test_az_fallback_asks_only_for_the_regions_own_zones():
    from preflight.mocks import RecordingMocks
    mocks = RecordingMocks(region="eu-west-1")
    config = load_stack_config("dev", ROOT).with_overrides({"availabilityZones": None})
    install_mocks(config, stack="dev", mocks=mocks)
    from components.settings import load_settings
    load_settings()
    call = next(c for c in mocks.calls if c.token.endswith("getAvailabilityZones"))
    assert call.args["state"] == "available"
    assert call.args["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


def test_every_invalid_key_is_reported_at_once_one_line_each():
    error, mocks = _run_expecting_error("prod", {"natMode": "sometimes", "dbReaders": 16, "appPort": 22,
                                                 "dbBackupRetentionDays": 0, "nattMode": "x"})
    lines = str(error).splitlines()
    keys = [line.split(" = ")[0].removeprefix("invalid stack config aurorakit:") for line in lines]
    assert keys == ["natMode", "dbReaders", "dbBackupRetentionDays", "appPort", "nattMode"], lines
    assert all(line.startswith("invalid stack config aurorakit:") for line in lines)
    assert mocks.resources == []


def test_a_wired_value_is_checked_as_compose_will_pass_it():
    """The subnets must fit the AZs the stack resolves (from availabilityZones or azCount)."""
    error, _ = _run_expecting_error("dev", {"availabilityZones": None, "azCount": 3, "vpcCidr": "10.0.0.0/24",
                                            "subnetPrefixLength": 27})
    assert str(error) == ("invalid stack config aurorakit:subnetPrefixLength = 27: 9 subnets (3 tiers x 3 AZs) "
                          "do not fit in 10.0.0.0/24: only 8 /27 blocks; use a longer prefix or a larger VPC CIDR")


def test_an_instance_type_of_no_ec2_family_is_refused_with_a_suggestion():
    error, _ = _run_expecting_error("dev", {"hostInstanceType": "t9.micro"})
    assert str(error).startswith("invalid stack config aurorakit:hostInstanceType = 't9.micro': "
                                 "no EC2 instance family 't9' (did you mean t3.micro"), str(error)
    for ok in ("t4g.small", "m7i-flex.large", "c8g.metal-24xl"):
        assert _settings("dev", {"hostInstanceType": ok}).host.instance_type == ok


@pytest.mark.parametrize("itype,arch,ok", [("t4g.small", "x86_64", False), ("t3.small", "arm64", False),
                                           ("t4g.small", "arm64", True), ("t3.small", "x86_64", True)])
def test_a_pinned_ami_must_match_the_instance_types_architecture(itype, arch, ok):
    from preflight.mocks import RecordingMocks
    ami = "ami-0123456789abcdef0"
    mocks = RecordingMocks(region="eu-west-1", ami_architectures={ami: arch})
    config = load_stack_config("dev", ROOT).with_overrides({"hostInstanceType": itype, "hostAmiId": ami})
    install_mocks(config, stack="dev", mocks=mocks)
    from components.settings import load_settings
    if ok:
        assert load_settings().host.ami_id == ami
        return
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(f"invalid stack config aurorakit:hostAmiId = '{ami}': is a {arch} image; "
                                      f"hostInstanceType {itype} runs "), str(info.value)
    call = next(c for c in mocks.calls if c.token == "aws:ec2/getAmi:getAmi")
    assert call.args["filters"] == [{"name": "image-id", "values": [ami]}]


@pytest.mark.parametrize("itype", ["t4g.small", "t3.small"])
def test_a_pinned_ami_the_mocks_cannot_look_up_is_not_refused_but_said_unchecked(itype):
    """preflight cannot know a pinned image's architecture: neither architecture is refused."""
    ami = "ami-0fedcba9876543210"
    found = _warnings("dev", {"hostInstanceType": itype, "hostAmiId": ami})
    assert f"hostAmiId {ami}: its architecture could not be looked up here, so whether it runs on {itype}" in \
        " ".join(found), found


def _warnings(stack, overrides):
    import logging

    from components.settings import load_settings
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())
    logger = logging.Logger("test-settings")
    logger.addHandler(Keep(logging.WARNING))
    install_mocks(load_stack_config(stack, ROOT).with_overrides(overrides), stack=stack, logger=logger)

    @pulumi.runtime.test
    def program():
        load_settings()
    program()
    return seen


def test_valid_but_suspicious_settings_are_warnings_naming_the_key():
    dev = _warnings("dev", {"hostIngressCidrs": ["203.0.113.10/32", "0.0.0.0/1", "128.0.0.0/1"]})
    assert dev == [
        "stack config aurorakit:hostIngressCidrs = '203.0.113.10/32': is in the documentation range "
        "203.0.113.0/24 (RFC 5737/3849): no client has that address, so nobody can connect; replace it "
        "with your own address",
        "stack config aurorakit:hostIngressCidrs = ['203.0.113.10/32', '0.0.0.0/1', '128.0.0.0/1']: opens "
        "the public host's app port to the whole internet (plain HTTP, no load balancer in front); list "
        "the addresses that need it"], dev
    assert _warnings("dev", {"hostIngressCidrs": ["192.0.2.0/28"]})[0].startswith(
        "stack config aurorakit:hostIngressCidrs = '192.0.2.0/28': is in the documentation range 192.0.2.0/24")
    assert _warnings("dev", {"hostIngressCidrs": ["198.18.0.0/32"]}) == []  # benchmarking range: not a placeholder
    assert _warnings("prod", {"appDomainName": "shop.aurorakit.dev", "appHostedZoneId": "Z0123456789ABCDEFGHIJ"}) == []
    assert _warnings("prod", {}) == [  # the shipped placeholders, until the user sets a real domain
        "stack config aurorakit:appDomainName = 'app.example.com': with appHostedZoneId ZREPLACEWITHYOURZONEID is "
        "the shipped placeholder: set your domain and the id of its Route 53 hosted zone before `pulumi up` "
        "(Route 53 rejects this zone id)"]


def test_the_whole_internet_spelled_as_many_blocks_is_still_a_warning():
    import ipaddress
    everything_but_10 = [str(n) for n in ipaddress.ip_network("0.0.0.0/0").address_exclude(
        ipaddress.ip_network("10.0.0.0/8"))]
    found = _warnings("dev", {"hostIngressCidrs": everything_but_10})
    assert len(found) == 1 and "to the whole internet" in found[0], found
    assert _warnings("dev", {"hostIngressCidrs": everything_but_10[1:]}) == []  # half the internet left out


def test_a_secret_settings_value_is_never_shown_in_a_warning(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", '["aurorakit:hostIngressCidrs"]')
    found = _warnings("dev", {"hostIngressCidrs": ["192.0.2.77/32"]})
    assert found == ["stack config aurorakit:hostIngressCidrs = [secret]: is in the documentation range "
                     "192.0.2.0/24 (RFC 5737/3849): no client has that address, so nobody can connect; replace "
                     "it with your own address"], found


def test_the_plain_http_opt_in_is_said_out_loud():
    found = _warnings("prod", {"appDomainName": None, "appHostedZoneId": None, "albAllowHttp": True})
    assert found == ["stack config aurorakit:albAllowHttp = True: the internet-facing load balancer serves plain "
                     "HTTP (the explicit opt-in): form data crosses the internet in clear text and browsers get no "
                     "HSTS; set appDomainName with appHostedZoneId, or albCertificateArn, and remove albAllowHttp"]
    assert _warnings("prod", {"appDomainName": None, "appHostedZoneId": None, "albAllowHttp": None,
                              "albCertificateArn": CERT}) == []
