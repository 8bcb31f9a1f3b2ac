import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeCommandSender } from '../../src/adapters/eventbridge-publisher';
import type { CloudEvent } from '../../src/local/cloud';
import { eventsOf, MINUTE, MUTATING, startWorld, type World } from './helpers';

const CHURN = 'churn-model';
const FRAUD = 'fraud-detector';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const start = async (options: Parameters<typeof startWorld>[0] = {}): Promise<World> => {
  world = await startWorld(options);
  return world;
};

/** Approves v1 of churn-model and runs until it serves prod. */
const firstDeployment = async (w: World, meta: Record<string, string> = {}): Promise<string> => {
  await w.createGroup(CHURN);
  const v1 = await w.createPackage(CHURN, meta);
  await w.approve(v1);
  await w.stack.run(30 * MINUTE);
  return v1;
};

const sendCommand = async (
  w: World,
  verb: string,
  deploymentId: string,
  reason = 'checked',
): Promise<void> => {
  const sender = new EventBridgeCommandSender(
    w.stack.busName,
    new EventBridgeClient({ region: 'us-east-1' }),
  );
  await sender.send({ verb, deploymentId, actor: 'alice', reason, requestId: `req-${verb}-${deploymentId}` });
};

const mutatingCalls = (w: World) => w.stack.cloud.calls.filter((c) => MUTATING.has(c.operation) && !c.error);

describe('(a) first deployment', () => {
  it('deploys exactly the approved version to QA, smoke tests it, and creates prod with it alone', async () => {
    const w = await start();
    await w.createGroup(CHURN);
    const v1 = await w.createPackage(CHURN);
    // a newer version exists but is not approved: "exactly the version in the event", never "latest"
    await w.createPackage(CHURN);
    await w.approve(v1);
    await w.stack.run(30 * MINUTE);

    const state = await w.state(CHURN);
    expect(state.prod).toMatchObject({ version: 1, packageArn: v1, modelName: 'churn-model-v1' });
    expect(state.qa).toMatchObject({ version: 1 });
    expect(state.outbox).toEqual([]);
    expect(state.deployments.map((d) => [d.id, d.phase])).toEqual([['churn-model:v1', 'Succeeded']]);

    const qa = w.stack.cloud.sagemaker.endpoints.get('churn-model-qa');
    const prod = w.stack.cloud.sagemaker.endpoints.get('churn-model-prod');
    expect(qa?.status).toBe('InService');
    expect(prod?.status).toBe('InService');
    expect(prod?.variants.map((v) => [v.name, v.modelName, v.currentWeight])).toEqual([
      ['v1', 'churn-model-v1', 100],
    ]);
    // one endpoint creation per stage, nothing updated, one smoke test against QA
    expect(w.calls('CreateEndpoint')).toBe(2);
    expect(w.calls('UpdateEndpoint')).toBe(0);
    expect(w.calls('InvokeEndpoint')).toBe(1);
    expect([...w.stack.cloud.sagemaker.models.keys()]).toEqual(['churn-model-v1']);

    // the registry knows where the version is: QA first, then Production
    expect(await w.describePackage(v1)).toMatchObject({
      approval: 'Approved',
      stage: 'Production',
      stageStatus: 'Deployed',
    });

    // the service's own lifecycle updates caused registry events; each one was a no-op
    const lifecycleEvents = w
      .registryEvents(v1)
      .filter((e) => (e.detail as Record<string, unknown>).ModelLifeCycle);
    expect(lifecycleEvents.length).toBeGreaterThanOrEqual(2);
    const results = w.stack.records.filter(
      (r) => r.kind === 'result' && r.functionName === 'modelPackageStateChange',
    );
    expect(results.filter((r) => r.kind === 'result' && r.outcome === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'result' && r.outcome === 'ignored').length).toBe(
      results.length - 1,
    );

    // service events for every transition, and the history in the table
    const events = w.serviceEvents();
    const types = events.map((e) => e['detail-type']);
    expect(eventsOf(events, 'Deployment Started', 'churn-model:v1')).toHaveLength(1);
    expect(eventsOf(events, 'Stage Deployed', 'churn-model:v1')).toHaveLength(1);
    expect(eventsOf(events, 'Deployment Promoted', 'churn-model:v1')).toHaveLength(1);
    expect(types.indexOf('Deployment Started')).toBeLessThan(types.indexOf('Stage Deployed'));
    expect(types.indexOf('Stage Deployed')).toBeLessThan(types.indexOf('Deployment Promoted'));
    const history = await w.history('churn-model:v1');
    expect(history.map((h) => h.to)).toEqual([
      'Queued',
      'QaDeploying',
      'QaVerifying',
      'ReadyForProd',
      'ProdDeploying',
      'Succeeded',
    ]);
    expect(history.map((h) => h.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('names resources deterministically within 63 characters and tags them', async () => {
    const w = await start();
    await firstDeployment(w);
    const sagemaker = w.stack.cloud.sagemaker;
    const configs = [...sagemaker.configs.values()];
    const models = [...sagemaker.models.values()];
    const endpoints = [...sagemaker.endpoints.values()];
    expect(models.map((m) => m.name)).toEqual(['churn-model-v1']);
    expect(configs).toHaveLength(2);
    for (const resource of [...configs, ...models, ...endpoints]) {
      expect(resource.name.length).toBeLessThanOrEqual(63);
      expect(resource.name).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/);
      const tags = await w.tags(resource.arn);
      expect(tags).toMatchObject({
        'managed-by': 'sagemaker-rollouts',
        'model-package-group': CHURN,
        versions: 'v1',
        'deployment-id': 'churn-model:v1',
      });
      expect(['qa', 'prod']).toContain(tags.stage);
    }
    expect(endpoints.map((e) => e.name).sort()).toEqual(['churn-model-prod', 'churn-model-qa']);
    // a second run of the same config computes the same names (content-addressed)
    const again = await startWorld();
    try {
      await firstDeployment(again);
      expect([...again.stack.cloud.sagemaker.configs.keys()].sort()).toEqual(
        [...sagemaker.configs.keys()].sort(),
      );
    } finally {
      await again.close();
    }
  });
});

/** Runs v1 to prod, then v2 through its canary to prod; traffic keeps the gates fed. */
const twoVersions = async (w: World): Promise<{ v1: string; v2: string }> => {
  const v1 = await firstDeployment(w, { 'sim.errorRate': '0.001' });
  w.stack.cloud.setTraffic('churn-model-prod', 600);
  const v2 = await w.createPackage(CHURN, { 'sim.errorRate': '0.001' });
  await w.approve(v2);
  await w.stack.run(60 * MINUTE);
  return { v1, v2 };
};

describe('(d) rejecting the version serving prod', () => {
  it('rolls prod back to the last known good version and never promotes the rejected one again', async () => {
    const w = await start();
    const { v1, v2 } = await twoVersions(w);
    expect((await w.state(CHURN)).prod?.version).toBe(2);
    expect(w.calls('UpdateEndpointWeightsAndCapacities')).toBe(1);

    await w.reject(v2);
    await w.stack.run(20 * MINUTE);

    const state = await w.state(CHURN);
    expect(state.prod).toMatchObject({ version: 1, packageArn: v1 });
    expect(state.blocked.map((b) => b.version)).toEqual([2]);
    expect(state.outbox).toEqual([]);
    const prod = w.stack.cloud.sagemaker.endpoints.get('churn-model-prod');
    expect(prod?.status).toBe('InService');
    expect(prod?.variants.map((v) => [v.modelName, v.currentWeight])).toEqual([['churn-model-v1', 100]]);
    const phases = Object.fromEntries(state.deployments.map((d) => [d.id, d.phase]));
    expect(phases).toEqual({
      'churn-model:v1': 'Succeeded',
      'churn-model:v2': 'RolledBack',
      'churn-model:v1#2': 'Succeeded',
    });
    expect(await w.describePackage(v2)).toMatchObject({
      approval: 'Rejected',
      stage: 'Production',
      stageStatus: 'RolledBack',
    });
    const events = w.serviceEvents();
    expect(eventsOf(events, 'Deployment Rolled Back', 'churn-model:v2')).toHaveLength(1);
    expect((await w.history('churn-model:v2')).at(-1)).toMatchObject({ from: 'Succeeded', to: 'RolledBack' });

    // the rejection event seen again (a duplicate) changes nothing
    const before = mutatingCalls(w).length;
    const rejection = w
      .registryEvents(v2)
      .find((e) => (e.detail as Record<string, unknown>).ModelApprovalStatus === 'Rejected')!;
    await w.stack.invoke('modelPackageStateChange', rejection);
    await w.stack.run(5 * MINUTE);
    expect(mutatingCalls(w).length).toBe(before);

    // an old approval event replayed does not bring v2 back
    const approval = w
      .registryEvents(v2)
      .find(
        (e) =>
          (e.detail as Record<string, unknown>).ModelApprovalStatus === 'Approved' &&
          !(e.detail as Record<string, unknown>).ModelLifeCycle,
      )!;
    await w.stack.invoke('modelPackageStateChange', approval);
    await w.stack.run(5 * MINUTE);
    expect((await w.state(CHURN)).prod?.version).toBe(1);

    // approved anew: it may go again
    await w.approve(v2);
    await w.stack.run(60 * MINUTE);
    const after = await w.state(CHURN);
    expect(after.prod?.version).toBe(2);
    expect(after.deployments.find((d) => d.id === 'churn-model:v2#2')?.phase).toBe('Succeeded');
  });

  it('rejecting a version in flight aborts it and leaves prod as it was', async () => {
    const w = await start();
    await firstDeployment(w, { 'sim.errorRate': '0.001' });
    w.stack.cloud.setTraffic('churn-model-prod', 600);
    const v2 = await w.createPackage(CHURN, { 'sim.errorRate': '0.001' });
    await w.approve(v2);
    // until the canary runs
    await w.stack.run(60 * MINUTE, async () => (await w.state(CHURN)).deployments.some((d) => d.phase === 'Canary'));
    await w.reject(v2);
    await w.stack.run(30 * MINUTE);
    const state = await w.state(CHURN);
    expect(state.prod?.version).toBe(1);
    expect(state.deployments.find((d) => d.id === 'churn-model:v2')).toMatchObject({ phase: 'Aborted' });
    const prod = w.stack.cloud.sagemaker.endpoints.get('churn-model-prod');
    expect(prod?.variants.map((v) => [v.modelName, v.currentWeight])).toEqual([['churn-model-v1', 100]]);
    expect(eventsOf(w.serviceEvents(), 'Deployment Aborted', 'churn-model:v2')).toHaveLength(1);
    // no model or config of v2 left behind on prod
    expect([...w.stack.cloud.sagemaker.configs.keys()].filter((n) => n.startsWith('churn-model-prod'))).toEqual([
      state.prod!.configName,
    ]);
  });
});
