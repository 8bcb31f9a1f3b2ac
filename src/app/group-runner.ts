import type { Input } from '../domain/decide';
import type { GroupState } from '../domain/model';
import { converge } from './converge';
import { decideAndSave, type GroupRun } from './decision-run';
import type { Deps } from './deps';
import { smokeTest } from './observe';
import { preTrafficInput } from './pre-traffic';
import { baselineScalingInputs } from './scaling';

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

/**
 * Work that needs a fresh observation right after a decision: smoke tests of a QA endpoint now
 * InService, the baseline's autoscaling of a new canary, and the pre-traffic check of a candidate
 * at weight 0 in prod.
 */
const followUps = async (deps: Deps, run: GroupRun, now: number): Promise<GroupRun> => {
  const verifying = run.state.deployments.filter((d) => d.phase === 'QaVerifying');
  const checking = run.state.deployments.filter((d) => d.phase === 'ProdVerifying');
  const scalingReads = await baselineScalingInputs(deps, run.state);
  if (verifying.length === 0 && checking.length === 0 && scalingReads.length === 0) return run;
  const smokeTests = await Promise.all(
    verifying.map(async (d): Promise<Input> => {
      const result = await smokeTest(deps, d.group, 'qa');
      return { type: 'SmokeTested', deploymentId: d.id, ok: result.ok, detail: result.detail };
    }),
  );
  const checks = await Promise.all(checking.map((d) => preTrafficInput(deps, d)));
  const inputs = [
    ...scalingReads,
    ...smokeTests,
    ...checks.filter((input): input is Input => input !== undefined),
  ];
  if (inputs.length === 0) return run;
  const next = await runGroup(deps, run.state.group, now, () => inputs);
  return { state: next.state, decision: next.decision ?? run.decision };
};
