import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDbStateStore } from '../../src/adapters/dynamodb-state-store';
import { DynamoDbStatusReader } from '../../src/adapters/dynamodb-status-reader';
import type { GroupState } from '../../src/domain/model';
import { Dynamo } from '../support/dynamo';

let dynamo: Dynamo;
let store: DynamoDbStateStore;
let table: string;
/** every DynamoDB operation the reader sent, with its index */
const sent: { command: string; index?: string | undefined }[] = [];

const group = (name: string, phase: 'Canary' | 'Succeeded'): GroupState => ({
  group: name,
  revision: 0,
  knownGood: [],
  highestVersion: 1,
  blocked: [],
  outbox: [],
  updatedAt: 1_700_000_000_000,
  deployments: [
    {
      id: `${name}:v1`,
      group: name,
      version: 1,
      packageArn: `arn:aws:sagemaker:us-east-1:111122223333:model-package/${name}/1`,
      attempt: 1,
      trigger: 'approval',
      targetStage: 'prod',
      phase,
      createdAt: 1_700_000_000_000,
      phaseSince: 1_700_000_000_000,
      callbacks: [],
      seq: 1,
    },
  ],
});

beforeAll(async () => {
  dynamo = await Dynamo.start();
  table = 'status-reads';
  store = await dynamo.store(table);
  dynamo.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({
        command: context.commandName ?? '?',
        index: (args.input as { IndexName?: string }).IndexName,
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
});

afterAll(async () => {
  await dynamo?.close();
});

describe('DynamoDbStatusReader', () => {
  it('lists active groups from the index and reads each group with a Query, never a Scan', async () => {
    await store.saveGroup(group('busy-b', 'Canary'));
    await store.saveGroup(group('busy-a', 'Canary'));
    await store.saveGroup(group('done', 'Succeeded'));
    await store.appendHistory([
      {
        deploymentId: 'done:v1',
        group: 'done',
        seq: 1,
        at: 1,
        from: null,
        to: 'Succeeded',
        actor: 'system',
        reason: 'x',
      },
    ]);
    sent.length = 0;

    const reader = new DynamoDbStatusReader(table, dynamo.client);
    expect(await reader.activeGroupNames()).toEqual(['busy-a', 'busy-b']);
    const done = await reader.group('done');
    expect(done).toMatchObject({
      group: 'done',
      revision: 1,
      deployments: [{ id: 'done:v1', phase: 'Succeeded' }],
    });
    expect(done).not.toHaveProperty('pk');
    expect(await reader.group('missing')).toBeUndefined();

    expect(sent.map((s) => s.command)).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand']);
    expect(sent[0]?.index).toBe('active-index');
    expect(sent.slice(1).every((s) => s.index === undefined)).toBe(true);
  });
});
