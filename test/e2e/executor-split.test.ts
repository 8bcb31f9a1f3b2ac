import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE, MUTATING, startWorld, type World } from './helpers';

const CHURN = 'churn-model';
/** Endpoint writes; the registry's (UpdateModelPackage) are checked on their own. */
const ENDPOINT_WRITES = [...MUTATING].filter((op) => op !== 'UpdateModelPackage');

let w: World;

afterEach(async () => {
  await w?.close();
});

const queueName = (url: string | undefined): string => {
  if (!url) throw new Error('queue not created');
  return url.split('/').pop()!;
};
const executorQueue = () => queueName(w.stack.queueUrls.ExecutorQueue);
const endpointWrites = () => w.stack.cloud.calls.filter((c) => ENDPOINT_WRITES.includes(c.operation));
const invoked = (functionName: string) =>
  w.stack.records.filter((r) => r.kind === 'invoke' && r.functionName === functionName).length;

describe('the executor split: deciding functions save and ask; the executor changes SageMaker', () => {
  it('an approval is decided and saved without a SageMaker write; the executor’s queue message creates QA', async () => {
    w = await startWorld();
    await w.createGroup(CHURN);
    const v1 = await w.createPackage(CHURN);
    await w.approve(v1);
    // the approval event reaches modelPackageStateChange; queues are not polled yet
    await w.stack.cloud.drain();
    expect(invoked('modelPackageStateChange')).toBe(1);
    const decided = await w.state(CHURN);
    expect(decided.deployments[0]?.phase).toBe('QaDeploying');
    expect(decided.desired?.qa?.settled).toBeUndefined();
    expect(endpointWrites()).toEqual([]);
    const requests = w.stack.cloud.sqs.messages(executorQueue());
    expect(requests.map((m) => JSON.parse(m.body))).toEqual([{ group: CHURN }]);

    await w.stack.pollQueues();
    expect(invoked('executor')).toBe(1);
    expect(endpointWrites().map((c) => c.operation)).toEqual([
      'CreateModel',
      'CreateEndpointConfig',
      'CreateEndpoint',
    ]);
    expect(w.stack.cloud.sqs.messages(executorQueue())).toEqual([]);
    expect(w.stack.cloud.sagemaker.endpoints.get('churn-model-qa')?.status).toBe('Creating');

    await w.stack.run(60 * MINUTE, async () => (await w.state(CHURN)).prod?.version === 1);
    expect((await w.state(CHURN)).prod?.version).toBe(1);
  });

  it('the tick does not ask the executor while every endpoint it would change is busy; it goes on as soon as one is not', async () => {
    w = await startWorld();
    await w.createGroup(CHURN);
    await w.approve(await w.createPackage(CHURN));
    await w.stack.run(60 * MINUTE, async () => (await w.state(CHURN)).prod?.version === 1);
    // each endpoint's time Creating, from the changes the local cloud applied
    const busy = ['churn-model-qa', 'churn-model-prod'].map((name) => {
      const changes = w.stack.cloud.changes.filter((c) => c.kind === 'endpoint' && c.endpoint === name);
      const created = changes.find((c) => c.kind === 'endpoint' && c.status === 'Creating')!.at;
      const inService = changes.find((c) => c.kind === 'endpoint' && c.status === 'InService')!.at;
      return { name, created, inService };
    });
    for (const { name, created, inService } of busy) {
      expect(inService - created, name).toBeGreaterThanOrEqual(3 * MINUTE);
      const ticks = w.stack.records.filter(
        (r) => r.kind === 'invoke' && r.functionName === 'canaryTick' && r.at > created && r.at < inService,
      );
      const executorRuns = w.stack.records.filter(
        (r) => r.kind === 'invoke' && r.functionName === 'executor' && r.at > created && r.at < inService,
      );
      expect(ticks.length, name).toBeGreaterThanOrEqual(3);
      expect(
        executorRuns.map((r) => r.at),
        name,
      ).toEqual([]);
    }
    // the minute the endpoint is InService, the executor runs (the event's request, and the tick's)
    const qaInService = busy[0]!.inService;
    expect(
      w.stack.records.some(
        (r) => r.kind === 'invoke' && r.functionName === 'executor' && r.at === qaInService,
      ),
    ).toBe(true);
    // the polls' view of the record (noted on each save) is what a read of the table returns
    expect(await w.stack.latestGroup(CHURN)).toEqual(await w.state(CHURN));
  });

  it('a registry write a deciding function decides (a rollback’s rejection) is carried out by the executor alone (finding 5)', async () => {
    w = await startWorld();
    await w.createGroup(CHURN);
    const v1 = await w.createPackage(CHURN);
    await w.approve(v1);
    await w.stack.run(60 * MINUTE, async () => (await w.state(CHURN)).prod?.version === 1);
    // traffic for the canary's gates to judge
    w.stack.cloud.setTraffic('churn-model-prod', 600);
    const v2 = await w.createPackage(CHURN);
    await w.approve(v2);
    await w.stack.run(6 * 60 * MINUTE, async () => (await w.state(CHURN)).prod?.version === 2);
    expect((await w.state(CHURN)).prod?.version).toBe(2);
    await w.stack.run(5 * MINUTE, async () => (await w.state(CHURN)).outbox.length === 0);

    // an operator rejects the version in prod: modelPackageStateChange decides the rollback
    await w.reject(v2);
    const since = w.stack.cloud.calls.length;
    const registryWrites = () =>
      w.stack.cloud.calls.slice(since).filter((c) => c.operation === 'UpdateModelPackage' && !c.error);
    const deciderRuns = invoked('modelPackageStateChange');
    await w.stack.cloud.drain();
    expect(invoked('modelPackageStateChange')).toBeGreaterThan(deciderRuns);
    const decided = await w.state(CHURN);
    expect(decided.prod?.version).toBe(1);
    expect(decided.outbox.map((e) => e.command.type)).toContain('UpdateRegistry');
    expect(registryWrites()).toEqual([]);
    expect(w.stack.cloud.sqs.messages(executorQueue()).map((m) => JSON.parse(m.body))).toContainEqual({
      group: CHURN,
    });

    await w.stack.pollQueues();
    expect(registryWrites().length).toBeGreaterThan(0);
    expect(await w.describePackage(v2)).toMatchObject({
      approval: 'Rejected',
      stage: 'Production',
      stageStatus: 'RolledBack',
    });
    expect((await w.state(CHURN)).outbox.filter((e) => e.command.type === 'UpdateRegistry')).toEqual([]);
  });

  it('a lost convergence request is not lost work: the tick asks again and the endpoint is created', async () => {
    w = await startWorld();
    await w.createGroup(CHURN);
    const v1 = await w.createPackage(CHURN);
    await w.approve(v1);
    await w.stack.cloud.drain();
    const lost = w.stack.cloud.sqs.receiveBatch(executorQueue(), 10);
    expect(lost).toHaveLength(1);
    w.stack.cloud.sqs.deleteMessages(
      executorQueue(),
      lost.map((r) => r.receiptHandle),
    );
    await w.stack.run(2 * MINUTE);
    expect(endpointWrites().map((c) => c.operation)).toContain('CreateEndpoint');
    await w.stack.run(60 * MINUTE, async () => (await w.state(CHURN)).prod?.version === 1);
    expect((await w.state(CHURN)).prod?.version).toBe(1);
  });

  it('an invalid request fails its record and ends in the executor DLQ after 5 receives; a valid one beside it converges', async () => {
    w = await startWorld();
    await w.createGroup(CHURN);
    const sqs = new SQSClient({ region: 'us-east-1' });
    const bad = await sqs.send(
      new SendMessageCommand({
        QueueUrl: w.stack.queueUrls.ExecutorQueue,
        MessageBody: '{"group":"no-such-group"}',
      }),
    );
    const v1 = await w.createPackage(CHURN);
    await w.approve(v1);
    await w.stack.run(45 * MINUTE);
    const dlq = w.stack.cloud.sqs.messages(queueName(w.stack.queueUrls.ExecutorDlq));
    expect(dlq.map((m) => m.messageId)).toEqual([bad.MessageId]);
    expect(
      w.stack.records.some(
        (r) => r.kind === 'result' && r.functionName === 'executor' && r.detail === '1 failed record(s)',
      ),
    ).toBe(true);
    expect((await w.state(CHURN)).deployments[0]?.phase).not.toBe('QaDeploying');
  });
});
