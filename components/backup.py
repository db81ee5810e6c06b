"""AWS Backup for AuroraCluster: a vault under the cluster's CMK (optional vault lock), a daily
plan with the configured retention (optional copy to a vault in another Region or account) and
a selection naming the cluster by its ARN.

Recovery points outlive a deleted cluster only as long as the vault does: with
keep_on_destroy the vault (and its lock) stays when the stack is destroyed; without, the vault
is destroyed together with its recovery points (`force_destroy`).
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from .policies import AccountContext, assume_role_policy

# After the default automated backup and maintenance windows (dbBackupWindow 02:00-03:00, dbMaintenanceWindow
# Sun 04:00-05:00 UTC). With other windows the daily job may fall inside one; whether AWS Backup then
# waits is not verified here (a secondary source says Aurora is exempt from its one-hour rule).
SCHEDULE = "cron(0 5 * * ? *)"
COMPLIANCE_COOLING_OFF_DAYS = 3  # AWS's minimum grace period before a compliance lock is final


class VaultLock(StrEnum):
    """AWS Backup Vault Lock on the stack's vault."""

    OFF = "off"
    """No lock."""
    GOVERNANCE = "governance"
    """Recovery points cannot be deleted before the retention ends, except by principals allowed
    backup:DeleteBackupVaultLockConfiguration (who can remove the lock)."""
    COMPLIANCE = "compliance"
    """Like governance, and after a 3-day grace period nobody (not AWS, not the root user) can
    remove the lock or delete recovery points before they expire."""


def backup_plan(name: str, parent: pulumi.Resource, cluster: aws.rds.Cluster, key_arn: pulumi.Input[str],
                args: Any, ctx: AccountContext, tags: dict) -> aws.backup.Vault:
    """The vault, lock, role, plan and selection; returns the vault."""
    child = pulumi.ResourceOptions(parent=parent)
    keep = args.keep_on_destroy
    vault = aws.backup.Vault(
        f"{name}-backup-vault", kms_key_arn=key_arn, force_destroy=not keep, tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=args.protect, retain_on_delete=keep))
    if args.backup_vault_lock != VaultLock.OFF:
        aws.backup.VaultLockConfiguration(
            f"{name}-backup-vault-lock", backup_vault_name=vault.name, min_retention_days=args.backup_days,
            changeable_for_days=COMPLIANCE_COOLING_OFF_DAYS if args.backup_vault_lock == VaultLock.COMPLIANCE else None,
            opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=keep))

    role = aws.iam.Role(f"{name}-backup-role", description=f"{name}: AWS Backup takes the cluster's snapshots",
                        assume_role_policy=assume_role_policy("backup.amazonaws.com"), tags=tags, opts=child)
    attachment = aws.iam.RolePolicyAttachment(
        f"{name}-backup-policy", role=role.name,
        policy_arn=ctx.partition.apply(
            lambda p: f"arn:{p}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"),
        opts=child)

    lifecycle = aws.backup.PlanRuleLifecycleArgs(delete_after=args.backup_days)
    copies: Optional[list] = None
    if args.backup_copy_vault_arn:
        copies = [aws.backup.PlanRuleCopyActionArgs(
            destination_vault_arn=args.backup_copy_vault_arn,
            lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=args.backup_days))]
    plan = aws.backup.Plan(
        f"{name}-backup-plan",
        rules=[aws.backup.PlanRuleArgs(
            rule_name="daily", target_vault_name=vault.name, schedule=SCHEDULE, start_window=60,
            completion_window=360, lifecycle=lifecycle, copy_actions=copies, recovery_point_tags=tags)],
        tags=tags, opts=child)
    # `resources` is the cluster's ARN output: the selection depends on the cluster it covers.
    aws.backup.Selection(f"{name}-backup-selection", iam_role_arn=role.arn, plan_id=plan.id,
                         resources=[cluster.arn],
                         # AWS Backup checks at once that it may assume the role with the policy.
                         opts=pulumi.ResourceOptions(parent=parent, depends_on=[attachment]))
    return vault
