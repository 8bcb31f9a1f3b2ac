import { describe, expect, it } from 'vitest';
import { ENDPOINT_WAIT_LIMIT_MS } from '../../src/domain/decide';
import { modelName } from '../../src/domain/naming';
import { commandsOf, eventsOf, GROUP, groupConfig, id, SERVICE_REGION, ship, toCanary, World } from './world';

describe('a rollback lands on prod', () => {
  it('abort during a blue/green update: prod back on the baseline, the abandoned config retired, Aborted', () => {
    const w = new World(groupConfig({ strategy: 'native' }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    expect(w.phase(id(2))).toBe('NativeShifting');
    const abandoned = w.dep(id(2)).awaiting!.configName;
    w.operator('abort', id(2));
    expect(w.phase(id(2))).toBe('RollingBack');
    const before = w.commands.length;
    w.settleAll();
    expect(w.phase(id(2))).toBe('Aborted');
    expect(w.dep(id(2)).reason).toBe('rolling back to v1: abort by alice: testing; prod back on v1');
    expect(w.state.prod?.version).toBe(1);
    expect(commandsOf(w.commands.slice(before), 'RetireResources')).toEqual([
      expect.objectContaining({ stage: 'prod', configNames: [abandoned] }),
    ]);
    expect(w.state.blocked).toEqual([]);
  });
});

describe('which updates are blue/green', () => {
  it("a canary's own endpoint changes are not SageMaker blue/green updates", () => {
    const w = new World();
    ship(w, 1);
    w.approve(2);
    const toCanaryConfig = w.settle('qa');
    const [deploy] = commandsOf(toCanaryConfig.commands, 'DeployEndpoint');
    expect(deploy).toMatchObject({ stage: 'prod', variants: [expect.anything(), expect.anything()] });
    expect(deploy?.native).toBeFalsy();
    expect(w.state.desired?.prod?.native).toBeUndefined();
  });
});

describe('a superseded canary', () => {
  it("retires the rolled-back version's model once QA runs the next version", () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    const canaryConfig = w.dep(d).canary!.configName;
    w.approve(3);
    expect(w.phase(d)).toBe('Canary');
    // v3 passes QA, so prod is wanted: the canary is superseded
    w.settle('qa');
    expect(w.state.qa?.version).toBe(3);
    expect(w.phase(d)).toBe('RollingBack');
    const before = w.commands.length;
    w.settle('prod');
    w.settle('prod');
    expect(w.phase(d)).toBe('Superseded');
    expect(commandsOf(w.commands.slice(before), 'RetireResources')).toEqual([
      expect.objectContaining({
        stage: 'prod',
        modelNames: [modelName(GROUP, 2)],
        configNames: [canaryConfig],
      }),
    ]);
  });
});

describe('what the history and the bus say', () => {
  it('QA InService with a smoke test: the history names the config being smoke tested', () => {
    const w = new World(groupConfig({ smokeTest: true }));
    w.approve(1);
    const config = w.dep(id(1)).awaiting!.configName;
    const arrived = w.settle('qa');
    expect(commandsOf(arrived.commands, 'RecordHistory').map((c) => c.entry.reason)).toContain(
      `QA endpoint InService on ${config}; smoke testing`,
    );
  });

  it('QA InService without a smoke test: the Stage Deployed event says none is configured', () => {
    const w = new World();
    w.approve(1);
    const arrived = w.settle('qa');
    const deployed = commandsOf(arrived.commands, 'Publish').find((p) => p.event.type === 'Stage Deployed');
    expect(deployed?.event).toMatchObject({ stage: 'qa', region: SERVICE_REGION });
    expect(deployed?.event.detail).toMatchObject({ reason: 'no smoke test configured' });
  });

  it('drift pauses the canary, and the history and the Deployment Paused event say what drifted', () => {
    const w = new World();
    ship(w, 1);
    toCanary(w, 2);
    w.handSetWeights('prod', { v1: 50, v2: 50 });
    const drift = w.observe('prod');
    const what = 'prod weights {"v1":50,"v2":50} differ from the expected {"v1":90,"v2":10}';
    expect(commandsOf(drift.commands, 'RecordHistory').map((c) => c.entry)).toEqual([
      expect.objectContaining({ from: 'Canary', to: 'Canary', reason: `paused: drift detected: ${what}` }),
    ]);
    const paused = commandsOf(drift.commands, 'Publish').find((p) => p.event.type === 'Deployment Paused');
    expect(paused?.event.detail).toMatchObject({ reason: `drift: ${what}` });
  });

  it('SageMaker refusing an endpoint change fails the deployment, naming the change and the reason', () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    w.send({
      type: 'Operator',
      command: { verb: 'promote', deploymentId: d, actor: 'alice', reason: 'go', requestId: 'p1' },
    });
    const generation = w.state.desired!.prod!.generation;
    w.send({ type: 'EndpointRefused', stage: 'prod', generation, reason: 'ResourceLimitExceeded' });
    expect(w.dep(d).reason).toMatch(/: endpoint change failed: ResourceLimitExceeded/);
  });
});

describe('a group record from before desired endpoint specs', () => {
  it('an executor report changes nothing, and a canary is still watched for drift', () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    w.state = { ...w.state, desired: undefined };
    expect(w.send({ type: 'EndpointConverged', stage: 'prod', generation: 1 }).commands).toEqual([]);
    w.handSetWeights('prod', { v1: 50, v2: 50 });
    const drift = w.observe('prod');
    expect(eventsOf(drift.commands)).toContain('Drift Detected');
    expect(w.dep(d).canary?.paused).toBe(true);
  });
});

describe('how long a deployment waits for its endpoint', () => {
  it('a blue/green update whose group changed to the canary strategy meanwhile waits the ordinary limit, then fails', () => {
    const w = new World(groupConfig({ strategy: 'native' }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    expect(w.phase(id(2))).toBe('NativeShifting');
    w.config = groupConfig();
    w.later(ENDPOINT_WAIT_LIMIT_MS).observe('prod');
    expect(w.phase(id(2))).toBe('NativeShifting');
    w.later(1).observe('prod');
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.dep(id(2)).reason).toMatch(/^prod deployment failed: endpoint churn-prod not InService on /);
  });
});

describe('stopping a deployment that may have given the candidate traffic', () => {
  const stoppedIn = (phase: string, w: World, d: string) => {
    expect(w.phase(d)).toBe(phase);
    w.operator('abort', d);
    expect(w.phase(d)).toBe('RollingBack');
    return w.state.desired?.prod;
  };

  it('drains it first (the baseline takes all traffic at once) from ProdDeploying, ProdVerifying and Promoting', () => {
    const deploying = new World();
    ship(deploying, 1);
    deploying.approve(2);
    deploying.settle('qa');
    expect(stoppedIn('ProdDeploying', deploying, id(2))?.drainFirst).toBe(true);

    const verifying = new World(groupConfig({ prodSmokeTest: true }));
    ship(verifying, 1);
    verifying.approve(2);
    verifying.settle('qa');
    verifying.settle('prod');
    expect(stoppedIn('ProdVerifying', verifying, id(2))?.drainFirst).toBe(true);

    const promoting = new World();
    ship(promoting, 1);
    const d = toCanary(promoting, 2);
    promoting.operator('promote', d, true, true);
    expect(stoppedIn('Promoting', promoting, d)?.drainFirst).toBe(true);
    expect(promoting.dep(d).canary?.weights).toEqual({ v1: 100, v2: 0 });
  });

  it('a blue/green update is not drained: SageMaker rolls its own traffic', () => {
    const w = new World(groupConfig({ strategy: 'native' }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    expect(stoppedIn('NativeShifting', w, id(2))?.drainFirst).toBeUndefined();
  });
});
