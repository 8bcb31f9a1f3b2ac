import type { StageName } from '../../config/schema';
import { type Draft, find, markInRegistry, note } from '../draft';
import { isTerminal } from '../model';
import { onCommandFailed } from './rollback';

/**
 * The executor's pre-flight found artifacts of the version missing (or refused to the stage's
 * credentials) where the stage's region reads them, before it changed anything: the stage fails
 * with what is missing where (a report on an older generation means nothing now). QA's failure is
 * recorded in the registry by the QA flow; production's is recorded here.
 */
export function onArtifactsMissing(
  t: Draft,
  stage: StageName,
  generation: number,
  packageArn: string,
  reason: string,
): void {
  const desired = t.state.desired?.[stage];
  if (!desired || desired.generation !== generation || desired.settled?.generation === generation) return;
  desired.settled = { generation, outcome: 'failed', reason, at: t.now };
  note(t, `${desired.endpointName}: pre-flight of generation ${generation} failed: ${reason}`);
  const d = find(t, desired.deploymentId);
  if (d && !isTerminal(d.phase) && stage === 'prod' && d.packageArn === packageArn)
    markInRegistry(t, d, 'Production', 'Failed', `artifact pre-flight failed: ${reason}`);
  onCommandFailed(t, desired.deploymentId, 'artifact pre-flight', reason);
}
