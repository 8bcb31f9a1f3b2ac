import { active, answer, type Draft } from '../draft';
import { stopIfOverdue, tryStartProd } from './prod';
import { startNextQueued } from './qa';
import { finish, stop } from './rollback';

/** The tick: timeouts from the clock alone, prod waits, the queue. */

export function onTick(t: Draft): void {
  for (const d of active(t)) {
    for (const c of [...d.callbacks]) {
      if (t.now < c.deadline) continue;
      d.callbacks = d.callbacks.filter((x) => x.token !== c.token);
      const minutes = t.ctx.group.callback.taskTimeoutMinutes;
      answer(t, c, 'failure', undefined, `task timed out after ${minutes} min (${d.id} is ${d.phase})`);
      if (d.callbacks.length === 0) {
        stop(t, d, 'Aborted', `pipeline callback task timed out after ${minutes} min`);
      }
    }
    if (d.phase === 'AwaitingApproval' && d.approvalDeadline !== undefined && t.now >= d.approvalDeadline) {
      const minutes = t.ctx.group.promotion.approvalTimeoutMinutes;
      finish(t, d, 'Failed', `not promoted within the approval timeout of ${minutes} min`);
    }
  }
  for (const d of active(t)) stopIfOverdue(t, d);
  for (const d of active(t)) {
    if (d.phase === 'ReadyForProd') tryStartProd(t, d);
  }
  startNextQueued(t);
}
