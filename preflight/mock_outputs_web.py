"""Outputs AWS computes for the app's edge and artifacts: ACM certificates and their validation,
Route 53 records, S3 buckets, their settings and objects (merged into mock_outputs._COMPUTE)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .awsids import _hex, _physical_name, _uuid


def _certificate(m, seed, name, i):
    arn = m._arn("acm", f"certificate/{_uuid(seed)}")
    domain = i.get("domainName", "")
    names = [domain, *[n for n in i.get("subjectAlternativeNames") or [] if n != domain]]
    options = [{"domainName": n, "resourceRecordName": f"_{_hex(seed + n, 32)}.{n.removeprefix('*.')}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_hex(seed + n + 'v', 32)}.{_hex(seed + n + 'z', 10)}.acm-validations.aws."}
               for n in names]
    return {"__id": arn, "arn": arn, "domainValidationOptions": options, "status": "PENDING_VALIDATION",
            "type": "AMAZON_ISSUED", "keyAlgorithm": i.get("keyAlgorithm", "RSA_2048"),
            "subjectAlternativeNames": names, "notAfter": "", "notBefore": "", "pendingRenewal": False,
            "renewalEligibility": "INELIGIBLE", "validationEmails": []}


def _certificate_validation(m, seed, name, i):
    return {"__id": "2026-01-01 00:00:00 +0000 UTC", "certificateArn": i.get("certificateArn", "")}


def _record(m, seed, name, i):
    fqdn = str(i.get("name", "")).rstrip(".").lower()
    return {"__id": f"{i.get('zoneId', '')}_{fqdn}_{i.get('type', '')}", "fqdn": fqdn}


def _bucket(m, seed, name, i):
    n = _physical_name(name, i, key="bucket", lower=True, seed=seed)
    return {"__id": n, "bucket": n, "arn": f"arn:aws:s3:::{n}", "region": m.region,
            "bucketDomainName": f"{n}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{n}.s3.{m.region}.amazonaws.com",
            "hostedZoneId": "Z1BKCTXD74EZPE", "accountId": m.account_id}


def _bucket_setting(m, seed, name, i):
    return {"__id": i.get("bucket", name)}


def _bucket_object(m, seed, name, i):
    key = i.get("key", name)
    bucket = i.get("bucket", "")
    return {"__id": key, "arn": f"arn:aws:s3:::{bucket}/{key}", "etag": _hex(seed + "etag", 32),
            "versionId": _hex(seed + "version", 32), "storageClass": "STANDARD"}


WEB_OUTPUTS: dict[str, Callable[..., dict[str, Any]]] = {
    "aws:acm/certificate:Certificate": _certificate,
    "aws:acm/certificateValidation:CertificateValidation": _certificate_validation,
    "aws:route53/record:Record": _record,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_setting,
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_setting,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_setting,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting,
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_setting,
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
}
