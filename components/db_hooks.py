"""Resource hooks of AuroraCluster (Pulumi resource hooks: they run in the program's process).

- before_delete on the cluster: delete the DB instances of the cluster that this stack does not
  manage (readers Application Auto Scaling added) and wait until they are gone, because
  `DeleteDBCluster` fails at once with `InvalidDBClusterStateFault: Cluster cannot be deleted, it
  still contains DB instances in non-deleting state`. Delete hooks run only when the program
  runs: `pulumi destroy --run-program` (a plain `pulumi destroy` refuses to start when a
  resource has delete hooks); `pulumi up` runs them for a replaced or removed cluster. It calls
  AWS as the stack's default provider would (components/aws_session.py), in the cluster's account.
- before_update on the cluster (also during previews): refuse an engine-version change RDS would
  reject, with one message naming the settings, before any API call.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Optional

import pulumi

from .aws_session import AwsSettings, clients_factory
from .engines import is_newer, major_version

AUTOSCALED_PREFIX = "application-autoscaling-"
"""Identifier prefix of the readers Application Auto Scaling creates (application-autoscaling-<uuid>)."""
DELETE_TIMEOUT_S = 45 * 60
"""How long the hook waits for the instances to be deleted (RDS usually needs 5-15 minutes)."""
POLL_S = 15
_GONE = ("DBInstanceNotFound", "DBInstanceNotFoundFault")
_BUSY = ("InvalidDBInstanceState", "InvalidDBInstanceStateFault")


class ManagedInstances:
    """Identifiers of the DB instances this stack manages, once their outputs are known (they
    are during `up` and `destroy --run-program`; None before that)."""

    def __init__(self) -> None:
        self.ids: Optional[frozenset[str]] = None

    def track(self, identifiers: list[pulumi.Output[str]]) -> None:
        pulumi.Output.all(*identifiers).apply(self._known)

    def _known(self, ids: list[str]) -> None:
        self.ids = frozenset(ids)


def unmanaged(members: Collection[str], managed: Optional[Collection[str]]) -> list[str]:
    """Members that are not this stack's: every member absent from `managed`; when `managed` is
    not known, only those Application Auto Scaling created (its identifier prefix)."""
    if managed is None:
        return sorted(m for m in members if m.startswith(AUTOSCALED_PREFIX))
    return sorted(m for m in members if m not in managed)


def _error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def _members(client: Any, cluster_id: str) -> Optional[list[str]]:
    """The cluster's instance identifiers; None when the cluster does not exist."""
    try:
        clusters = client.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    except Exception as exc:  # botocore ClientError; its class lives on the client
        if _error_code(exc) in ("DBClusterNotFoundFault", "DBClusterNotFound"):
            return None
        raise
    return [m["DBInstanceIdentifier"] for c in clusters for m in c.get("DBClusterMembers", [])]


def remove_unmanaged_instances(client: Any, cluster_id: str, managed: Optional[Collection[str]], *,
                               timeout: float = DELETE_TIMEOUT_S, poll: float = POLL_S,
                               clock: Callable[[], float] = time.monotonic,
                               sleep: Callable[[float], None] = time.sleep,
                               log: Callable[[str], None] = lambda _m: None) -> list[str]:
    """Delete the cluster's unmanaged instances (see `unmanaged`) and wait until none is a member.

    An instance RDS cannot delete yet (e.g. still being created by a scale-out) is retried at the
    next poll. Returns the identifiers whose deletion was requested; raises TimeoutError naming
    the instances still there after `timeout` seconds."""
    deadline = clock() + timeout
    requested: list[str] = []
    while True:
        members = _members(client, cluster_id)
        foreign = unmanaged(members or [], managed)
        if not foreign:
            return requested
        for ident in foreign:
            if ident in requested:
                continue
            try:
                client.delete_db_instance(DBInstanceIdentifier=ident)
            except Exception as exc:
                if _error_code(exc) in _GONE:
                    continue
                if _error_code(exc) in _BUSY:
                    log(f"{cluster_id}: {ident} cannot be deleted yet ({exc}); retrying")
                    continue
                raise
            requested.append(ident)
            log(f"{cluster_id}: deleting {ident}, an instance this stack does not manage")
        if clock() >= deadline:
            raise TimeoutError(f"{cluster_id}: instances not managed by this stack are still in the cluster after "
                               f"{timeout:.0f} s: {', '.join(foreign)}; delete them (aws rds delete-db-instance "
                               "--db-instance-identifier <id>) and run the command again")
        sleep(poll)


def region_of(arn: Optional[str]) -> Optional[str]:
    """The Region field of an ARN (arn:partition:service:region:account:resource)."""
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


def account_of(arn: Optional[str]) -> Optional[str]:
    """The account field of an ARN."""
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def before_cluster_delete(outputs: Mapping[str, Any], resource_id: str, managed: Optional[Collection[str]],
                          session: Callable[[Optional[str]], Any], **wait: Any) -> list[str]:
    """What the before_delete hook does, given the cluster's last outputs: in the cluster's Region
    and, when its ARN is known, only with credentials of the cluster's account."""
    cluster_id = outputs.get("clusterIdentifier") or resource_id
    clients = session(region_of(outputs.get("arn")) or None)
    expected = account_of(outputs.get("arn"))
    if expected is not None:
        actual = clients.client("sts").get_caller_identity()["Account"]
        if actual != expected:
            raise RuntimeError(
                f"{cluster_id}: the hook's AWS credentials are for account {actual}, the cluster is in {expected}: "
                "set aws:profile / aws:assumeRoles (or the environment's credentials) to the account the stack's "
                "provider uses, and run the command again")
    return remove_unmanaged_instances(clients.client("rds"), cluster_id, managed, **wait)


def unmanaged_instances_hook(name: str, managed: ManagedInstances, poll: float = POLL_S,
                             settings: Optional[AwsSettings] = None) -> pulumi.ResourceHook:
    """The cluster's before_delete hook: AWS clients set up as the default provider is
    (components/aws_session.py), in the cluster's Region; a provider setting they cannot follow
    stops it with one message before any call."""
    settings = settings or AwsSettings.from_config()
    factory = clients_factory(settings)

    async def before_delete(args: pulumi.ResourceHookArgs) -> None:
        if settings.problem:
            raise RuntimeError(
                f"{name}: the hook that removes the cluster's unmanaged instances (autoscaled readers) cannot "
                f"follow the AWS provider's settings ({settings.problem}); unset them for this command (pulumi "
                "config rm aws:<key>; docs/DATABASE_RUNBOOK.md, \"Destroying the stack\") and run it again")
        await asyncio.to_thread(  # off the event loop: the wait takes minutes
            before_cluster_delete, dict(args.old_outputs or {}), args.id, managed.ids, factory,
            log=pulumi.log.info, poll=poll)

    return pulumi.ResourceHook(f"{name}-remove-unmanaged-instances", before_delete)


def engine_version_problem(engine: str, configured: str, actual: Optional[str], allow_upgrade: bool) -> Optional[str]:
    """Why RDS would refuse to move the cluster from `actual` to `configured` (None: it would not,
    or the version is not applied). `allow_upgrade` is dbAllowMajorVersionUpgrade: the configured
    version is applied; otherwise only its major version (the parameter-group family) is used."""
    if not actual:
        return None
    running, wanted = major_version(engine, actual), major_version(engine, configured)
    setting = "dbEngineVersion (AuroraClusterArgs.engine_version)"
    flag = "dbAllowMajorVersionUpgrade (AuroraClusterArgs.allow_major_version_upgrade)"
    if running != wanted and is_newer(actual, configured):
        return (f"{setting} is {configured} but the cluster runs {actual}: RDS cannot downgrade; set a "
                f"{engine} {running} version or later")
    if running != wanted and not allow_upgrade:
        return (f"{setting} moves {engine} {running} -> {wanted} (the cluster runs {actual}): a major upgrade "
                f"needs {flag} set to true in the same update, and kept until RDS has applied it "
                "(docs/DATABASE_RUNBOOK.md)")
    if allow_upgrade and is_newer(actual, configured):
        return (f"the cluster runs {actual} (a minor upgrade AWS applied), later than {setting} {configured}: "
                f"RDS cannot downgrade; set {setting} to {actual} or turn {flag} off")
    return None


def minor_drift_note(engine: str, configured: str, actual: Optional[str], allow_upgrade: bool) -> Optional[str]:
    """With upgrades off, a configured version other than the running one (same major) has no
    effect: say so instead of ignoring it silently."""
    if allow_upgrade or not actual or actual == configured or actual.startswith(configured + "."):
        return None
    if major_version(engine, actual) != major_version(engine, configured):
        return None  # the guard refuses that update
    return (f"the cluster runs {actual}; dbEngineVersion {configured} is used only at creation and for the "
            "parameter-group family. AWS applies minor upgrades in the maintenance window; to apply a "
            "version now set dbAllowMajorVersionUpgrade: true for one update (docs/DATABASE_RUNBOOK.md)")


def engine_version_guard(name: str, engine: str, configured: str, allow_upgrade: bool) -> pulumi.ResourceHook:
    """The cluster's before_update hook: raises `engine_version_problem` (previews too)."""
    def before_update(args: pulumi.ResourceHookArgs) -> None:
        outputs = args.old_outputs or {}
        problem = engine_version_problem(engine, configured, outputs.get("engineVersionActual")
                                         or outputs.get("engineVersion"), allow_upgrade)
        if problem:
            raise ValueError(f"{name}: {problem}")

    return pulumi.ResourceHook(f"{name}-engine-version-guard", before_update,
                               pulumi.ResourceHookOptions(on_dry_run=True))
