import { afterEach, describe, expect, it } from 'vitest';
import { CommandUrlSender } from '../../src/adapters/command-url-sender';
import type { CloudEvent } from '../../src/local/cloud';
import { deps } from '../../src/wiring';
import { eventsOf, localConfigVariant, MINUTE, MUTATING, startWorld, type World } from './helpers';

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
  const alice = w.stack.cloud.sts.createUser('alice');
  const sender = new CommandUrlSender(w.stack.commandUrl, {
    audience: w.stack.tableName,
    credentials: async () => alice,
  });
  await sender.send({ verb, deploymentId, reason, requestId: `req-${verb}-${deploymentId}` });
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
        group: CHURN,
        version: 'v1',
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
  // no candidate 5XX: its steps pass at the end of their bakes, well within the hour
  const v2 = await w.createPackage(CHURN, { 'sim.errorRate': '0' });
  await w.approve(v2);
  await w.stack.run(120 * MINUTE, async () => (await w.state(CHURN)).prod?.version === 2);
  return { v1, v2 };
};

describe('(d) rejecting the version serving prod', () => {
  it('rolls prod back to the last known good version and never promotes the rejected one again', async () => {
    const w = await start();
    const { v1, v2 } = await twoVersions(w);
    expect((await w.state(CHURN)).prod?.version).toBe(2);
    // step 1 (the canary config holds v2 at weight 0), step 2
    expect(w.calls('UpdateEndpointWeightsAndCapacities')).toBe(2);

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
    // prod went back to v1 (v1#2), and QA, which ran v2 too, went back to v1 (v1#3)
    expect(phases).toEqual({
      'churn-model:v1': 'Succeeded',
      'churn-model:v2': 'RolledBack',
      'churn-model:v1#2': 'Succeeded',
      'churn-model:v1#3': 'Succeeded',
    });
    expect(state.deployments.find((d) => d.id === 'churn-model:v1#3')).toMatchObject({
      trigger: 'restore',
      targetStage: 'qa',
    });
    expect(w.stack.cloud.sagemaker.endpoints.get('churn-model-qa')?.variants.map((v) => v.modelName)).toEqual(
      ['churn-model-v1'],
    );
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
    await w.stack.run(120 * MINUTE, async () => (await w.state(CHURN)).prod?.version === 2);
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
    await w.stack.run(60 * MINUTE, async () =>
      (await w.state(CHURN)).deployments.some((d) => d.phase === 'Canary'),
    );
    await w.reject(v2);
    await w.stack.run(30 * MINUTE);
    const state = await w.state(CHURN);
    expect(state.prod?.version).toBe(1);
    expect(state.deployments.find((d) => d.id === 'churn-model:v2')).toMatchObject({ phase: 'Aborted' });
    const prod = w.stack.cloud.sagemaker.endpoints.get('churn-model-prod');
    expect(prod?.variants.map((v) => [v.modelName, v.currentWeight])).toEqual([['churn-model-v1', 100]]);
    expect(eventsOf(w.serviceEvents(), 'Deployment Aborted', 'churn-model:v2')).toHaveLength(1);
    // no model or config of v2 left behind on prod
    expect(
      [...w.stack.cloud.sagemaker.configs.keys()].filter((n) => n.startsWith('churn-model-prod')),
    ).toEqual([state.prod!.configName]);
  });
});

describe('(g) duplicated and reordered events', () => {
  it('never deploys a version twice to a stage', async () => {
    const w = await start({ duplicateEventRate: 1 });
    const { v1, v2 } = await twoVersions(w);
    const expectEndpointWrites = () => {
      // v1: create QA, create prod; v2: update QA, canary config on prod (v2 at weight 0), step 1,
      // step 2, v2 alone on prod
      expect(w.calls('CreateEndpoint')).toBe(2);
      expect(w.calls('UpdateEndpoint')).toBe(3);
      expect(w.calls('UpdateEndpointWeightsAndCapacities')).toBe(2);
      expect(w.calls('InvokeEndpoint')).toBe(2);
    };
    const endpointEvents = w.stack.cloud.events.published.filter(
      (e) => e['detail-type'] === 'SageMaker Endpoint State Change',
    );
    // every endpoint event really was delivered twice
    const ids = endpointEvents.map((e) => JSON.stringify(e.detail));
    expect(new Set(ids).size).toBeLessThan(ids.length);
    expect((await w.state(CHURN)).prod?.version).toBe(2);
    expectEndpointWrites();
    const mutations = mutatingCalls(w).length;
    const published = w.serviceEvents().length;

    // everything again, newest first
    const registryEvents = [...w.registryEvents(v1), ...w.registryEvents(v2)];
    for (const event of [...registryEvents].reverse()) await w.stack.invoke('modelPackageStateChange', event);
    for (const event of [...endpointEvents].reverse()) await w.stack.invoke('endpointStateChange', event);
    // and in a shuffled order, interleaved
    const all: [string, CloudEvent][] = [
      ...registryEvents.map((e): [string, CloudEvent] => ['modelPackageStateChange', e]),
      ...endpointEvents.map((e): [string, CloudEvent] => ['endpointStateChange', e]),
    ];
    for (let i = 0; i < all.length; i++) {
      const [fn, event] = all[(i * 7) % all.length]!;
      await w.stack.invoke(fn, event);
    }
    await w.stack.run(30 * MINUTE);

    const state = await w.state(CHURN);
    expect(state.prod?.version).toBe(2);
    expect(state.deployments.map((d) => [d.id, d.phase])).toEqual([
      ['churn-model:v1', 'Succeeded'],
      ['churn-model:v2', 'Succeeded'],
    ]);
    expectEndpointWrites();
    expect(mutatingCalls(w).length).toBe(mutations);
    expect(w.serviceEvents().length).toBe(published);
    expect(w.calls('CreateModel')).toBeLessThanOrEqual(mutations);
    // v1's model was retired when v2 took over prod
    expect([...w.stack.cloud.sagemaker.models.keys()]).toEqual(['churn-model-v2']);
  });

  it('an approval event that arrives twice while the first is still being handled starts one deployment', async () => {
    const w = await start();
    await w.createGroup(CHURN);
    const v1 = await w.createPackage(CHURN);
    await w.approve(v1);
    const [approval] = w.registryEvents(v1);
    // the bus delivers its own copy; two more arrive at once
    await Promise.all([
      w.stack.invoke('modelPackageStateChange', approval),
      w.stack.invoke('modelPackageStateChange', approval),
    ]);
    await w.stack.run(30 * MINUTE);
    const state = await w.state(CHURN);
    expect(state.deployments.map((d) => [d.id, d.phase])).toEqual([['churn-model:v1', 'Succeeded']]);
    expect(w.calls('CreateEndpoint')).toBe(2);
    expect(eventsOf(w.serviceEvents(), 'Deployment Started')).toHaveLength(1);
    expect((await w.history('churn-model:v1')).map((h) => h.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('promotion, failures and ignored events', () => {
  it('manual promotion waits for promote; cross-account prod runs on the assumed role', async () => {
    const w = await start();
    await w.createGroup(FRAUD);
    const v1 = await w.createPackage(FRAUD);
    await w.approve(v1);
    await w.stack.run(20 * MINUTE);
    let state = await w.state(FRAUD);
    expect(state.deployments[0]).toMatchObject({ id: 'fraud-detector:v1', phase: 'AwaitingApproval' });
    expect(w.stack.cloud.sagemaker.endpoints.has('fraud-detector-prod')).toBe(false);
    expect(eventsOf(w.serviceEvents(), 'Awaiting Approval', 'fraud-detector:v1')).toHaveLength(1);

    await sendCommand(w, 'promote', 'fraud-detector:v1');
    await w.stack.run(20 * MINUTE);
    state = await w.state(FRAUD);
    expect(state.prod?.version).toBe(1);
    expect(state.deployments[0]?.phase).toBe('Succeeded');
    const promoteEntry = (await w.history('fraud-detector:v1')).find((h) => h.to === 'ReadyForProd');
    expect(promoteEntry).toMatchObject({
      actor: 'arn:aws:iam::111122223333:user/alice',
      requestId: 'req-promote-fraud-detector:v1',
    });

    // every SageMaker change for prod used the deployer role's keys, observation the observer's;
    // each role was assumed once (the credentials are reused)
    const sts = w.stack.cloud.sts.calls;
    const DEPLOYER = 'arn:aws:iam::444455556666:role/sagemaker-rollouts-deployer';
    const OBSERVER = 'arn:aws:iam::444455556666:role/sagemaker-rollouts-observer';
    expect(sts.map((c) => c.roleArn).sort()).toEqual([DEPLOYER, OBSERVER]);
    for (const call of sts) expect(call.externalId).toBe('fraud-prod-7f3a');
    const deployerKeys = new Set(sts.filter((c) => c.roleArn === DEPLOYER).map((c) => c.accessKeyId));
    const assumedKeys = new Set(sts.map((c) => c.accessKeyId));
    const prodCalls = w.stack.cloud.calls.filter(
      (c) => c.service === 'sagemaker' && ['CreateEndpoint', 'CreateEndpointConfig'].includes(c.operation),
    );
    // QA (this account) created one endpoint and config, prod (the deployer role) the other
    expect(prodCalls.filter((c) => deployerKeys.has(c.callerAccessKeyId ?? ''))).toHaveLength(2);
    expect(prodCalls.filter((c) => !assumedKeys.has(c.callerAccessKeyId ?? ''))).toHaveLength(2);
    const assumedCalls = w.stack.cloud.calls.filter((c) => assumedKeys.has(c.callerAccessKeyId ?? ''));
    expect(assumedCalls.length).toBeGreaterThan(sts.length);
  });

  it('an approval not promoted within the timeout expires with a reason', async () => {
    const w = await start();
    await w.createGroup(FRAUD);
    const v1 = await w.createPackage(FRAUD);
    await w.approve(v1);
    await w.stack.run(130 * MINUTE);
    const d = (await w.state(FRAUD)).deployments[0];
    expect(d).toMatchObject({ phase: 'Failed' });
    expect(d?.reason).toContain('approval timeout of 120 min');
    const [expired] = eventsOf(w.serviceEvents(), 'Deployment Failed', 'fraud-detector:v1');
    expect(expired).toBeDefined();
    // the tick's gauge reports the group as the tick's own decision left it: the minute the
    // approval expires already counts no rollout in flight
    const inFlight = w.stack.records.flatMap((r) => {
      if (r.kind !== 'metric') return [];
      const doc = JSON.parse(r.line) as { group?: string; RolloutsInFlight?: number };
      return doc.group === FRAUD && doc.RolloutsInFlight !== undefined ? [[r.at, doc.RolloutsInFlight]] : [];
    });
    const expiredAt = Date.parse(String(expired?.time));
    expect(inFlight.filter(([at]) => at! < expiredAt).every(([, n]) => n === 1)).toBe(true);
    expect(inFlight.filter(([at]) => at! >= expiredAt).map(([, n]) => n)).toEqual(
      Array(inFlight.filter(([at]) => at! >= expiredAt).length).fill(0),
    );
    expect(inFlight.some(([at]) => at === expiredAt)).toBe(true);
    // promote after expiry is refused
    await sendCommand(w, 'promote', 'fraud-detector:v1');
    await w.stack.run(5 * MINUTE);
    expect(eventsOf(w.serviceEvents(), 'Command Rejected', 'fraud-detector:v1')).toHaveLength(1);
    expect(w.stack.cloud.sagemaker.endpoints.has('fraud-detector-prod')).toBe(false);
  });

  it.each([
    ['an erroring model', { 'sim.errorRate': '1' }],
    [
      'a response without the expected text',
      { 'sim.responseBase64': Buffer.from('{"nothing":1}').toString('base64') },
    ],
  ])('a failed smoke test (%s) fails the deployment with the reason', async (_name, meta) => {
    const w = await start();
    await w.createGroup(CHURN);
    const v1 = await w.createPackage(CHURN, meta);
    await w.approve(v1);
    await w.stack.run(30 * MINUTE);
    const d = (await w.state(CHURN)).deployments[0];
    expect(d?.phase).toBe('Failed');
    expect(d?.reason).toMatch(/QA smoke test failed: /);
    // the model's answer is named by size and digest, never quoted
    expect(d?.reason).toMatch(/\(answer \d+ bytes, sha256 [0-9a-f]{12}\)/);
    expect(d?.reason).not.toMatch(/nothing|Internal Server Error/);
    expect(w.stack.cloud.sagemaker.endpoints.has('churn-model-prod')).toBe(false);
    expect(await w.describePackage(v1)).toMatchObject({ stage: 'QA', stageStatus: 'Failed' });
    const failed = eventsOf(w.serviceEvents(), 'Deployment Failed', 'churn-model:v1');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.detail.reason).toBe(d?.reason);
  });

  it('a QA endpoint that fails records the FailureReason and QA Failed in the registry', async () => {
    const w = await start();
    await w.createGroup(CHURN);
    const v1 = await w.createPackage(CHURN, { 'sim.failDeploy': 'true' });
    await w.approve(v1);
    await w.stack.run(30 * MINUTE);
    const state = await w.state(CHURN);
    const d = state.deployments[0];
    expect(d?.phase).toBe('Failed');
    const reason = w.stack.cloud.sagemaker.endpoints.get('churn-model-qa')?.failureReason;
    expect(reason).toBeTruthy();
    expect(d?.reason).toContain(reason!);
    expect(await w.describePackage(v1)).toMatchObject({ stage: 'QA', stageStatus: 'Failed' });
    expect(state.qa).toBeUndefined();
    expect(eventsOf(w.serviceEvents(), 'Deployment Failed', 'churn-model:v1')).toHaveLength(1);
  });

  it('ignores unconfigured groups, non-approved versions and its own lifecycle updates, one log line each', async () => {
    const w = await start();
    await w.createGroup('someone-elses-model');
    const other = await w.createPackage('someone-elses-model');
    await w.approve(other);
    await w.createGroup(CHURN);
    const pending = await w.createPackage(CHURN);
    await w.stack.run(2 * MINUTE);
    // the rule's pattern keeps these from the function; delivered anyway, the handler ignores them
    expect(w.stack.records.filter((r) => r.kind === 'invoke' && r.functionName !== 'canaryTick')).toEqual([]);
    for (const event of [...w.registryEvents(other), ...w.registryEvents(pending)]) {
      await w.stack.invoke('modelPackageStateChange', event);
    }
    const results = w.stack.records.flatMap((r) =>
      r.kind === 'result' && r.functionName === 'modelPackageStateChange' ? [r] : [],
    );
    expect(results.map((r) => r.outcome)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(results[0]?.detail).toContain('someone-elses-model is not configured');
    expect(results[2]?.detail).toContain('PendingManualApproval');
    expect(await deps().store.loadGroup('someone-elses-model')).toBeUndefined();
    expect(mutatingCalls(w).filter((c) => c.operation !== 'UpdateModelPackage')).toEqual([]);
    expect(w.serviceEvents()).toEqual([]);
    void pending;

    // the registry update the service makes itself comes back as an event: a no-op
    const v = pending;
    await w.approve(v);
    await w.stack.run(30 * MINUTE);
    const own = w.registryEvents(v).filter((e) => (e.detail as Record<string, unknown>).ModelLifeCycle);
    expect(own.length).toBeGreaterThan(0);
    const logsBefore = w.stack.records.length;
    const writes = mutatingCalls(w).length;
    await w.stack.invoke('modelPackageStateChange', own[0]);
    const added = w.stack.records.slice(logsBefore);
    expect(added.filter((r) => r.kind === 'result').map((r) => r.kind === 'result' && r.outcome)).toEqual([
      'ignored',
    ]);
    expect(added.filter((r) => r.kind === 'log')).toHaveLength(1);
    expect(mutatingCalls(w).length).toBe(writes);
  });
});

describe('a newer version approved while an older one is in flight', () => {
  const approveBoth = async (w: World, group: string, order: 'older first' | 'newer first') => {
    const a = await w.createPackage(group, { 'sim.errorRate': '0.001' });
    const b = await w.createPackage(group, { 'sim.errorRate': '0.001' });
    for (const arn of order === 'older first' ? [a, b] : [b, a]) {
      await w.approve(arn);
      await w.stack.run(2 * MINUTE);
    }
  };

  it.each(['older first', 'newer first'] as const)(
    'supersede: the newest version wins (%s)',
    async (order) => {
      const w = await start();
      await firstDeployment(w, { 'sim.errorRate': '0.001' });
      w.stack.cloud.setTraffic('churn-model-prod', 600);
      await approveBoth(w, CHURN, order);
      await w.stack.run(90 * MINUTE);
      const state = await w.state(CHURN);
      expect(state.prod?.version).toBe(3);
      const phases = Object.fromEntries(state.deployments.map((d) => [d.id, d.phase]));
      expect(phases).toEqual({
        'churn-model:v1': 'Succeeded',
        'churn-model:v2': 'Superseded',
        'churn-model:v3': 'Succeeded',
      });
      expect(
        w.stack.cloud.sagemaker.endpoints.get('churn-model-prod')?.variants.map((v) => v.modelName),
      ).toEqual(['churn-model-v3']);
      expect(eventsOf(w.serviceEvents(), 'Deployment Superseded', 'churn-model:v2')).toHaveLength(1);
    },
  );

  it.each(['older first', 'newer first'] as const)(
    'queue: the same final prod version (%s)',
    async (order) => {
      const w = await start();
      await w.createGroup(FRAUD);
      await approveBoth(w, FRAUD, order);
      // promote whatever waits for it, until nothing does
      for (let i = 0; i < 6; i++) {
        await w.stack.run(15 * MINUTE);
        if (w.stack.cloud.sagemaker.endpoints.has('fraud-detector-prod')) {
          w.stack.cloud.setTraffic('fraud-detector-prod', 600);
        }
        const waiting = (await w.state(FRAUD)).deployments.filter((d) => d.phase === 'AwaitingApproval');
        for (const d of waiting) await sendCommand(w, 'promote', d.id);
      }
      await w.stack.run(30 * MINUTE);
      const state = await w.state(FRAUD);
      expect(state.prod?.version).toBe(2);
      expect(state.deployments.filter((d) => !['Succeeded', 'Superseded'].includes(d.phase))).toEqual([]);
      expect(
        w.stack.cloud.sagemaker.endpoints.get('fraud-detector-prod')?.variants.map((v) => v.modelName),
      ).toEqual(['fraud-detector-v2']);
    },
  );

  it('reject: a version approved while another is in flight is refused, the one in flight goes on', async () => {
    const configPath = localConfigVariant((config) => {
      config.modelPackageGroups[CHURN].concurrency = 'reject';
    });
    const w = await start({ configPath });
    await firstDeployment(w, { 'sim.errorRate': '0.001' });
    w.stack.cloud.setTraffic('churn-model-prod', 600);
    await approveBoth(w, CHURN, 'older first');
    await w.stack.run(90 * MINUTE);
    const state = await w.state(CHURN);
    const byId = Object.fromEntries(state.deployments.map((d) => [d.id, d]));
    expect(byId['churn-model:v2']?.phase).toBe('Succeeded');
    expect(byId['churn-model:v3']?.phase).toBe('Failed');
    expect(byId['churn-model:v3']?.reason).toMatch(
      /refused by the concurrency policy: churn-model:v2 in progress/,
    );
    expect(state.prod?.version).toBe(2);
    expect(eventsOf(w.serviceEvents(), 'Deployment Failed', 'churn-model:v3')).toHaveLength(1);
    // nothing of v3 was ever deployed
    expect([...w.stack.cloud.sagemaker.models.keys()].some((name) => name.endsWith('-v3'))).toBe(false);
  });
});
