"""HTTPS on the app's own domain: the ACM certificate, its DNS validation record in the user's
hosted zone, the wait for issuance, the listener on the validated certificate (TLS 1.2+), the
redirect, the alias record to the ALB and the https URL; the Args checks of the domain settings."""
import re

import pytest

from components import AppFleetArgs
from components.domain import PLACEHOLDER_DOMAIN, PLACEHOLDER_ZONE_ID, domain_problem
from preflight.mocks import RecordingMocks, install_mocks
from preflight.recorder import RecordingMonitor

from .conftest import resolve
from .test_app_fleet import CERT, DB, KEY, PRIVATE, PUBLIC, build

ZONE = "Z0123456789ABCDEFGHIJ"
DOMAIN = "shop.aurorakit.dev"
ACM = "aws:acm/"
R53 = "aws:route53/record:Record"
LISTENER = "aws:lb/listener:Listener"


def test_the_stack_creates_validates_and_serves_a_certificate_for_the_domain(recording):
    mocks, monitor = recording
    fleet = build(domain_name=DOMAIN, hosted_zone_id=ZONE)
    cert = mocks.only(ACM + "certificate:Certificate")
    assert (cert.inputs["domainName"], cert.inputs["validationMethod"]) == (DOMAIN, "DNS")
    assert "subjectAlternativeNames" not in cert.inputs  # one name, one validation record
    (option,) = cert.outputs["domainValidationOptions"]
    records = {r.name: r for r in mocks.resources_of(R53)}
    assert set(records) == {"app-certificate-validation-record", "app-alias"}
    check = records["app-certificate-validation-record"].inputs
    # the record ACM asks for, in the user's zone (a record from an earlier certificate for the
    # same name is the same record: it may be taken over)
    assert (check["zoneId"], check["name"], check["type"], check["records"], check["ttl"]) == (
        ZONE, option["resourceRecordName"], option["resourceRecordType"], [option["resourceRecordValue"]], 60)
    assert check["allowOverwrite"] is True
    validation = mocks.only(ACM + "certificateValidation:CertificateValidation")
    assert validation.inputs["certificateArn"] == cert.outputs["arn"]
    assert validation.inputs["validationRecordFqdns"] == [records["app-certificate-validation-record"].outputs["fqdn"]]
    listeners = {li.inputs["port"]: li for li in mocks.resources_of(LISTENER)}
    https = listeners[443].inputs
    assert (https["protocol"], https["sslPolicy"]) == ("HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert https["certificateArn"] == cert.outputs["arn"]
    # the listener takes the ARN from the validation: it waits until ACM has issued the certificate
    deps = monitor.named("app-https").property_dependencies["certificateArn"]
    assert any(d.endswith("::app-certificate-validation") for d in deps), deps
    (redirect,) = listeners[80].inputs["defaultActions"]
    assert redirect == {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}}
    assert "aurorakit:allow-plain-http" not in (listeners[80].inputs.get("tags") or {})
    alias = records["app-alias"].inputs
    lb = mocks.only("aws:lb/loadBalancer:LoadBalancer").outputs
    assert (alias["zoneId"], alias["name"], alias["type"]) == (ZONE, DOMAIN, "A")
    assert alias["aliases"] == [{"name": lb["dnsName"], "zoneId": lb["zoneId"], "evaluateTargetHealth": True}]
    assert "allowOverwrite" not in alias  # never takes over a record the zone already has
    assert resolve(fleet.url) == f"https://{DOMAIN}"
    ports = sorted(r.inputs["fromPort"] for r in mocks.resources_of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                   if r.name.startswith("app-alb-ingress-"))
    assert ports == [80, 443]


def test_an_existing_certificate_keeps_the_alb_name_and_creates_no_dns(mocks):
    fleet = build(certificate_arn=CERT)
    assert mocks.resources_of(ACM + "certificate:Certificate") == [] and mocks.resources_of(R53) == []
    assert mocks.resources_of(ACM + "certificateValidation:CertificateValidation") == []
    https = next(li.inputs for li in mocks.resources_of(LISTENER) if li.inputs["port"] == 443)
    assert https["certificateArn"] == CERT
    assert resolve(fleet.url).startswith("https://app-alb-")


def test_the_shipped_placeholder_pair_is_accepted(mocks):
    """The stack settings warn about it (tests/components/test_settings.py), naming the key."""
    build(domain_name=PLACEHOLDER_DOMAIN, hosted_zone_id=PLACEHOLDER_ZONE_ID)
    # the plan is the real one (what a preview shows); Route 53 has no zone with this id, so a
    # real `pulumi up` stops at the first record it writes
    assert {r.inputs["zoneId"] for r in mocks.resources_of(R53)} == {PLACEHOLDER_ZONE_ID}


@pytest.mark.parametrize("value", ["app.example.org", "a.b", "xn--bcher-kva.example", "shop-1.eu.aurorakit.dev",
                                   "a" * 63 + ".io"])
def test_domain_syntax_accepts_host_names(value):
    assert domain_problem(value) is None


@pytest.mark.parametrize("value", ["App.Example.org", "*.example.org", "example.org.", "localhost", "a..b",
                                   "-a.example.org", "a-.example.org", "a.123", "a b.org", "a" * 64 + ".io",
                                   ("a" * 60 + ".") * 5 + "io", "https://app.example.org", ""])
def test_domain_syntax_refuses_anything_else(value):
    assert domain_problem(value) == "must be a lowercase DNS name like app.example.org (no wildcard, no trailing dot)"


def args(**kw):
    kw = {"load_balancer_subnet_ids": PUBLIC, **kw}
    return AppFleetArgs(vpc_id="vpc-0a", subnet_ids=PRIVATE, database=DB, kms_key_arn=KEY, **kw)


@pytest.mark.parametrize("kw,message", [
    ({}, re.escape("AppFleetArgs.domain_name = None: HTTPS needs a certificate: set AppFleetArgs.domain_name with "
                   "AppFleetArgs.hosted_zone_id (the stack creates and validates one), or "
                   "AppFleetArgs.certificate_arn (an existing ACM certificate), or set "
                   "AppFleetArgs.load_balancer_allow_http to true as an explicit opt-in to plain HTTP") + "$"),
    ({"domain_name": DOMAIN}, "AppFleetArgs.domain_name = 'shop.aurorakit.dev': needs AppFleetArgs.hosted_zone_id"),
    ({"hosted_zone_id": ZONE, "certificate_arn": CERT}, "AppFleetArgs.hosted_zone_id = 'Z0123456789ABCDEFGHIJ': "
                                                        "only with AppFleetArgs.domain_name"),
    ({"domain_name": DOMAIN, "hosted_zone_id": ZONE, "certificate_arn": CERT},
     "AppFleetArgs.certificate_arn = .*: choose one: AppFleetArgs.domain_name .* or AppFleetArgs.certificate_arn"),
    ({"domain_name": DOMAIN, "hosted_zone_id": ZONE, "load_balancer_allow_http": True},
     "AppFleetArgs.load_balancer_allow_http = True: only with AppFleetArgs.placement private without "
     "AppFleetArgs.domain_name or AppFleetArgs.certificate_arn"),
    ({"domain_name": DOMAIN, "hosted_zone_id": "z123"}, "hosted_zone_id = 'z123': must be a Route 53 hosted zone id"),
    ({"domain_name": DOMAIN, "hosted_zone_id": "Z" + "A" * 33}, "must be a Route 53 hosted zone id"),
    ({"domain_name": "*.aurorakit.dev", "hosted_zone_id": ZONE}, "domain_name = '\\*.aurorakit.dev': must be a lowercase DNS name"),
    ({"domain_name": "shop.example.com", "hosted_zone_id": ZONE}, "domain_name = 'shop.example.com': is a documentation name"),
    ({"domain_name": "app.test", "hosted_zone_id": ZONE}, "is a documentation name"),
    ({"domain_name": "web.example", "hosted_zone_id": ZONE}, "is a documentation name"),
    ({"domain_name": "x.y.invalid", "hosted_zone_id": ZONE}, "is a documentation name"),
    ({"domain_name": "example.net", "hosted_zone_id": ZONE}, "is a documentation name"),
    ({"domain_name": DOMAIN, "hosted_zone_id": PLACEHOLDER_ZONE_ID},
     "hosted_zone_id = 'ZREPLACEWITHYOURZONEID': is the placeholder; set the id of the hosted zone that serves "
     "AppFleetArgs.domain_name"),
    ({"domain_name": "app.example.org", "hosted_zone_id": PLACEHOLDER_ZONE_ID}, "hosted_zone_id .* is the placeholder"),
    ({"placement": "public", "load_balancer_subnet_ids": None, "domain_name": DOMAIN, "hosted_zone_id": ZONE},
     "domain_name = 'shop.aurorakit.dev': only with AppFleetArgs.placement private"),
])
def test_domain_settings_are_checked(kw, message):
    with pytest.raises(ValueError, match=message):
        args(**kw)


@pytest.mark.parametrize("kw", [{"domain_name": DOMAIN, "hosted_zone_id": ZONE}, {"certificate_arn": CERT},
                                {"load_balancer_allow_http": True},
                                {"domain_name": PLACEHOLDER_DOMAIN, "hosted_zone_id": PLACEHOLDER_ZONE_ID}])
def test_each_of_the_three_choices_is_enough(kw):
    assert args(**kw)


def _port_80_listener(**kw):
    """(registration, mocks) of the port-80 listener of a fleet built under fresh mocks."""
    mocks = RecordingMocks(region="eu-west-1")
    monitor = RecordingMonitor(mocks, preview=False, config={"aws:region": "eu-west-1"})
    install_mocks({"aws:region": "eu-west-1"}, stack="test", mocks=mocks, monitor=monitor)
    build(**kw)
    (listener,) = [r for r in mocks.resources_of(LISTENER) if r.inputs["port"] == 80]
    return monitor.named(listener.name), listener


def test_switching_between_http_and_https_keeps_one_port_80_listener():
    """ONE logical listener on port 80 whose action changes in place: a second logical name would
    be created before the first is deleted, and the ELB refuses a second port-80 listener."""
    plain, forward = _port_80_listener(load_balancer_allow_http=True)
    domain, redirect = _port_80_listener(domain_name=DOMAIN, hosted_zone_id=ZONE)
    existing, _ = _port_80_listener(certificate_arn=CERT)
    assert plain.urn == domain.urn == existing.urn and plain.urn.endswith("::app-http")
    assert forward.inputs["defaultActions"][0]["type"] == "forward"
    assert redirect.inputs["defaultActions"][0]["type"] == "redirect"
    # stacks created with the redirect under its own name keep that listener (no replacement)
    old = domain.urn.rsplit("::", 1)[0] + "::app-http-redirect"
    assert old in domain.aliases and old in existing.aliases
    # it redirects only once the HTTPS listener exists
    assert any(d.endswith("::app-https") for d in domain.dependencies), domain.dependencies
