import { active, type Draft, type HistoryExtra, history } from '../draft';
import { type Deployment, isTerminal, type OperatorCommand } from '../model';
import { namedStageRefusal } from '../named-stage';
import { holdsQa, restoreQa } from './qa';

/** `promote --in <stage>` and `rollback --in <stage>`: which stage a command is about. */

/** Why a command may not name its stage, if it may not (namedStageRefusal). */
export function stageRefusal(t: Draft, command: OperatorCommand): string | undefined {
  if (command.stage === undefined) return undefined;
  return namedStageRefusal(t.ctx.group.graph, t.state.group, command.verb, command.stage);
}

/**
 * `rollback --in qa`: QA goes back from `d`'s version to the version prod serves (the restore a
 * rejection makes); the version's registry status stays as it is. Returns why not, if it may not.
 */
export function rollbackQa(t: Draft, d: Deployment, by: string, who: HistoryExtra): string | undefined {
  if (!isTerminal(d.phase)) {
    return `${d.id} is ${d.phase}: rollback --in qa takes QA back from a version no longer in flight; abort (or rollback in prod) stops it first`;
  }
  const qa = t.state.qa;
  if (qa?.version !== d.version)
    return `QA serves ${qa ? `v${qa.version}` : 'no version'}, not v${d.version}`;
  const prod = t.state.prod;
  if (!prod) return `prod serves no version for QA to go back to`;
  if (prod.version === d.version) return `QA already serves v${d.version}, the version prod serves`;
  const next = active(t).find(holdsQa);
  if (next) return `${next.id} is on its way into QA (${next.phase}): it replaces v${d.version} there`;
  history(t, d, d.phase, d.phase, `QA goes back from v${d.version} to v${prod.version} (${by})`, who);
  restoreQa(t, d.version, by, { who });
  return undefined;
}
