import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createTableInput, DynamoDbStateStore } from '../../src/adapters/dynamodb-state-store';

/** dynalite with the service's table: the real state store (never a hand-written fake), a table per call. */
export class Dynamo {
  private tables = 0;

  private constructor(
    private readonly server: ReturnType<typeof dynalite>,
    readonly client: DynamoDBClient,
  ) {}

  static async start(): Promise<Dynamo> {
    const server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    return new Dynamo(server, client);
  }

  /** A fresh table (the given name, or a new one) and the store over it. */
  async store(table = `rollouts-${++this.tables}`): Promise<DynamoDbStateStore> {
    await this.client.send(new CreateTableCommand(createTableInput(table)));
    return new DynamoDbStateStore(table, this.client);
  }

  async close(): Promise<void> {
    this.client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
