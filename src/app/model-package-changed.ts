import { type Deps, groupConfig } from './deps';
import { runGroup } from './group-runner';

export interface ModelPackageChange {
  group: string;
  version: number;
  packageArn: string;
  /** ModelApprovalStatus in the event; the registry is asked for the truth */
  status: string;
}

export interface UseCaseOutcome {
  outcome: 'applied' | 'ignored' | 'rejected';
  reason: string;
}

/**
 * Flow 1 and 4: an approval starts a deployment of exactly this version; a rejection aborts it or
 * rolls prod back. The event is only a trigger: DescribeModelPackage decides.
 */
export const onModelPackageChanged = async (
  deps: Deps,
  change: ModelPackageChange,
  now: number,
): Promise<UseCaseOutcome> => {
  if (!groupConfig(deps, change.group)) {
    return { outcome: 'ignored', reason: `model package group ${change.group} is not configured` };
  }
  const pkg = await deps.registry.describePackage(change.packageArn);
  if (pkg.approvalStatus === 'PendingManualApproval') {
    return { outcome: 'ignored', reason: `v${pkg.version} is PendingManualApproval` };
  }
  const input =
    pkg.approvalStatus === 'Approved'
      ? { type: 'Approved' as const, pkg }
      : { type: 'Rejected' as const, pkg };
  const run = await runGroup(deps, change.group, now, () => [input]);
  if (!run.decision) {
    return {
      outcome: 'ignored',
      reason: `v${pkg.version} ${pkg.approvalStatus}: nothing to do (duplicate or own update)`,
    };
  }
  return { outcome: 'applied', reason: run.decision.notes.join('; ') };
};
