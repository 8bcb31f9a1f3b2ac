import type { GroupConfig } from '../../config/schema';
import { type Draft, find } from '../draft';
import { startCanary } from './prod';
import { rejectVersion, stop } from './rollback';

type ProdStage = GroupConfig['stages']['prod'];

/**
 * What the pre-traffic check of a prod stage runs on the candidate (at weight 0, invoked with
 * TargetVariant): the stage's smoke test and its request set, each when configured. Empty: the
 * canary goes straight to step 1.
 */
export const preTrafficChecks = (prod: ProdStage): string[] => {
  const checks: string[] = [];
  if (prod.smokeTest) checks.push('smoke test');
  const requests = prod.preTraffic?.requests?.length;
  if (prod.preTraffic) {
    const what =
      requests === undefined ? `request set ${prod.preTraffic.requestSetFile}` : `${requests} request(s)`;
    checks.push(prod.preTraffic.compareWithBaseline ? `${what} compared with the baseline` : what);
  }
  return checks;
};

/** The TargetVariant check in prod: a failure ends the deployment before any user reached the candidate. */
export function onPreTrafficChecked(t: Draft, id: string, ok: boolean, detail: string): void {
  const d = find(t, id);
  if (d?.phase !== 'ProdVerifying') return;
  if (ok) return startCanary(t, d, `pre-traffic check passed: ${detail}`);
  const reason = `pre-traffic check failed in prod (the candidate served no user traffic): ${detail}`;
  // a failed candidate stays out until approved anew: the registry says Rejected, as after a rollback
  rejectVersion(t, d, {
    status: 'Failed',
    reason,
    rejectDescription: `failed by sagemaker-rollouts: ${reason}`,
    blockReason: reason,
  });
  stop(t, d, 'Failed', reason);
}
