/** A real DynamoDB-compatible server (dynalite) on a loopback port, with the state table created. */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { STATE_TABLE_KEYS } from '#shared/state/dynamo.ts';

/** A running dynalite with watchkeeper's table. */
export interface RunningDynalite {
  endpoint: string;
  table: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

/** Starts dynalite in memory and creates the state table with the same key schema as the stack. */
export async function startDynalite(table = 'watchkeeper-state'): Promise<RunningDynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      ...STATE_TABLE_KEYS,
    }),
  );
  return {
    endpoint,
    table,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
