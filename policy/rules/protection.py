"""Services that protect what the stack exposes and stores, which the anchors check and the
components do not build yet: AWS WAF on an internet-facing ALB (Checkov CKV2_AWS_28) and AWS
Backup coverage of the database (CKV2_AWS_8). Related through property dependencies only: a
WebAclAssociation's `resourceArn` depends on the load balancer; a backup Selection's
`resources` depend on the cluster (and its `notResources` do not).
"""
from __future__ import annotations

from pulumi_policy import Severity

from .base import ADVISORY
from .database import CLUSTER, DB_INSTANCE
from .loadbalancer import LOAD_BALANCERS, internet_facing_albs
from .stack import Result
from .stackview import StackView, label, stack_rule

WAF_ASSOCIATIONS = ("aws:wafv2/webAclAssociation:WebAclAssociation",
                    "aws:wafregional/webAclAssociation:WebAclAssociation")
BACKUP_SELECTION = "aws:backup/selection:Selection"


def _waf(view: StackView, config: dict) -> Result:
    for lb in internet_facing_albs(view):
        if not any(view.referrers(lb, t, "resourceArn") for t in WAF_ASSOCIATIONS):
            yield (f"Internet-facing {label(lb)} has no web ACL: associate an AWS WAF web ACL "
                   "(aws.wafv2.WebAclAssociation with `resourceArn` from this load balancer), "
                   "e.g. with the AWS managed common rule set."), lb.urn


def _backup(view: StackView, config: dict) -> Result:
    for db in view.of(CLUSTER, DB_INSTANCE):
        excluded = {s.urn for s in view.referrers(db, BACKUP_SELECTION, "notResources")}
        if not [s for s in view.referrers(db, BACKUP_SELECTION, "resources")
                if s.urn not in excluded]:
            yield (f"{label(db)} is not in an AWS Backup plan: add an aws.backup.Selection whose "
                   "`resources` list this database's ARN (a vault in another account or region "
                   "survives the loss of this one)."), db.urn


RULES = [
    stack_rule(
        name="alb-waf-enabled", types=LOAD_BALANCERS, check=_waf,
        description="Checks whether internet-facing Application Load Balancers are protected "
                    "by an AWS WAF web ACL.",
        level=ADVISORY, severity=Severity.MEDIUM, anchors=("CKV2_AWS_28", "ELB.16"),
        unknown="unknown `internal` or type: advisory 'not checked'; the association relation "
                "uses dependencies"),
    stack_rule(
        name="rds-backup-plan-coverage", types=(CLUSTER, DB_INSTANCE), check=_backup,
        description="Checks whether each database is covered by an AWS Backup plan (a "
                    "backup Selection listing its ARN).",
        level=ADVISORY, severity=Severity.MEDIUM, anchors=("CKV2_AWS_8", "RDS.26"),
        unknown="uses dependencies only; never blocked by unknown values"),
]
