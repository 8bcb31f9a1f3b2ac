import { createHash } from 'node:crypto';
import { type AttributeValue, GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTIVE_INDEX, DynamoDbStateStore } from '../../src/adapters/dynamodb-state-store';
import { KEPT_BLOCKED, KEPT_TERMINAL_DEPLOYMENTS } from '../../src/domain/draft';
import type { Deployment, GroupState, HistoryEntry } from '../../src/domain/model';
import { callbackRef } from '../../src/domain/naming';
import { ConflictError, ServiceFaultError } from '../../src/errors';
import { groupConfig, id, MIN, World } from '../domain/world';
import { Dynamo } from '../support/dynamo';

const TABLE = 'rollouts-test';
let dynamo: Dynamo;
let store: DynamoDbStateStore;

beforeAll(async () => {
  dynamo = await Dynamo.start();
  store = await dynamo.store(TABLE);
});

afterAll(async () => {
  await dynamo?.close();
});

const deployment = (group: string, overrides: Partial<Deployment> = {}): Deployment => ({
  id: `${group}:v3`,
  group,
  version: 3,
  packageArn: `arn:aws:sagemaker:us-east-1:111122223333:model-package/${group}/3`,
  attempt: 1,
  trigger: 'approval',
  targetStage: 'prod',
  phase: 'QaDeploying',
  createdAt: 1_700_000_000_000,
  phaseSince: 1_700_000_000_000,
  callbacks: [],
  seq: 1,
  ...overrides,
});

const newGroup = (group: string, overrides: Partial<GroupState> = {}): GroupState => ({
  group,
  revision: 0,
  knownGood: [],
  highestVersion: 3,
  blocked: [],
  deployments: [],
  outbox: [],
  updatedAt: 1_700_000_000_000,
  ...overrides,
});

const rawItem = async (pk: string, sk: string) =>
  (
    await dynamo.client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
    )
  ).Item;

/** Every item of the table, as DynamoDB JSON. */
const scanAll = async () => {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, never> | undefined;
  do {
    const page = await dynamo.client.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey as typeof startKey;
  } while (startKey);
  return items;
};

describe('DynamoDbStateStore groups', () => {
  it('round-trips a group state, dropping undefined fields and bumping the revision', async () => {
    const state = newGroup('round-trip', {
      deployments: [
        deployment('round-trip', {
          reason: undefined,
          canary: {
            baselineVersion: 2,
            baselineVariant: 'v2',
            candidateVariant: 'v3',
            configName: 'round-trip-v2-v3-abc123',
            stepIndex: 0,
            stepStartedAt: 1,
            bakeUntil: 2,
            extensions: 0,
            startedAt: 1,
            paused: false,
            weights: { v2: 90, v3: 10 },
            lastReadings: {
              candidate: { invocations: 0, errors5xx: 0, errorRate: null, latencyMs: null },
              baseline: null,
              alarmsInAlarm: [],
              windowStart: 1,
              windowEnd: 2,
            },
          },
        }),
      ],
      prod: { version: 2, packageArn: 'arn:p/2', modelName: 'm-v2', variantName: 'v2', configName: 'c2' },
    });
    const saved = await store.saveGroup(state);
    expect(saved.revision).toBe(1);
    const loaded = await store.loadGroup('round-trip');
    const { reason: _dropped, ...deploymentWithoutReason } = state.deployments[0]!;
    expect(loaded).toEqual({ ...state, revision: 1, deployments: [deploymentWithoutReason] });
    expect(await store.loadGroup('missing-group')).toBeUndefined();
  });

  it('rejects a stale revision and a second creation with ConflictError', async () => {
    const first = await store.saveGroup(newGroup('conflict'));
    await expect(store.saveGroup(newGroup('conflict'))).rejects.toBeInstanceOf(ConflictError);
    const second = await store.saveGroup({ ...first, highestVersion: 4 });
    expect(second.revision).toBe(2);
    await expect(store.saveGroup({ ...first, highestVersion: 5 })).rejects.toBeInstanceOf(ConflictError);
    expect((await store.loadGroup('conflict'))?.highestVersion).toBe(4);
  });

  it('keeps groups in the active index only while a deployment is in flight or the outbox is non-empty', async () => {
    const activeNames = async () => (await store.listActiveGroups()).map((g) => g.group);
    let state = await store.saveGroup(newGroup('active-a', { deployments: [deployment('active-a')] }));
    await store.saveGroup(newGroup('idle-b'));
    expect(await activeNames()).toContain('active-a');
    expect(await activeNames()).not.toContain('idle-b');
    expect((await rawItem('GROUP#active-a', 'STATE'))?.activeKey).toEqual({ S: 'active' });

    state = await store.saveGroup({
      ...state,
      deployments: [deployment('active-a', { phase: 'Succeeded' })],
    });
    expect(await activeNames()).not.toContain('active-a');
    expect((await rawItem('GROUP#active-a', 'STATE'))?.activeKey).toBeUndefined();

    state = await store.saveGroup({
      ...state,
      outbox: [
        { id: 'o1', command: { type: 'Publish', event: { type: 'Drift Detected', at: 1, detail: {} } } },
      ],
    });
    expect(await activeNames()).toContain('active-a');
    await store.saveGroup({ ...state, outbox: [] });
    expect(await activeNames()).not.toContain('active-a');

    const all = (await store.listGroups()).map((g) => g.group);
    expect(all).toEqual(expect.arrayContaining(['active-a', 'idle-b', 'conflict', 'round-trip']));
  });

  it('pages through more groups than one page holds', async () => {
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < 25; i++) {
      await store.saveGroup(
        newGroup(`many-${i}`, { deployments: [deployment(`many-${i}`, { reason: big })] }),
      );
    }
    const sendSpy = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    const active = (await store.listActiveGroups()).filter((g) => g.group.startsWith('many-'));
    expect(active).toHaveLength(25);
    // 1.5 MB of items do not fit one 1 MB page
    expect(sendSpy.mock.calls.length).toBeGreaterThan(1);
    sendSpy.mockRestore();
    const all = (await store.listGroups()).filter((g) => g.group.startsWith('many-'));
    expect(all).toHaveLength(25);
  });
});

describe('DynamoDbStateStore history', () => {
  const entry = (deploymentId: string, seq: number, overrides: Partial<HistoryEntry> = {}): HistoryEntry => ({
    deploymentId,
    group: 'hist',
    seq,
    at: 1_700_000_000_000 + seq,
    from: 'Queued',
    to: 'QaDeploying',
    actor: 'system',
    reason: `step ${seq}`,
    ...overrides,
  });

  it('appends idempotently and returns entries of one deployment in seq order', async () => {
    await store.appendHistory([entry('hist:v3', 10), entry('hist:v3', 2), entry('hist:v3', 1)]);
    await store.appendHistory([entry('hist:v3', 2, { reason: 'duplicate delivery' })]);
    await store.appendHistory([entry('hist:v3#2', 1), entry('hist:v30', 1)]);

    const entries = await store.history('hist:v3');
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 10]);
    expect(entries[1]?.reason).toBe('step 2');
    expect(entries[0]).toEqual(entry('hist:v3', 1));
    expect((await store.history('hist:v3#2')).map((e) => e.deploymentId)).toEqual(['hist:v3#2']);
    expect(await store.history('other:v1')).toEqual([]);

    const raw = await rawItem('GROUP#hist', 'HISTORY#hist:v3#00000010');
    const at = 1_700_000_000_010;
    expect(raw?.expiresAt).toEqual({ N: String(Math.floor(at / 1000) + 180 * 86400) });
  });

  it('keeps the stage and region of an entry; entries written without them read as they were', async () => {
    const placed = entry('hist:v5', 2, { from: 'Canary', to: 'Canary', stage: 'prod', region: 'eu-west-1' });
    await store.appendHistory([entry('hist:v5', 1), placed]);
    const entries = await store.history('hist:v5');
    expect(entries).toEqual([entry('hist:v5', 1), placed]);
    expect(entries[0]).not.toHaveProperty('stage');
  });
});

describe('DynamoDbStateStore callbacks', () => {
  const record = {
    token: 'AbCdEf1234',
    pipelineExecutionArn: 'arn:exec/1',
    task: 'deploy',
    receivedAt: 1000,
  };

  it('creates a callback record once and returns the stored one afterwards', async () => {
    expect(await store.putCallbackIfAbsent(record)).toEqual(record);
    expect(
      await store.putCallbackIfAbsent({
        ...record,
        pipelineExecutionArn: 'arn:exec/other',
        receivedAt: 2000,
      }),
    ).toEqual(record);
    expect(await store.getCallback('AbCdEf1234')).toEqual(record);
    expect(await store.getCallback('Unknown123')).toBeUndefined();
  });

  it('decides the answer once: a later different answer gets the first one back', async () => {
    const success = { outcome: 'success' as const, outputs: { endpoint: 'prod' }, decidedAt: 5000 };
    const failure = { outcome: 'failure' as const, reason: 'stopped', decidedAt: 6000 };
    expect(await store.decideCallbackAnswer('AbCdEf1234', success)).toEqual(success);
    expect(await store.decideCallbackAnswer('AbCdEf1234', failure)).toEqual(success);
    await store.markCallbackReported('AbCdEf1234', 7000);
    await store.markCallbackReported('AbCdEf1234', 8000);
    expect(await store.getCallback('AbCdEf1234')).toEqual({ ...record, answer: success, reportedAt: 7000 });
  });

  it('fixes an answer for a token that was never recorded', async () => {
    const failure = { outcome: 'failure' as const, reason: 'stopped', decidedAt: 6000 };
    expect(await store.decideCallbackAnswer('Stopped999', failure)).toEqual(failure);
    expect(await store.decideCallbackAnswer('Stopped999', { outcome: 'success', decidedAt: 7000 })).toEqual(
      failure,
    );
    expect((await store.getCallback('Stopped999'))?.answer).toEqual(failure);
  });
});

describe('callback tokens are never a key or in a message', () => {
  const TOKEN = 'SeCrEt7890';
  const hashed = `CALLBACK#${createHash('sha256').update(TOKEN).digest('hex')}`;

  it('keys the record by the sha256 of the token and stores no token at all', async () => {
    await store.putCallbackIfAbsent({ token: TOKEN, pipelineExecutionArn: 'arn:exec/2', receivedAt: 1000 });
    await store.decideCallbackAnswer(TOKEN, { outcome: 'failure', reason: 'stopped', decidedAt: 2000 });
    await store.markCallbackReported(TOKEN, 3000);
    expect(await store.getCallback(TOKEN)).toMatchObject({ token: TOKEN, reportedAt: 3000 });
    const items = await scanAll();
    expect(items.filter((item) => JSON.stringify(item).includes(TOKEN))).toEqual([]);
    expect(items.map((item) => item.pk?.S)).toContain(hashed);
    // the display form in logs and events is the head of the same hash
    expect(hashed.slice('CALLBACK#'.length, 'CALLBACK#'.length + 8)).toBe(callbackRef(TOKEN).slice(3));
  });

  it('names the callback by its hash when the table refuses a callback operation', async () => {
    const missing = new DynamoDbStateStore('no-such-table', dynamo.client);
    const attempts = [
      () => missing.getCallback(TOKEN),
      () => missing.putCallbackIfAbsent({ token: TOKEN, pipelineExecutionArn: 'arn:exec/3', receivedAt: 1 }),
      () => missing.decideCallbackAnswer(TOKEN, { outcome: 'success', decidedAt: 1 }),
      () => missing.markCallbackReported(TOKEN, 1),
      () => store.markCallbackReported('NeverSeen1', 1),
    ];
    for (const attempt of attempts) {
      const error = (await attempt().catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(Error);
      expect(error.message).not.toMatch(/SeCrEt7890|NeverSeen1/);
      expect(error.message).toMatch(/CALLBACK#[0-9a-f]{64}|cb-[0-9a-f]{8}/);
    }
  });
});

describe('a bounded group record (finding 2)', () => {
  it('10,000 versions of one group with 200-character reasons stay far below 400 KB, and save', async () => {
    const w = new World(groupConfig());
    const reason = 'r'.repeat(200);
    let largest = 0;
    for (let version = 1; version <= 10_000; version++) {
      w.later(MIN).approve(version);
      if (version % 500 === 1) {
        // now and then a version goes all the way to prod and is then rejected (rolled back)
        w.settleAll();
        w.later(MIN).send({
          type: 'Rejected',
          pkg: { ...w.registry.get(version)!, approvalStatus: 'Rejected' },
        });
        w.settleAll();
      } else {
        w.send({
          type: 'Operator',
          command: {
            verb: 'abort',
            deploymentId: id(version),
            actor: 'alice',
            reason,
            requestId: `r${version}`,
          },
        });
      }
      largest = Math.max(largest, JSON.stringify(w.state).length);
    }
    expect(w.state.deployments.length).toBeLessThanOrEqual(KEPT_TERMINAL_DEPLOYMENTS + 1);
    expect(w.state.blocked.length).toBeLessThanOrEqual(KEPT_BLOCKED);
    expect(largest).toBeLessThan(100_000);
    const saved = await store.saveGroup({ ...w.state, group: 'bounded', revision: 0 });
    expect((await store.loadGroup('bounded'))?.deployments).toEqual(saved.deployments);
  }, 120_000);

  it('the active index holds only the group name and what is in flight', async () => {
    const state = await store.saveGroup(
      newGroup('projected', {
        deployments: [
          deployment('projected', {
            id: 'projected:v2',
            version: 2,
            phase: 'Succeeded',
            reason: 'x'.repeat(500),
          }),
          deployment('projected'),
        ],
      }),
    );
    const [item] =
      (
        await dynamo.client.send(
          new QueryCommand({
            TableName: TABLE,
            IndexName: ACTIVE_INDEX,
            KeyConditionExpression: 'activeKey = :a AND pk = :pk',
            ExpressionAttributeValues: { ':a': { S: 'active' }, ':pk': { S: 'GROUP#projected' } },
          }),
        )
      ).Items ?? [];
    expect(Object.keys(item ?? {}).sort()).toEqual(['activeKey', 'group', 'inFlight', 'pk', 'sk']);
    const active = (await store.listActiveGroups()).find((g) => g.group === 'projected');
    expect(active?.deployments.map((d) => d.id)).toEqual(['projected:v3']);
    expect(state.revision).toBe(1);
  });
});

describe('the service’s own faults', () => {
  it('an item the table refuses (over 400 KB) is a ServiceFaultError, not a permanent input error', async () => {
    const huge = newGroup('too-big', {
      deployments: [deployment('too-big', { reason: 'x'.repeat(410_000) })],
    });
    const error = await store.saveGroup(huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceFaultError);
    expect((error as Error).message).toMatch(/DynamoDB PutItem GROUP#too-big/);
    expect((error as Error).message).toMatch(/size/i);
  });
});
