import type { Deployment, HistoryEntry } from '../domain/model';
import { isVerb } from './commands';

/** `pause refused: ...`: a refused command is recorded but changes nothing. */
const isRefusal = (entry: HistoryEntry): boolean => {
  const verb = /^(\w+) refused: /.exec(entry.reason)?.[1];
  return verb !== undefined && isVerb(verb);
};

/**
 * What a deployment is doing now and why, from its history: while paused, the pause (who asked
 * and why; the deployment's own reason still names the step it paused in); otherwise the latest
 * entry that changed it (a step, an extension, a resume). Refusals change nothing and are skipped.
 */
export const currentReason = (d: Deployment, entries: readonly HistoryEntry[]): string | undefined => {
  const changes = entries.filter((entry) => !isRefusal(entry));
  if (d.canary?.paused) {
    const pause = changes.findLast((entry) => entry.reason.startsWith('paused'));
    if (pause) return pause.reason;
  }
  return changes.at(-1)?.reason ?? d.reason;
};
