import type { Input } from '../domain/decide';
import type { GroupState } from '../domain/model';
import { type ConvergeReport, converge } from './converge';
import { decideAndSave, type GroupRun } from './decision-run';
import type { Deps } from './deps';
import { smokeTest } from './observe';
import { preTrafficInput } from './pre-traffic';
import { baselineScalingInputs } from './scaling';

export interface ExecutorRun extends GroupRun {
  steps: ConvergeReport['steps'];
}

/**
 * The executor, on a convergence request: carries out the group's waiting SageMaker and
 * autoscaling effects, brings its endpoints to the newest desired spec, then runs what needs a
 * fresh observation right after (and converges again if that decides something). It reads the
 * group's record and nothing else, so duplicated or reordered requests change nothing.
 */
export const executeGroup = (deps: Deps, group: string, now: number): Promise<ExecutorRun> =>
  runAsExecutor(deps, group, now, () => []);

const runAsExecutor = async (
  deps: Deps,
  group: string,
  now: number,
  inputsFor: (state: GroupState) => Input[] | Promise<Input[]>,
): Promise<ExecutorRun> => {
  const run = await decideAndSave(deps, group, now, inputsFor, 'executor');
  const report = await converge(deps, group, now, run.state);
  const state = report.state ?? run.state;
  const next = await followUps(deps, { ...run, state }, now);
  return { ...next, steps: [...report.steps, ...next.steps] };
};

/**
 * Work that needs a fresh observation right after a decision: smoke tests of a QA endpoint now
 * InService, the baseline's autoscaling of a new canary, and the pre-traffic check of a candidate
 * at weight 0 in prod.
 */
const followUps = async (deps: Deps, run: GroupRun, now: number): Promise<ExecutorRun> => {
  const verifying = run.state.deployments.filter((d) => d.phase === 'QaVerifying');
  const checking = run.state.deployments.filter((d) => d.phase === 'ProdVerifying');
  const scalingReads = await baselineScalingInputs(deps, run.state);
  if (verifying.length === 0 && checking.length === 0 && scalingReads.length === 0) {
    return { ...run, steps: [] };
  }
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
  if (inputs.length === 0) return { ...run, steps: [] };
  const next = await runAsExecutor(deps, run.state.group, now, () => inputs);
  return { ...next, decision: next.decision ?? run.decision };
};
