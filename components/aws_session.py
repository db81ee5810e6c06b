"""AWS clients for code that calls AWS from the program itself (the cluster's resource hooks,
components/db_hooks.py), set up as the stack's default AWS provider is, from its stack config:
aws:region, aws:profile, aws:accessKey / aws:secretKey / aws:token, aws:sharedCredentialsFiles and
aws:sharedConfigFiles (one file each), aws:assumeRoleWithWebIdentity, aws:assumeRoles (assumed in
order, each with the previous one's credentials, as the provider does; renewed when they expire),
aws:stsRegion, aws:endpoints (rds, sts), aws:customCaBundle, aws:useFipsEndpoint,
aws:useDualstackEndpoint, aws:httpProxy / aws:httpsProxy. A setting it cannot reproduce is
`AwsSettings.problem`: the hook refuses with it before any call, rather than act with other
credentials than the provider's.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi

UNSUPPORTED = ("ec2MetadataServiceEndpoint", "ec2MetadataServiceEndpointMode", "noProxy")
"""Provider settings these clients do not reproduce (credentials from a custom IMDS, proxy exceptions)."""
SESSION_NAME = "aurorakit-hook"
"""Role session name when an assumed role names none."""
_ROLE_KEYS = {"roleArn": "RoleArn", "sessionName": "RoleSessionName", "externalId": "ExternalId",
              "policy": "Policy", "sourceIdentity": "SourceIdentity", "transitiveTagKeys": "TransitiveTagKeys"}


def duration_seconds(text: Optional[str]) -> Optional[int]:
    """The provider's Go-style duration ("1h", "15m", "1h30m", "900s") in seconds; None if absent."""
    if not text:
        return None
    found = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text.strip())
    if not found or not any(found.groups()):
        raise ValueError(f"not a duration like 1h or 15m: {text!r}")
    h, m, s = (int(g or 0) for g in found.groups())
    return h * 3600 + m * 60 + s


def role_request(role: Mapping[str, Any]) -> dict[str, Any]:
    """sts:AssumeRole (or AssumeRoleWithWebIdentity) parameters from one aws:assumeRoles entry."""
    request: dict[str, Any] = {api: role[key] for key, api in _ROLE_KEYS.items() if role.get(key)}
    request.setdefault("RoleSessionName", SESSION_NAME)
    if role.get("duration"):
        request["DurationSeconds"] = duration_seconds(role["duration"])
    if role.get("policyArns"):
        request["PolicyArns"] = [{"arn": arn} for arn in role["policyArns"]]
    if role.get("tags"):
        request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(role["tags"].items())]
    return request


def _one_file(config: pulumi.Config, key: str) -> tuple[Optional[str], Optional[str]]:
    files = config.get_object(key) or []
    if len(files) > 1:
        return None, f"aws:{key} lists {len(files)} files (these clients read one)"
    return (str(Path(files[0]).expanduser()) if files else None), None


@dataclass(frozen=True)
class AwsSettings:
    """The default provider's connection settings (secrets are kept out of repr)."""

    region: Optional[str] = None
    profile: Optional[str] = None
    access_key: Optional[str] = None
    secret_key: Optional[str] = field(default=None, repr=False)
    token: Optional[str] = field(default=None, repr=False)
    credentials_file: Optional[str] = None
    config_file: Optional[str] = None
    web_identity: Optional[Mapping[str, Any]] = field(default=None, repr=False)
    assume_roles: tuple[Mapping[str, Any], ...] = ()
    sts_region: Optional[str] = None
    endpoints: Mapping[str, str] = field(default_factory=dict)
    ca_bundle: Optional[str] = None
    fips: bool = False
    dualstack: bool = False
    proxies: Mapping[str, str] = field(default_factory=dict)
    problem: Optional[str] = None

    @classmethod
    def from_config(cls, config: Optional[pulumi.Config] = None) -> AwsSettings:
        """The stack's aws:* settings; `problem` names those these clients cannot follow."""
        c = config or pulumi.Config("aws")
        problems = [f"aws:{key}" for key in UNSUPPORTED if c.get(key)]
        credentials_file, too_many = _one_file(c, "sharedCredentialsFiles")
        config_file, too_many_configs = _one_file(c, "sharedConfigFiles")
        problems += [p for p in (too_many, too_many_configs) if p]
        blocks, bad = _objects(c, "endpoints")
        problems += bad
        endpoints: dict[str, str] = {}
        for block in blocks:
            endpoints.update({k: v for k, v in block.items() if v})
        roles, bad = _objects(c, "assumeRoles")  # a list, or one object (the older assumeRole shape)
        web, bad_web = _objects(c, "assumeRoleWithWebIdentity")
        problems += bad + bad_web
        try:
            for role in [*roles, *web]:
                duration_seconds(role.get("duration"))
        except ValueError as exc:
            problems.append(f"an assumed role's duration is {exc}")
        proxies = {k: v for k, v in (("http", c.get("httpProxy")), ("https", c.get("httpsProxy"))) if v}
        return cls(region=c.get("region"), profile=c.get("profile"), access_key=c.get("accessKey"),
                   secret_key=c.get("secretKey"), token=c.get("token"), credentials_file=credentials_file,
                   config_file=config_file, web_identity=web[0] if web else None,
                   assume_roles=tuple(dict(r) for r in roles if r), sts_region=c.get("stsRegion"),
                   endpoints=endpoints, ca_bundle=c.get("customCaBundle"), fips=bool(c.get_bool("useFipsEndpoint")),
                   dualstack=bool(c.get_bool("useDualstackEndpoint")), proxies=proxies,
                   problem=("; ".join(problems) + " set") if problems else None)


def _objects(c: pulumi.Config, key: str) -> tuple[list[dict], list[str]]:
    """aws:<key> as a list of objects (one object counts as a list of one), or the problem."""
    try:
        value = c.get_object(key)
    except (ValueError, pulumi.ConfigTypeError):
        return [], [f"aws:{key} (not valid JSON)"]
    if value is None:
        return [], []
    value = [value] if isinstance(value, Mapping) else value
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        return [], [f"aws:{key} (an object or a list of objects)"]
    return [dict(v) for v in value if v], []


class Clients:
    """`client(service)` for one Region with the provider's credentials and connection settings."""

    def __init__(self, settings: AwsSettings, region: Optional[str]):
        import boto3  # deploy-time only (the hooks); kept out of the import path of previews
        import botocore.config
        import botocore.session

        if settings.problem:
            raise RuntimeError(f"these AWS clients cannot follow the provider's {settings.problem}")
        self.settings = settings
        self.region = region or settings.region
        self.config = botocore.config.Config(
            use_fips_endpoint=settings.fips or None, use_dualstack_endpoint=settings.dualstack or None,
            proxies=dict(settings.proxies) or None)
        core = botocore.session.Session(profile=settings.profile)
        for variable, path in (("credentials_file", settings.credentials_file), ("config_file", settings.config_file)):
            if path:
                core.set_config_variable(variable, path)
        session = boto3.Session(botocore_session=core, region_name=self.region, aws_access_key_id=settings.access_key,
                                aws_secret_access_key=settings.secret_key, aws_session_token=settings.token)
        if settings.web_identity:
            session = self._assumed(session, dict(settings.web_identity), web_identity=True)
        for role in settings.assume_roles:
            session = self._assumed(session, role, web_identity=False)
        self.session = session

    def client(self, service: str) -> Any:
        region = self.settings.sts_region if service == "sts" and self.settings.sts_region else self.region
        return self.session.client(service, region_name=region, endpoint_url=self.settings.endpoints.get(service),
                                   verify=self.settings.ca_bundle, config=self.config)

    def _assumed(self, source: Any, role: Mapping[str, Any], web_identity: bool) -> Any:
        """A session whose credentials `source` obtains by assuming `role`, renewed before expiry."""
        import boto3
        import botocore.credentials
        import botocore.session

        request = role_request(role)
        region = self.settings.sts_region or self.region
        sts = source.client("sts", region_name=region, endpoint_url=self.settings.endpoints.get("sts"),
                            verify=self.settings.ca_bundle, config=self.config)

        def fetch() -> dict[str, Any]:
            if web_identity:
                found = sts.assume_role_with_web_identity(**request, WebIdentityToken=_web_token(role))["Credentials"]
            else:
                found = sts.assume_role(**request)["Credentials"]
            return {"access_key": found["AccessKeyId"], "secret_key": found["SecretAccessKey"],
                    "token": found["SessionToken"], "expiry_time": found["Expiration"].isoformat()}

        credentials = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="assume-role")
        core = botocore.session.Session()
        core._credentials = credentials  # boto3 has no public setter for refreshable credentials
        return boto3.Session(botocore_session=core, region_name=self.region)


def _web_token(role: Mapping[str, Any]) -> str:
    if role.get("webIdentityToken"):
        return str(role["webIdentityToken"])
    if role.get("webIdentityTokenFile"):
        return Path(role["webIdentityTokenFile"]).expanduser().read_text().strip()
    raise RuntimeError("aws:assumeRoleWithWebIdentity needs webIdentityToken or webIdentityTokenFile")


def clients_factory(settings: AwsSettings) -> Callable[[Optional[str]], Clients]:
    """region -> Clients with the provider's settings (the hooks call it at run time)."""
    return lambda region: Clients(settings, region)
