import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { GroupState } from '../domain/model';
import type { ExecutorError } from '../ports/state-store';
import { toRolloutsError } from './aws-errors';
import { documentClient, dynamoDbClient } from './clients';
import { ACTIVE_INDEX, ACTIVE_KEY_VALUE, EXECUTOR_PREFIX, groupPk, STATE_SK } from './dynamodb-state-store';

const GROUP_PREFIX = groupPk('');

/**
 * What `status` reads: the names in the sparse active-deployments index (keys only, whatever the
 * index projects), one group record per Query and the executor's errors on its endpoints per Query.
 * Never a Scan: the table also holds history and callback items, and a refresh every few seconds
 * must cost what the groups shown cost.
 */
export class DynamoDbStatusReader {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient = dynamoDbClient(),
  ) {
    this.db = documentClient(client);
  }

  /** Groups with a deployment in flight or commands pending, by name. */
  async activeGroupNames(): Promise<string[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: ACTIVE_INDEX,
      KeyConditionExpression: 'activeKey = :active',
      ExpressionAttributeValues: { ':active': ACTIVE_KEY_VALUE },
      ProjectionExpression: 'pk, sk',
    });
    const names = items
      .filter((item) => item.sk === STATE_SK && typeof item.pk === 'string')
      .map((item) => (item.pk as string).slice(GROUP_PREFIX.length));
    return [...new Set(names)].sort();
  }

  async group(group: string): Promise<GroupState | undefined> {
    const [item] = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :state',
      ExpressionAttributeValues: { ':pk': groupPk(group), ':state': STATE_SK },
      ConsistentRead: true,
    });
    if (!item) return undefined;
    const { pk: _pk, sk: _sk, activeKey: _active, expiresAt: _expires, ...state } = item;
    return state as unknown as GroupState;
  }

  /** The last error the executor met per endpoint of the group, for endpoints still retrying. */
  async executorErrors(group: string): Promise<ExecutorError[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': groupPk(group), ':prefix': EXECUTOR_PREFIX },
      ConsistentRead: true,
    });
    return items
      .filter((item) => typeof item.firstSeenAt === 'number')
      .map((item) => ({
        stage: item.stage as ExecutorError['stage'],
        endpointName: String(item.endpointName),
        operation: String(item.operation),
        code: String(item.code),
        message: String(item.message),
        firstSeenAt: item.firstSeenAt as number,
        lastSeenAt: Number(item.lastSeenAt),
      }));
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      let page: QueryCommandOutput;
      try {
        page = await this.db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      } catch (error) {
        throw toRolloutsError(error, {
          operation: 'DynamoDB Query',
          resource: input.IndexName ?? this.tableName,
        });
      }
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
