import type { Input } from '../domain/decide';
import type { GroupState } from '../domain/model';
import { converge } from './converge';
import { decideAndSave, type GroupRun } from './decision-run';
import type { Deps } from './deps';
import { smokeTest } from './observe';

export { type GroupRun, OUTBOX_LEASE_MS } from './decision-run';

/**
 * Decide and save, carry out the effects, then converge the group's endpoints to what was decided:
 * what every trigger runs.
 */
export const runGroup = async (
  deps: Deps,
  group: string,
  now: number,
  inputsFor: (state: GroupState) => Input[] | Promise<Input[]>,
): Promise<GroupRun> => {
  const run = await decideAndSave(deps, group, now, inputsFor);
  await converge(deps, group, now);
  const state = (await deps.store.loadGroup(group)) ?? run.state;
  return followUps(deps, { ...run, state }, now);
};

/** Work that needs a fresh observation right after a decision: smoke tests of a QA endpoint now InService. */
const followUps = async (deps: Deps, run: GroupRun, now: number): Promise<GroupRun> => {
  const verifying = run.state.deployments.filter((d) => d.phase === 'QaVerifying');
  if (verifying.length === 0) return run;
  const results = await Promise.all(
    verifying.map(async (d) => ({ d, result: await smokeTest(deps, d.group, 'qa') })),
  );
  const next = await runGroup(deps, run.state.group, now, () =>
    results.map(({ d, result }) => ({
      type: 'SmokeTested' as const,
      deploymentId: d.id,
      ok: result.ok,
      detail: result.detail,
    })),
  );
  return { state: next.state, decision: next.decision ?? run.decision };
};
