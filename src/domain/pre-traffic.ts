import type { GroupConfig } from '../config/schema';

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
