"""The fleet's boot artifacts in S3 (children of `AppFleet`; the artifacts are listed by
app/boot_artifacts.py).

A private bucket (public access blocked, ACLs disabled, versioned, SSE-KMS with the stack's CMK
and an S3 Bucket Key) whose policy refuses plain HTTP and TLS below 1.2, and lets objects be read
only through the VPC's S3 gateway endpoint (the hosts) or by the principal that runs `pulumi up`
(it uploads them and reads them back). One object per artifact, its key derived from its
content, so a new app version is a new object and a new launch template version; the hosts'
role may `s3:GetObject` exactly these objects and decrypt only through S3 for this bucket.

Every object is pinned by its SHA-256 in the user data: the host stops its boot on any other
bytes, whoever wrote them.
"""
from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .policies import AccountContext, document
from .webapp import boot_artifacts

NONCURRENT_DAYS = 30       # an overwritten or deleted object's old version is kept this long
MULTIPART_ABORT_DAYS = 7   # an upload `pulumi up` did not finish is cleaned up after this


def deployer_user_id_pattern(user_id: str) -> str:
    """aws:userid of the caller and its later sessions: `AROA…:*` for a role (any session name),
    the id itself for an IAM user (`AIDA…`) or the account root (the account id)."""
    return f"{user_id.split(':', 1)[0]}:*" if ":" in user_id else user_id


def bucket_policy(bucket_arn: str, endpoint_id: Optional[str], deployer: str) -> str:
    everything = [bucket_arn, f"{bucket_arn}/*"]
    statements = [
        {"Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": everything,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyTlsBelow12", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": everything,
         "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}]
    if endpoint_id is not None:
        statements.append(
            {"Sid": "ReadOnlyThroughTheVpcEndpointOrByTheDeployer", "Effect": "Deny", "Principal": "*",
             "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"{bucket_arn}/*",
             "Condition": {"StringNotEquals": {"aws:SourceVpce": endpoint_id},
                           "StringNotLike": {"aws:userid": deployer}}})
    return document(statements)


def read_statements(bucket_arn: str, keys: Sequence[str], kms_key_arn: str, s3_host: str) -> list[dict]:
    """The hosts' role: GetObject under the artifacts' prefixes (`app/*`, `rds-ca/*`,
    `wheels/*`), not on exactly today's keys: during a deploy the old group still launches hosts
    (health replacements, scale-out) from the old template, whose objects stay until it is gone,
    while this policy already names the new ones. Integrity comes from the SHA-256 each host
    checks, not from the grant. Decrypt with the key only when S3 asks for this bucket (with a
    Bucket Key the encryption context is the bucket's ARN)."""
    prefixes = sorted({f"{key.split('/', 1)[0]}/*" if "/" in key else key for key in keys})
    return [{"Sid": "ReadBootArtifacts", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": [f"{bucket_arn}/{prefix}" for prefix in prefixes]},
            {"Sid": "DecryptBootArtifactsThroughS3", "Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": [kms_key_arn],
             "Condition": {"StringEquals": {"kms:ViaService": s3_host},
                           "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]}}}]


@dataclass(frozen=True)
class ArtifactStore:
    """What the fleet needs from its artifact bucket."""

    bucket: aws.s3.Bucket
    artifacts: tuple[boot_artifacts.Artifact, ...]
    objects: list[aws.s3.BucketObjectv2]
    access: aws.iam.RolePolicy
    ready: list[pulumi.Resource]   # a host may boot once these exist


def artifact_store(name: str, *, arch: str, kms_key_arn: pulumi.Input[str], role: aws.iam.Role,
                   endpoint_id: Optional[pulumi.Input[str]], ctx: AccountContext, tags: dict,
                   parent: pulumi.Resource) -> ArtifactStore:
    child = pulumi.ResourceOptions(parent=parent)
    artifacts = boot_artifacts.manifest(arch)
    absent = boot_artifacts.missing(artifacts)
    if absent:
        # A real preview and `up` hash and upload these files; preflight and the tests do not.
        pulumi.log.warn(f"{name}: {len(absent)} boot artifact(s) are not built in build/artifacts "
                        f"(e.g. {absent[0].dest}): run `make artifacts` before `pulumi preview` or `pulumi up`.",
                        resource=parent)
    prefix = "".join(c if c.isalnum() else "-" for c in name.lower())[:24].strip("-") or "app"
    # The objects are reproducible from the repository: a destroy may delete every version.
    bucket = aws.s3.Bucket(f"{name}-artifacts", bucket_prefix=f"{prefix}-artifacts-", force_destroy=True,
                           tags={**tags, "Name": f"{name}-artifacts"}, opts=child)
    settings: list[pulumi.Resource] = [
        aws.s3.BucketPublicAccessBlock(f"{name}-artifacts-public-access", bucket=bucket.id,
                                       block_public_acls=True, block_public_policy=True,
                                       ignore_public_acls=True, restrict_public_buckets=True, opts=child),
        aws.s3.BucketOwnershipControls(f"{name}-artifacts-ownership", bucket=bucket.id,
                                       rule=aws.s3.BucketOwnershipControlsRuleArgs(
                                           object_ownership="BucketOwnerEnforced"), opts=child),
        aws.s3.BucketVersioning(f"{name}-artifacts-versioning", bucket=bucket.id,
                                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                                    status="Enabled"), opts=child),
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-artifacts-encryption", bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn),
                bucket_key_enabled=True)], opts=child),
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-artifacts-lifecycle", bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="old-versions-and-unfinished-uploads", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_DAYS),
                abort_incomplete_multipart_upload=aws.s3.
                BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=MULTIPART_ABORT_DAYS))], opts=child)]
    policy = aws.s3.BucketPolicy(
        f"{name}-artifacts-policy", bucket=bucket.id,
        policy=pulumi.Output.all(bucket.arn, endpoint_id, ctx.user_id).apply(
            lambda a: bucket_policy(a[0], a[1], deployer_user_id_pattern(a[2]))),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=settings[:1]))
    objects = []
    for artifact in artifacts:
        source: dict = ({"content_base64": base64.b64encode(artifact.source).decode()}
                        if isinstance(artifact.source, bytes)
                        else {"source": pulumi.FileAsset(os.path.relpath(artifact.source))})
        kind = "wheel" if artifact.dest.startswith("wheels/") else "artifact"
        objects.append(aws.s3.BucketObjectv2(
            f"{name}-{kind}-{artifact.name}", bucket=bucket.id, key=artifact.key, **source,
            source_hash=artifact.sha256, content_type="application/octet-stream",
            server_side_encryption="aws:kms", kms_key_id=kms_key_arn, bucket_key_enabled=True,
            # After the policy: it exempts whoever runs this `up`, who reads each object back.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[*settings, policy])))
    access = aws.iam.RolePolicy(f"{name}-boot-artifacts", role=role.id, policy=pulumi.Output.all(
        bucket.arn, kms_key_arn, ctx.service_host("s3")).apply(
            lambda a: document(read_statements(a[0], [x.key for x in artifacts], a[1], a[2]))), opts=child)
    return ArtifactStore(bucket, artifacts, objects, access, [*objects, policy, access])
