import { describe, expect, it } from 'vitest';
import { packagesToCheck } from '../../src/domain/artifacts';
import type { DesiredEndpoint } from '../../src/domain/model';
import { commandsOf, eventsOf, id, packageArn, ship, World } from './world';

const REASON = `${packageArn(2)} cannot be deployed in us-east-1: image churn:2 (ECR repository churn of registry 111122223333, region us-east-1) is missing (ECR DescribeImages: ImageNotFoundException)`;

/** `version` approved with QA's and prod's changes decided but not carried out yet. */
const decidedNotSent = (w: World) => {
  w.autoCarryOut = false;
  return w.state.desired!;
};

describe('the pre-flight, as the domain sees it', () => {
  it('checks the versions of the deployment that wants a spec: the candidate, not the baseline it keeps', () => {
    const w = new World();
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    const canary = w.state.desired!.prod!;
    expect(canary.variants.map((v) => v.version)).toEqual([1, 2]);
    expect(packagesToCheck(canary, w.state.deployments)).toEqual([packageArn(2)]);
    // a rollback's spec (the baseline alone, wanted by the candidate's deployment) checks nothing
    const rollback: DesiredEndpoint = { ...canary, variants: canary.variants.filter((v) => v.version === 1) };
    expect(packagesToCheck(rollback, w.state.deployments)).toEqual([]);
    // a spec no deployment of the record wants checks nothing either
    expect(packagesToCheck({ ...canary, deploymentId: 'churn:v9' }, w.state.deployments)).toEqual([]);
  });

  it('fails QA with the reason, QA Failed in the registry; a report on an older generation changes nothing', () => {
    const w = new World();
    w.approve(2);
    const desired = decidedNotSent(w).qa!;
    const stale = w.send({
      type: 'ArtifactsMissing',
      stage: 'qa',
      generation: desired.generation - 1,
      packageArn: packageArn(2),
      reason: REASON,
    });
    expect(stale.commands).toEqual([]);
    expect(w.phase(id(2))).toBe('QaDeploying');

    const failed = w.send({
      type: 'ArtifactsMissing',
      stage: 'qa',
      generation: desired.generation,
      packageArn: packageArn(2),
      reason: REASON,
    });
    const d = w.state.deployments.find((x) => x.id === id(2))!;
    expect(d.phase).toBe('Failed');
    expect(d.reason).toBe(`QA deployment failed: artifact pre-flight failed: ${REASON}`);
    expect(commandsOf(failed.commands, 'UpdateRegistry').map((c) => c.lifecycle)).toEqual([
      { stage: 'QA', status: 'Failed', description: `artifact pre-flight failed: ${REASON}` },
    ]);
    expect(eventsOf(failed.commands)).toEqual(['Deployment Failed']);
    expect(w.state.desired?.qa).toBeUndefined();
  });

  it('fails prod before the canary config is sent: Production Failed in the registry, prod left on the baseline', () => {
    const w = new World();
    ship(w, 1);
    w.approve(2);
    w.advance('qa');
    decidedNotSent(w);
    w.observe('qa');
    expect(w.phase(id(2))).toBe('ProdDeploying');
    const desired = w.state.desired!.prod!;
    const sentBefore = w.executed.length;
    const failed = w.send({
      type: 'ArtifactsMissing',
      stage: 'prod',
      generation: desired.generation,
      packageArn: packageArn(2),
      reason: REASON,
    });
    expect(commandsOf(failed.commands, 'UpdateRegistry').map((c) => c.lifecycle)).toEqual([
      { stage: 'Production', status: 'Failed', description: `artifact pre-flight failed: ${REASON}` },
    ]);
    // the way back asks for the config prod already runs: nothing to send
    w.autoCarryOut = true;
    w.settleAll();
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.state.deployments.find((x) => x.id === id(2))!.reason).toContain(
      `prod deployment failed: artifact pre-flight failed: ${REASON}`,
    );
    expect(w.executed.slice(sentBefore).filter((e) => JSON.stringify(e).includes('v2'))).toEqual([]);
    expect(w.state.prod?.version).toBe(1);
    // not rolled back: the version is not blamed, so not blocked
    expect(w.state.blocked.map((b) => b.version)).not.toContain(2);
  });
});
