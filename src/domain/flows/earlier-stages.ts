import { type Draft, note } from '../draft';
import { restoreQa } from './qa';

/** The stages that already promoted a version when a later one rolls it back: the group's policy. */

/**
 * Prod went back from `version` (a gate, an alarm, the maximum duration, a rollback, an abort or a
 * failure of its deployment, a rejection): `rollback.earlierStages` says whether QA, which
 * promoted it, goes back to the version prod serves after the rollback (`rollBack`) or keeps it
 * for whoever looks into it (`keep`).
 */
export function earlierStagesAfterProdRollback(t: Draft, version: number, why: string): void {
  // with `keep` QA stays as it is: a rejection in the registry may still take it back (restoreQa)
  if (t.ctx.group.rollback.earlierStages === 'keep') return;
  const qa = t.state.qa;
  if (qa?.version !== version) {
    const serves = qa ? `serves v${qa.version}` : 'serves no version';
    return note(
      t,
      `QA ${serves}, not v${version}: nothing to roll back there (rollback.earlierStages: rollBack)`,
    );
  }
  restoreQa(t, version, `prod rolled back v${version} (${why})`, {
    rule: 'rollback.earlierStages: rollBack',
  });
}
