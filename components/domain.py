"""The app's own domain on the fleet's ALB (children of `AppFleet`): an ACM certificate validated
through DNS in the user's Route 53 hosted zone, and the alias record to the load balancer.

ACM names the validation record only once the certificate exists, so the record's name, type and
value come from the certificate's `domain_validation_options` (an Output): the record is one
resource per domain, created up front (never inside an `apply`), each picking its own entry by
domain name. One domain, one record (a certificate for more names would need one record per
distinct entry). `CertificateValidation` waits until ACM has issued the certificate, and the
HTTPS listener takes the ARN from it, so it never serves a pending certificate.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

# RFC 2606 / RFC 6761 names for documentation and tests: nobody can validate a certificate for
# them in public DNS.
RESERVED_SUFFIXES = ("example", "test", "invalid", "localhost", "example.com", "example.net", "example.org")
# The committed Pulumi.prod.yaml's placeholder pair: accepted (loudly) so that the stack file
# passes its checks; Route 53 has no zone with this id, so a real `pulumi up` stops at the first
# record it writes (the certificate's validation record).
PLACEHOLDER_DOMAIN = "app.example.com"
PLACEHOLDER_ZONE_ID = "ZREPLACEWITHYOURZONEID"
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"(?=.{{3,253}}$){_LABEL}(\.{_LABEL})*\.(?!\d+$){_LABEL}")
_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,32}")


def domain_problem(value: Any) -> Optional[str]:
    """A host name for the app: lowercase DNS labels, at least two, no wildcard, no trailing dot."""
    if not isinstance(value, str) or not _DOMAIN.fullmatch(value):
        return "must be a lowercase DNS name like app.example.org (no wildcard, no trailing dot)"
    return None


def zone_id_problem(value: Any) -> Optional[str]:
    if not isinstance(value, str) or not _ZONE_ID.fullmatch(value):
        return "must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ"
    return None


def is_reserved(domain: str) -> bool:
    return any(domain == s or domain.endswith("." + s) for s in RESERVED_SUFFIXES)


def placeholder_problem(domain: str, zone_id: str) -> Optional[tuple[str, str]]:
    """(field, text) when the pair mixes a placeholder with a real value or uses a documentation
    name that can never validate; None for a real pair or exactly the shipped placeholder pair."""
    if (domain, zone_id) == (PLACEHOLDER_DOMAIN, PLACEHOLDER_ZONE_ID):
        return None
    if zone_id == PLACEHOLDER_ZONE_ID:
        return "hosted_zone_id", "is the placeholder; set the id of the hosted zone that serves {domain_name}"
    if is_reserved(domain):
        return "domain_name", ("is a documentation name (RFC 2606/6761) that no certificate can be validated for; "
                               "set your own domain")
    return None


def is_placeholder(domain: Optional[str], zone_id: Optional[str]) -> bool:
    return (domain, zone_id) == (PLACEHOLDER_DOMAIN, PLACEHOLDER_ZONE_ID)


def _field(option: Any, field: str) -> Any:
    """`field` of one validation option: the provider's output type (attributes) or a plain
    mapping (snake_case or camelCase keys)."""
    if hasattr(option, field):
        return getattr(option, field)
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), field)
    return option[field] if field in option else option.get(camel)


def _validation_option(options: Sequence[Any], domain: str, field: str) -> str:
    """`field` of the domain_validation_options entry for `domain`."""
    for option in options or ():
        if _field(option, "domain_name") == domain:
            return _field(option, field)
    raise ValueError(f"the certificate has no DNS validation option for {domain}")


def validated_certificate(name: str, domain: str, zone_id: str, tags: dict,
                          parent: pulumi.Resource) -> pulumi.Output[str]:
    """An ACM certificate for `domain`, validated through a record in `zone_id`; the ARN resolves
    once ACM has issued it."""
    child = pulumi.ResourceOptions(parent=parent)
    # Replacing a certificate (a new domain) creates the new one first; the listener moves to
    # it, then the old one is deleted (ACM refuses to delete a certificate in use).
    certificate = aws.acm.Certificate(f"{name}-certificate", domain_name=domain, validation_method="DNS",
                                      tags={**tags, "Name": domain}, opts=child)
    options = certificate.domain_validation_options

    def option(field: str) -> pulumi.Output[str]:
        return options.apply(lambda o: _validation_option(o, domain, field))

    # ACM derives the validation record from the domain and the account: a record left by an
    # earlier certificate for the same name is the same record, so it may be taken over.
    record = aws.route53.Record(f"{name}-certificate-validation-record", zone_id=zone_id,
                                name=option("resource_record_name"), type=option("resource_record_type"),
                                records=[option("resource_record_value")], ttl=60, allow_overwrite=True,
                                opts=child)
    validation = aws.acm.CertificateValidation(f"{name}-certificate-validation", certificate_arn=certificate.arn,
                                               validation_record_fqdns=[record.fqdn], opts=child)
    return validation.certificate_arn


def alias_record(name: str, domain: str, zone_id: str, load_balancer: aws.lb.LoadBalancer,
                 parent: pulumi.Resource) -> aws.route53.Record:
    """`domain` -> the ALB. An A record only: the ALB (and the VPC) are IPv4-only, so an AAAA
    alias would answer nothing. Never overwrites a record the zone already has for the name."""
    return aws.route53.Record(
        f"{name}-alias", zone_id=zone_id, name=domain, type="A",
        aliases=[aws.route53.RecordAliasArgs(name=load_balancer.dns_name, zone_id=load_balancer.zone_id,
                                             evaluate_target_health=True)],
        opts=pulumi.ResourceOptions(parent=parent))
