import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onOperatorCommand } from '../../src/app/control';
import { type Deps, silentLog } from '../../src/app/deps';
import { OUTBOX_LEASE_MS } from '../../src/app/group-runner';
import { onModelPackageChanged } from '../../src/app/model-package-changed';
import { loadConfigFile } from '../../src/config/load';
import type { EndpointObservation, PackageInfo, ServiceEvent } from '../../src/domain/model';
import { PermanentError, TransientError } from '../../src/errors';
import type { DeploySpec, StageEndpoints } from '../../src/ports/sagemaker';
import { Dynamo } from '../support/dynamo';
import { inlineExecutor } from '../support/inline-executor';

const config = loadConfigFile('src/local/scenarios/rollouts.local.yml');
const T0 = Date.UTC(2024, 0, 1);
const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/churn-model:1';
let dynamo: Dynamo;

beforeAll(async () => {
  dynamo = await Dynamo.start();
});

afterAll(async () => {
  await dynamo?.close();
});

/** The real DynamoDB store on dynalite; fakes for SageMaker and the bus. */
const world = async (deploy: (spec: DeploySpec) => Promise<'started'>, refusePublish?: PermanentError) => {
  const store = await dynamo.store();
  const raised: string[] = [];
  const published: ServiceEvent[] = [];
  const deployed: DeploySpec[] = [];
  const endpoints: StageEndpoints = {
    describe: async (): Promise<EndpointObservation | null> => null,
    deploy: async (spec) => {
      const result = await deploy(spec);
      deployed.push(spec);
      return result;
    },
    setWeights: async () => 'sent',
    invoke: async () => ({ ok: true, statusCode: 200, body: '{"predictions":[1]}' }),
    delete: async () => {},
    retire: async () => {},
  };
  const pkg: PackageInfo = {
    group: 'churn-model',
    version: 1,
    arn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model/1',
    approvalStatus: 'Approved',
    lastModifiedTime: T0,
  };
  const deps: Deps = {
    config,
    store,
    registry: {
      describePackage: async () => pkg,
      newestApproved: async () => undefined,
      packageArtifacts: async (packageArn) => ({ packageArn, containers: [{ image: IMAGE }] }),
      updatePackage: async () => {},
    },
    endpoints: { forStage: () => endpoints },
    autoscaling: {
      forStage: () => ({ read: async () => undefined, apply: async () => {}, remove: async () => {} }),
    },
    // every image is in ECR: these tests are about the outbox, the pre-flight has its own
    artifacts: { forStage: () => ({ observe: async (artifact) => ({ artifact, present: true }) }) },
    region: 'us-east-1',
    metrics: { readVariants: async () => new Map(), alarmsInAlarm: async () => [] },
    metricsFor: () => ({ readVariants: async () => new Map(), alarmsInAlarm: async () => [] }),
    pipelines: { sendSuccess: async () => 'sent', sendFailure: async () => 'sent' },
    events: {
      publish: async (events) => {
        if (refusePublish) throw refusePublish;
        published.push(...events);
      },
    },
    convergence: inlineExecutor(() => deps),
    failures: { raise: (group) => void raised.push(group) },
    log: silentLog,
  };
  const approve = (now: number) =>
    onModelPackageChanged(
      deps,
      { group: 'churn-model', version: 1, packageArn: pkg.arn, status: 'Approved' },
      now,
    );
  return { deps, store, published, deployed, raised, approve };
};

describe('the outbox and the desired endpoints', () => {
  it('keeps an endpoint change that failed transiently; the next run converges the endpoint', async () => {
    let failures = 1;
    const w = await world(async () => {
      if (failures-- > 0) throw new TransientError('SageMaker throttled');
      return 'started';
    });
    await w.approve(T0);
    let state = await w.store.loadGroup('churn-model');
    expect(state?.deployments[0]?.phase).toBe('QaDeploying');
    expect(state?.desired?.qa).toMatchObject({
      endpointName: 'churn-model-qa',
      deploymentId: 'churn-model:v1',
    });
    expect(state?.desired?.qa?.settled).toBeUndefined();
    expect(w.deployed).toEqual([]);
    // the event again (a retry): nothing new is decided, the endpoint is sent its spec once
    await w.approve(T0 + 60_000);
    state = await w.store.loadGroup('churn-model');
    expect(state?.outbox).toEqual([]);
    expect(w.deployed.map((s) => s.endpointName)).toEqual(['churn-model-qa']);
    expect(w.published.filter((e) => e.type === 'Deployment Started')).toHaveLength(1);
  });

  it('feeds a permanent failure back: the deployment fails with the reason', async () => {
    const w = await world(async () => {
      throw new PermanentError('ValidationException: instance type ml.m5.large is not available');
    });
    await w.approve(T0);
    const state = await w.store.loadGroup('churn-model');
    expect(state?.outbox).toEqual([]);
    const d = state?.deployments[0];
    expect(d?.phase).toBe('Failed');
    expect(d?.reason).toContain('ml.m5.large is not available');
    expect(w.published.map((e) => e.type)).toContain('Deployment Failed');
    const history = await w.store.history('churn-model:v1');
    expect(history.map((h) => h.to)).toEqual(['Queued', 'QaDeploying', 'Failed']);
  });

  it('an effect refused for good leaves the outbox and raises PermanentFailures', async () => {
    const w = await world(
      async () => 'started',
      new PermanentError('AccessDeniedException: not authorized to perform events:PutEvents'),
    );
    await w.approve(T0);
    const state = await w.store.loadGroup('churn-model');
    expect(state?.outbox).toEqual([]);
    expect(w.raised.length).toBeGreaterThan(0);
    expect(new Set(w.raised)).toEqual(new Set(['churn-model']));
  });

  it('two runs at once on one group: one deployment, each effect carried out once', async () => {
    const w = await world(async () => 'started');
    await Promise.all([w.approve(T0), w.approve(T0), w.approve(T0)]);
    const state = await w.store.loadGroup('churn-model');
    expect(state?.deployments.map((d) => [d.id, d.phase])).toEqual([['churn-model:v1', 'QaDeploying']]);
    expect(state?.outbox).toEqual([]);
    // concurrent executors may each send the one spec (CreateEndpoint of an existing one is a no-op)
    expect(new Set(w.deployed.map((s) => s.configName)).size).toBe(1);
    expect(w.deployed.length).toBeGreaterThanOrEqual(1);
    expect(w.published.map((e) => e.type)).toEqual(['Deployment Started']);
    expect((await w.store.history('churn-model:v1')).map((h) => h.seq)).toEqual([1, 2]);
  });

  it('a crashed run leaves its effects to the next run once the lease has passed; endpoints converge at once', async () => {
    let crash = true;
    const w = await world(async () => 'started');
    const save = w.store.saveGroup.bind(w.store);
    // the run saves its decision, then dies before carrying anything out
    w.deps.store = Object.assign(Object.create(w.store), {
      saveGroup: async (s: Parameters<typeof save>[0]) => {
        const saved = await save(s);
        if (crash) {
          crash = false;
          throw new Error('crashed');
        }
        return saved;
      },
    });
    await expect(w.approve(T0)).rejects.toThrow('crashed');
    expect((await w.store.loadGroup('churn-model'))?.outbox.length).toBeGreaterThan(0);
    expect(w.deployed).toEqual([]);
    // within the lease, a duplicate event leaves the effects to their owner; the desired endpoint
    // needs no lease: sending the newest spec again is harmless
    await w.approve(T0 + 1000);
    expect(w.published).toEqual([]);
    expect(w.deployed.map((s) => s.endpointName)).toEqual(['churn-model-qa']);
    await w.approve(T0 + OUTBOX_LEASE_MS);
    expect((await w.store.loadGroup('churn-model'))?.outbox).toEqual([]);
    expect(w.published.map((e) => e.type)).toEqual(['Deployment Started']);
  });

  it('a delayed event’s old time does not hand its effects to other runs at once (finding 10)', async () => {
    const w = await world(async () => 'started');
    await w.approve(T0);
    const save = w.store.saveGroup.bind(w.store);
    let crash = true;
    w.deps.store = Object.assign(Object.create(w.store), {
      saveGroup: async (s: Parameters<typeof save>[0]) => {
        const saved = await save(s);
        if (crash) {
          crash = false;
          throw new Error('crashed');
        }
        return saved;
      },
    });
    // an operator command stamped ten minutes before the last decision, whose run then dies
    const command = {
      verb: 'abort' as const,
      deploymentId: 'churn-model:v1',
      actor: 'a',
      reason: 'r',
      requestId: 'q',
    };
    await expect(onOperatorCommand(w.deps, command, T0 - 10 * 60_000)).rejects.toThrow('crashed');
    const pending = (await w.store.loadGroup('churn-model'))?.outbox ?? [];
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((e) => e.at === T0)).toBe(true);
    const before = w.published.length;
    // a run a second after the last decision leaves them to their owner, within the lease
    await w.approve(T0 + 1000);
    expect(w.published.length).toBe(before);
  });
});
