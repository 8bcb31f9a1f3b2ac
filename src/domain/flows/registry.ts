import { activeFor, type Draft, deploymentsFor, latestFor, note } from '../draft';
import { type BlockedVersion, isTerminal, type PackageInfo } from '../model';
import { requestDeployment, restoreQa } from './qa';
import { block, rollbackProd, stop } from './rollback';

/** Registry changes: an approval starts a deployment, a rejection aborts it or rolls prod back. */

export function onApproved(t: Draft, pkg: PackageInfo): void {
  if (pkg.approvalStatus !== 'Approved') return note(t, `v${pkg.version} is not approved: ignored`);
  const existing = latestFor(t, pkg.version);
  if (existing && !isTerminal(existing.phase)) {
    if (existing.targetStage === 'qa') {
      existing.targetStage = 'prod';
      return note(t, `${existing.id} now continues to prod (approved)`);
    }
    return note(t, `${existing.id} is already in progress (${existing.phase}): duplicate ignored`);
  }
  const wasBlocked = t.state.blocked.some((b) => b.version === pkg.version);
  if (!clearBlockIfApprovedAnew(t, pkg)) return;
  // a pipeline took it to QA only: its first approval continues to prod (not a redelivered one)
  const onlyReachedQa =
    existing?.phase === 'Succeeded' &&
    existing.targetStage === 'qa' &&
    !deploymentsFor(t, pkg.version).some((d) => d.trigger === 'approval');
  if (existing && !onlyReachedQa && !wasBlocked) {
    // a duplicate or late approval never restarts a deployment; `retry` or a new approval does
    return note(t, `${existing.id} already ended ${existing.phase}: use retry to run it again`);
  }
  requestDeployment(t, pkg, 'approval', 'prod', undefined);
}

export function onRejected(t: Draft, pkg: PackageInfo): void {
  const reason = `v${pkg.version} rejected in the model registry`;
  const active = activeFor(t, pkg.version);
  // the registry's own time: an approval read before this rejection must not lift the block
  const at = Math.max(t.now, pkg.lastModifiedTime);
  // a version already kept out (rolled back: the service's own reject coming back, or a repeat of
  // the event) left QA as it was then: only a first rejection moves QA
  const alreadyOut = t.state.blocked.some((b) => b.version === pkg.version);
  // QA runs the version, or was being moved to it
  const servesQa =
    !alreadyOut &&
    (t.state.qa?.version === pkg.version ||
      active?.phase === 'QaDeploying' ||
      active?.phase === 'QaVerifying');
  block(t, pkg.version, reason, at);
  if (active) {
    stop(t, active, 'Aborted', reason);
  } else if (t.state.prod?.version === pkg.version) {
    const refused = rollbackProd(t, pkg.version, reason, 'registry');
    if (refused) note(t, `${reason} but it stays in prod: ${refused}`);
  } else {
    note(t, `${reason}: not in flight and not serving prod; kept out until approved anew`);
  }
  // the registry says Rejected now: from here on, an Approved view modified later is a new approval
  const blocked = t.state.blocked.find((b) => b.version === pkg.version)!;
  blocked.at = Math.max(blocked.at, at);
  blocked.rejectPending = undefined;
  if (servesQa) restoreQa(t, pkg.version, reason);
}

/** Returns false (and notes why) when the version is blocked and was not approved since. */
export function clearBlockIfApprovedAnew(t: Draft, pkg: PackageInfo): boolean {
  const blocked = t.state.blocked.find((b) => b.version === pkg.version);
  if (!blocked) return true;
  if (!approvedSinceBlocked(pkg, blocked)) {
    note(t, `v${pkg.version} was ${blocked.reason}; ${whyNotApprovedAnew(blocked)}`);
    return false;
  }
  t.state.blocked = t.state.blocked.filter((b) => b.version !== pkg.version);
  return true;
}

/**
 * An approval lifts a block only if it came after the registry said Rejected: modified after the
 * block and not while the service's own reject is still to be seen. Until then the package may
 * still say Approved from before, and a metadata edit or a late event would pass for an approval.
 */
export function approvedSinceBlocked(pkg: PackageInfo, blocked: BlockedVersion): boolean {
  return !blocked.rejectPending && pkg.approvalStatus === 'Approved' && pkg.lastModifiedTime > blocked.at;
}

export function whyNotApprovedAnew(blocked: BlockedVersion): string {
  return blocked.rejectPending
    ? 'the registry has not said Rejected yet (its reject is pending or was refused): reject it, then approve it anew in the registry'
    : 'approve it anew in the registry';
}
