import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { StageName } from '../config/schema';
import type { GroupState, HistoryEntry } from '../domain/model';
import { isTerminal } from '../domain/model';
import { callbackKeyHash, callbackRef } from '../domain/naming';
import { ConflictError, PermanentError, ServiceFaultError } from '../errors';
import type {
  ActiveGroup,
  CallbackAnswer,
  CallbackRecord,
  ExecutorErrorNote,
  StateStore,
} from '../ports/state-store';
import { isConditionalCheckFailed, toRolloutsError } from './aws-errors';
import { documentClient, dynamoDbClient } from './clients';

export const ACTIVE_INDEX = 'active-index';
export const ACTIVE_KEY_VALUE = 'active';
/** The only attributes the active index holds besides keys: the tick needs no more. */
export const ACTIVE_PROJECTION = ['group', 'inFlight'] as const;
/** TTL attribute of history, callback and executor-error items (epoch seconds). */
export const TTL_ATTRIBUTE = 'expiresAt';
export const RETENTION_DAYS = 180;

export const STATE_SK = 'STATE';
const CALLBACK_SK = 'CALLBACK';
const GROUP_PREFIX = 'GROUP#';
const HISTORY_PREFIX = 'HISTORY#';
/** The executor's last error per endpoint: `EXECUTOR#<stage>` in the group's partition. */
export const EXECUTOR_PREFIX = 'EXECUTOR#';
/** A SageMaker message is short; a longer one is cut so the item stays small. */
const EXECUTOR_MESSAGE_MAX = 500;
const EXECUTOR_ERROR_FIELDS = ['endpointName', 'operation', 'code', 'message', 'firstSeenAt', 'lastSeenAt'];
const KEY_ATTRIBUTES = ['pk', 'sk', 'activeKey', 'inFlight', TTL_ATTRIBUTE] as const;

/** A permanent refusal by the service's own table is a fault of the service, not of one input. */
const storeError = (error: unknown, context: Parameters<typeof toRolloutsError>[1]): Error => {
  const mapped = toRolloutsError(error, context);
  return mapped instanceof PermanentError ? new ServiceFaultError(mapped.message, { cause: error }) : mapped;
};

export const groupPk = (group: string): string => `${GROUP_PREFIX}${group}`;
/** By the token's hash: a key shows in CloudTrail data events and in the service's errors. */
const callbackPk = (token: string): string => `CALLBACK#${callbackKeyHash(token)}`;
const historySk = (deploymentId: string, seq: number): string =>
  `${HISTORY_PREFIX}${deploymentId}#${String(seq).padStart(8, '0')}`;
const expiresAt = (atMs: number): number => Math.floor(atMs / 1000) + RETENTION_DAYS * 24 * 60 * 60;

/** The table as serverless.yml declares it (TTL and point-in-time recovery are set separately). */
export const createTableInput = (tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'activeKey', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: ACTIVE_INDEX,
      KeySchema: [
        { AttributeName: 'activeKey', KeyType: 'HASH' },
        { AttributeName: 'pk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...ACTIVE_PROJECTION] },
    },
  ],
});

/**
 * A group is active (in the sparse index) while a deployment is in flight, effects are pending or
 * an endpoint has not yet been seen on its desired spec.
 */
export const isActiveGroup = (state: GroupState): boolean =>
  state.outbox.length > 0 ||
  state.deployments.some((deployment) => !isTerminal(deployment.phase)) ||
  Object.values(state.desired ?? {}).some((d) => d && d.settled?.generation !== d.generation);

const stripKeys = (item: Record<string, unknown>): Record<string, unknown> => {
  const rest = { ...item };
  for (const key of KEY_ATTRIBUTES) delete rest[key];
  return rest;
};

const toGroupState = (item: Record<string, unknown>): GroupState => stripKeys(item) as unknown as GroupState;

const toHistoryEntry = (item: Record<string, unknown>): HistoryEntry =>
  stripKeys(item) as unknown as HistoryEntry;

/** The record holds no token: the caller, who looked it up by its token, has it. */
const toCallbackRecord = (item: Record<string, unknown>, token: string): CallbackRecord =>
  ({ ...stripKeys(item), token }) as unknown as CallbackRecord;

/** StateStore on the service's single DynamoDB table (keys `pk`/`sk`, sparse GSI `active-index`). */
export class DynamoDbStateStore implements StateStore {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient = dynamoDbClient(),
  ) {
    this.db = documentClient(client);
  }

  async loadGroup(group: string): Promise<GroupState | undefined> {
    const item = await this.call('GetItem', groupPk(group), () =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: groupPk(group), sk: STATE_SK },
          ConsistentRead: true,
        }),
      ),
    );
    return item.Item ? toGroupState(item.Item) : undefined;
  }

  async saveGroup(state: GroupState): Promise<GroupState> {
    const saved: GroupState = { ...state, revision: state.revision + 1 };
    const item: Record<string, unknown> = { ...saved, pk: groupPk(state.group), sk: STATE_SK };
    if (isActiveGroup(saved)) {
      item.activeKey = ACTIVE_KEY_VALUE;
      const inFlight: Omit<ActiveGroup, 'group'> = {
        deployments: saved.deployments.filter((d) => !isTerminal(d.phase)),
        desired: saved.desired ?? {},
      };
      item.inFlight = inFlight;
    }
    const condition =
      state.revision === 0
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: '#revision = :expected',
            ExpressionAttributeNames: { '#revision': 'revision' },
            ExpressionAttributeValues: { ':expected': state.revision },
          };
    try {
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: item, ...condition }));
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new ConflictError(
          `group ${state.group} was written by someone else (expected revision ${state.revision})`,
          { cause: error },
        );
      }
      throw storeError(error, { operation: 'DynamoDB PutItem', resource: groupPk(state.group) });
    }
    return saved;
  }

  async listActiveGroups(): Promise<ActiveGroup[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: ACTIVE_INDEX,
      KeyConditionExpression: 'activeKey = :active',
      ExpressionAttributeValues: { ':active': ACTIVE_KEY_VALUE },
    });
    return items
      .filter((item) => item.sk === STATE_SK)
      .map((item) => {
        const inFlight = (item.inFlight ?? {}) as Partial<ActiveGroup>;
        return {
          group: String(item.group),
          deployments: inFlight.deployments ?? [],
          desired: inFlight.desired,
        };
      });
  }

  async listGroups(): Promise<GroupState[]> {
    const items: Record<string, unknown>[] = [];
    const input: ScanCommandInput = {
      TableName: this.tableName,
      FilterExpression: 'sk = :state AND begins_with(pk, :group)',
      ExpressionAttributeValues: { ':state': STATE_SK, ':group': GROUP_PREFIX },
      ConsistentRead: true,
    };
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.call('Scan', this.tableName, () =>
        this.db.send(new ScanCommand({ ...input, ExclusiveStartKey: startKey })),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items.map(toGroupState).sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  }

  async appendHistory(entries: HistoryEntry[]): Promise<void> {
    for (const entry of entries) {
      const sk = historySk(entry.deploymentId, entry.seq);
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...entry, pk: groupPk(entry.group), sk, [TTL_ATTRIBUTE]: expiresAt(entry.at) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (isConditionalCheckFailed(error)) continue;
        throw storeError(error, {
          operation: 'DynamoDB PutItem',
          resource: `${groupPk(entry.group)} ${sk}`,
        });
      }
    }
  }

  async history(deploymentId: string): Promise<HistoryEntry[]> {
    const separator = deploymentId.indexOf(':');
    if (separator <= 0) throw new PermanentError(`not a deployment id: ${deploymentId}`);
    const group = deploymentId.slice(0, separator);
    // The prefix `HISTORY#g:v3#` also matches attempt ids like `g:v3#2`, hence the filter.
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: 'deploymentId = :id',
      ExpressionAttributeValues: {
        ':pk': groupPk(group),
        ':prefix': `${HISTORY_PREFIX}${deploymentId}#`,
        ':id': deploymentId,
      },
      ConsistentRead: true,
    });
    return items.map(toHistoryEntry).sort((a, b) => a.seq - b.seq);
  }

  async getCallback(token: string): Promise<CallbackRecord | undefined> {
    const output = await this.call('GetItem', callbackPk(token), () =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: callbackPk(token), sk: CALLBACK_SK },
          ConsistentRead: true,
        }),
      ),
    );
    return output.Item ? toCallbackRecord(output.Item, token) : undefined;
  }

  async putCallbackIfAbsent(record: CallbackRecord): Promise<CallbackRecord> {
    const { token, ...stored } = record;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...stored,
            pk: callbackPk(token),
            sk: CALLBACK_SK,
            [TTL_ATTRIBUTE]: expiresAt(record.receivedAt),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return record;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) {
        throw storeError(error, { operation: 'DynamoDB PutItem', resource: callbackPk(token) });
      }
    }
    const existing = await this.getCallback(token);
    if (!existing) throw new ConflictError(`callback ${callbackRef(token)} vanished between write and read`);
    return existing;
  }

  async decideCallbackAnswer(token: string, answer: CallbackAnswer): Promise<CallbackAnswer> {
    try {
      // A token never recorded still gets its answer fixed (e.g. Stopping for an unknown token).
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: callbackPk(token), sk: CALLBACK_SK },
          UpdateExpression: 'SET answer = :answer, #ttl = if_not_exists(#ttl, :ttl)',
          ConditionExpression: 'attribute_not_exists(answer)',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':answer': answer, ':ttl': expiresAt(answer.decidedAt) },
        }),
      );
      return answer;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) {
        throw storeError(error, { operation: 'DynamoDB UpdateItem', resource: callbackPk(token) });
      }
    }
    const existing = await this.getCallback(token);
    if (!existing?.answer)
      throw new ConflictError(`callback ${callbackRef(token)}: answer vanished between write and read`);
    return existing.answer;
  }

  async markCallbackReported(token: string, at: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: callbackPk(token), sk: CALLBACK_SK },
          UpdateExpression: 'SET reportedAt = if_not_exists(reportedAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new PermanentError(
          `callback ${callbackRef(token)} cannot be marked reported: no record for it`,
          {
            cause: error,
          },
        );
      }
      throw storeError(error, { operation: 'DynamoDB UpdateItem', resource: callbackPk(token) });
    }
  }

  async noteExecutorError(group: string, error: ExecutorErrorNote, at: number): Promise<void> {
    const pk = groupPk(group);
    await this.call('UpdateItem', pk, () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: `${EXECUTOR_PREFIX}${error.stage}` },
          // every name through a placeholder: several (stage, code, message) may be reserved words
          UpdateExpression:
            'SET #stage = :stage, #endpointName = :endpointName, #operation = :operation, #code = :code, ' +
            '#message = :message, #firstSeenAt = if_not_exists(#firstSeenAt, :at), #lastSeenAt = :at, #expires = :expires',
          ExpressionAttributeNames: {
            ...Object.fromEntries(['stage', ...EXECUTOR_ERROR_FIELDS].map((f) => [`#${f}`, f])),
            '#expires': TTL_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':stage': error.stage,
            ':endpointName': error.endpointName,
            ':operation': error.operation,
            ':code': error.code,
            ':message': error.message.slice(0, EXECUTOR_MESSAGE_MAX),
            ':at': at,
            ':expires': expiresAt(at),
          },
        }),
      ),
    );
  }

  async clearExecutorError(group: string, stage: StageName): Promise<void> {
    const pk = groupPk(group);
    try {
      // the functions may not DeleteItem: the fields go, the bare keys expire by TTL
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: `${EXECUTOR_PREFIX}${stage}` },
          UpdateExpression: `REMOVE ${EXECUTOR_ERROR_FIELDS.map((f) => `#${f}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(#firstSeenAt)',
          ExpressionAttributeNames: Object.fromEntries(EXECUTOR_ERROR_FIELDS.map((f) => [`#${f}`, f])),
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw storeError(error, { operation: 'DynamoDB UpdateItem', resource: pk });
    }
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.call('Query', input.IndexName ?? this.tableName, () =>
        this.db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async call<T>(operation: string, resource: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw storeError(error, { operation: `DynamoDB ${operation}`, resource });
    }
  }
}
