"""The fleet's boot artifacts in S3: a hardened bucket, one object per artifact whose key and
SHA-256 the user data pins, a role that may read exactly those objects, hosts that wait for them."""
import base64
import gzip
import json

import pytest
import yaml

from app import cloud_init
from app.boot_artifacts import manifest, missing
from components.artifact_store import deployer_user_id_pattern

from .conftest import resolve
from .test_app_fleet import KEY, build

S3 = "aws:s3/"
OBJ = S3 + "bucketObjectv2:BucketObjectv2"
VPCE = "vpce-0a1b2c3d4e5f60718"


def policy_of(mocks, name: str) -> list[dict]:
    return json.loads(mocks.by_name(name).inputs["policy"])["Statement"]


def pinned(mocks) -> dict[str, tuple[str, str]]:
    """artifacts.txt in the launch template's user data: S3 URI -> (sha256, dest)."""
    text = gzip.decompress(base64.b64decode(mocks.only("aws:ec2/launchTemplate:LaunchTemplate").inputs["userData"]))
    files = {f["path"]: f["content"] for f in yaml.safe_load(text.decode())["write_files"]}
    return {uri: (sha, dest) for sha, uri, dest in (line.split(" ") for line in
                                                    files["/opt/aurorakit/artifacts.txt"].splitlines())}


def test_the_bucket_is_private_versioned_and_encrypted_with_the_stack_key(mocks):
    build(s3_endpoint_id=VPCE)
    bucket = mocks.only(S3 + "bucket:Bucket")
    assert bucket.inputs["bucketPrefix"] == "app-artifacts-" and bucket.inputs["forceDestroy"] is True
    assert "acl" not in bucket.inputs and "policy" not in bucket.inputs  # no inline ACL or policy
    block = mocks.only(S3 + "bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert {k: block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                  "restrictPublicBuckets")} == dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True)
    ownership = mocks.only(S3 + "bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}  # ACLs disabled
    versioning = mocks.only(S3 + "bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = mocks.only(S3 + "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
                         ).inputs["rules"]
    assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY},
                    "bucketKeyEnabled": True}
    (life,) = mocks.only(S3 + "bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert life["status"] == "Enabled" and life["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert life["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    for r in mocks.resources_of(S3 + "bucketPolicy:BucketPolicy") + [mocks.only(S3 + "bucketVersioning:BucketVersioning")]:
        assert r.inputs["bucket"] == bucket.id


def test_the_bucket_policy_refuses_plain_http_old_tls_and_reads_from_outside_the_vpc(mocks):
    build(s3_endpoint_id=VPCE)
    arn = mocks.only(S3 + "bucket:Bucket").outputs["arn"]
    identity = next(c for c in mocks.calls if c.token == "aws:index/getCallerIdentity:getCallerIdentity")
    assert policy_of(mocks, "app-artifacts-policy") == [
        {"Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyTlsBelow12", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}},
        # reads only through the VPC's gateway endpoint, or by whoever runs `pulumi up`
        {"Sid": "ReadOnlyThroughTheVpcEndpointOrByTheDeployer", "Effect": "Deny", "Principal": "*",
         "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"{arn}/*",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": VPCE},
                       "StringNotLike": {"aws:userid": identity.result["userId"]}}}]


def test_without_an_endpoint_the_policy_has_no_endpoint_condition(mocks):
    build()
    assert [s["Sid"] for s in policy_of(mocks, "app-artifacts-policy")] == ["DenyPlainHttp", "DenyTlsBelow12"]


@pytest.mark.parametrize("user_id,pattern", [
    ("AROAEXAMPLEROLEID1234:ci-run-42", "AROAEXAMPLEROLEID1234:*"),   # a role: every session of it
    ("AIDAEXAMPLEUSERID1234", "AIDAEXAMPLEUSERID1234"),                # an IAM user
    ("123456789012", "123456789012"),                                  # the account root
])
def test_the_deployer_exemption_covers_the_principal_not_one_session(user_id, pattern):
    assert deployer_user_id_pattern(user_id) == pattern


@pytest.mark.parametrize("instance_type,arch", [("t3.small", "x86_64"), ("t4g.small", "aarch64")])
def test_one_object_per_artifact_pinned_by_the_user_data(mocks, instance_type, arch):
    build(instance_type=instance_type)
    bucket = mocks.only(S3 + "bucket:Bucket").outputs["bucket"]
    artifacts = manifest(arch)
    objects = {o.inputs["key"]: o.inputs for o in mocks.resources_of(OBJ)}
    assert sorted(objects) == sorted(a.key for a in artifacts)
    user_data = pinned(mocks)
    assert len(user_data) == len(artifacts)
    for a in artifacts:
        o = objects[a.key]
        assert o["bucket"] == bucket and o["sourceHash"] == a.sha256
        assert (o["serverSideEncryption"], o["kmsKeyId"], o["bucketKeyEnabled"]) == ("aws:kms", KEY, True)
        assert user_data[f"s3://{bucket}/{a.key}"] == (a.sha256, a.dest)  # what the host checks
        if a.name == "app":
            assert base64.b64decode(o["contentBase64"]) == cloud_init.app_archive() and "source" not in o
        else:  # the file `make artifacts` fills, uploaded by the engine
            assert o["source"].path.endswith(str(a.source.relative_to(a.source.parents[2])))
            assert "contentBase64" not in o


def test_a_new_app_is_a_new_object_and_a_new_template(mocks, monkeypatch):
    build()
    before = (sorted(pinned(mocks)), {o.inputs["key"] for o in mocks.resources_of(OBJ)})
    monkeypatch.setattr(cloud_init, "APP_FILES", (*cloud_init.APP_FILES[:-1],))  # any change to the app
    mocks.resources.clear()
    build()
    after = (sorted(pinned(mocks)), {o.inputs["key"] for o in mocks.resources_of(OBJ)})
    assert before[0] != after[0] and len(before[1] ^ after[1]) == 2  # only the app's key changed
    assert {k for k in before[1] ^ after[1]} == {k for k in before[1] ^ after[1] if k.startswith("app/")}


def test_the_role_reads_the_artifact_prefixes_and_decrypts_only_through_s3(mocks, monkeypatch):
    """GetObject under the artifacts' prefixes, not on today's keys only: during a deploy the old
    group still launches hosts from the old template (health replacements, scale-out) while the
    policy already names the new app; its objects still exist. The prefixes stay when the app
    changes, so a deploy does not touch this policy at all."""
    build()
    arn = mocks.only(S3 + "bucket:Bucket").outputs["arn"]
    prefixes = sorted({a.key.split("/")[0] for a in manifest("x86_64")})
    assert prefixes == ["app", "rds-ca", "wheels"]
    statements = policy_of(mocks, "app-boot-artifacts")
    assert statements == [
        {"Sid": "ReadBootArtifacts", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": [f"{arn}/{p}/*" for p in prefixes]},
        {"Sid": "DecryptBootArtifactsThroughS3", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY],
         "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": [arn, f"{arn}/*"]}}}]
    role = mocks.only("aws:iam/role:Role")
    assert mocks.by_name("app-boot-artifacts").inputs["role"] == role.id
    monkeypatch.setattr(cloud_init, "APP_FILES", (*cloud_init.APP_FILES[:-1],))  # any change to the app
    mocks.resources.clear()
    build()
    assert policy_of(mocks, "app-boot-artifacts") == statements


@pytest.mark.parametrize("placement", ["private", "public"])
def test_hosts_launch_only_once_their_artifacts_can_be_fetched(recording, placement):
    """The objects, the role's read permission and the bucket policy (which names the endpoint,
    so the endpoint's routes exist) come before any host."""
    kw = {"placement": "public"} if placement == "public" else {}
    build(s3_endpoint_id=VPCE, **kw)
    mocks, monitor = recording
    host = monitor.named("app-fleet" if placement == "private" else "app-instance")
    waits = {d.split("::")[-1] for d in host.dependencies}
    objects = {o.name for o in mocks.resources_of(OBJ)}
    assert objects | {"app-artifacts-policy", "app-boot-artifacts"} <= waits, waits
    for name in objects:  # uploaded once the bucket encrypts and versions them and the policy
        deps = {d.split("::")[-1] for d in monitor.named(name).dependencies}  # exempts the deployer
        assert {"app-artifacts-encryption", "app-artifacts-versioning", "app-artifacts-policy"} <= deps, deps


def test_missing_cache_files_are_listed_and_the_app_never_is(tmp_path):
    artifacts = manifest("x86_64", cache=tmp_path)
    assert {a.name for a in missing(artifacts)} == {a.name for a in artifacts} - {"app"}
    (ca,) = [a for a in artifacts if a.name == "rds-ca"]
    ca.source.write_bytes(b"not the bundle")
    assert ca in missing(artifacts)  # present but not the pinned bytes


def test_the_bucket_name_is_what_the_user_data_names(mocks):
    fleet = build()
    assert resolve(fleet.artifact_bucket) == mocks.only(S3 + "bucket:Bucket").outputs["bucket"]
