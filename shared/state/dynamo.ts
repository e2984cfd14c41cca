/**
 * StateStore on DynamoDB: one on-demand table with a string partition key `pk`, sort key `sk`,
 * the value as JSON in `v`, and a TTL attribute `expiresAt` (epoch seconds). DynamoDB deletes
 * expired items lazily, so reads ignore them too. Locks are conditional writes.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { awsClient } from '../aws.ts';
import type { PutOptions, StateItem, StateStore, StateValue } from './store.ts';

/** A state backend failure, naming the table and the item. */
export class StateStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateStoreError';
  }
}

type Item = Record<string, AttributeValue>;

/** The table's key schema; the deploy template and the tests' dynalite table are created from it. */
export const STATE_TABLE_KEYS = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' as const },
    { AttributeName: 'sk', AttributeType: 'S' as const },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' as const },
    { AttributeName: 'sk', KeyType: 'RANGE' as const },
  ],
};

/** The TTL attribute (epoch seconds) DynamoDB expires items by. */
export const STATE_TABLE_TTL_ATTRIBUTE = 'expiresAt';

/** DynamoDB-backed state. */
export class DynamoStateStore implements StateStore {
  readonly #table: string;
  readonly #client: DynamoDBClient;
  readonly #now: () => number;

  constructor(
    table: string,
    client: DynamoDBClient = awsClient(DynamoDBClient),
    now: () => number = Date.now,
  ) {
    this.#table = table;
    this.#client = client;
    this.#now = now;
  }

  async get(partition: string, key: string): Promise<StateValue | undefined> {
    const output = await this.#call(`get ${partition}/${key}`, () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: keyOf(partition, key), ConsistentRead: true }),
      ),
    );
    return output.Item && this.#live(output.Item) ? decode(output.Item) : undefined;
  }

  async list(partition: string): Promise<StateItem[]> {
    const items: StateItem[] = [];
    let startKey: Item | undefined;
    do {
      const output = await this.#call(`list ${partition}`, () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: partition } },
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of output.Items ?? []) {
        if (this.#live(item)) items.push({ key: item['sk']?.S ?? '', value: decode(item) });
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async put(partition: string, key: string, value: StateValue, options: PutOptions = {}): Promise<void> {
    await this.#call(`put ${partition}/${key}`, () =>
      this.#client.send(
        new PutItemCommand({ TableName: this.#table, Item: this.#item(partition, key, value, options) }),
      ),
    );
  }

  async putMany(partition: string, items: readonly StateItem[], options: PutOptions = {}): Promise<void> {
    for (let start = 0; start < items.length; start += 25) {
      let requests: WriteRequest[] = items
        .slice(start, start + 25)
        .map((item) => ({ PutRequest: { Item: this.#item(partition, item.key, item.value, options) } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt >= 8)
          throw new StateStoreError(
            `${this.#table}: ${requests.length} items of ${partition} stayed unprocessed`,
          );
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const output = await this.#call(`put ${items.length} items of ${partition}`, () =>
          this.#client.send(new BatchWriteItemCommand({ RequestItems: { [this.#table]: requests } })),
        );
        requests = output.UnprocessedItems?.[this.#table] ?? [];
      }
    }
  }

  async delete(partition: string, key: string): Promise<void> {
    await this.#call(`delete ${partition}/${key}`, () =>
      this.#client.send(new DeleteItemCommand({ TableName: this.#table, Key: keyOf(partition, key) })),
    );
  }

  async acquireLock(partition: string, key: string, owner: string, ttlSeconds: number) {
    const nowSeconds = Math.floor(this.#now() / 1000);
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: { ...this.#item(partition, key, { owner }, { ttlSeconds }), owner: { S: owner } },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds) }, ':owner': { S: owner } },
        }),
      );
      return { acquired: true as const };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        throw new StateStoreError(
          `${this.#table}: could not take lock ${partition}/${key}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
    const holder = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: keyOf(partition, key), ConsistentRead: true }),
    );
    const expiresAt = Number(holder.Item?.['expiresAt']?.N ?? 0);
    return {
      acquired: false as const,
      heldBy: holder.Item?.['owner']?.S ?? 'unknown',
      expiresAt: new Date(expiresAt * 1000).toISOString(),
    };
  }

  async releaseLock(partition: string, key: string, owner: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#table,
          Key: keyOf(partition, key),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
    } catch (error) {
      // Someone else's lock (ours expired and was taken over): not ours to delete.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  #item(partition: string, key: string, value: StateValue, options: PutOptions): Item {
    const item: Item = { ...keyOf(partition, key), v: { S: JSON.stringify(value) } };
    if (options.ttlSeconds !== undefined) {
      item['expiresAt'] = { N: String(Math.floor(this.#now() / 1000) + Math.ceil(options.ttlSeconds)) };
    }
    return item;
  }

  #live(item: Item): boolean {
    const expiresAt = item['expiresAt']?.N;
    return expiresAt === undefined || Number(expiresAt) > Math.floor(this.#now() / 1000);
  }

  async #call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new StateStoreError(`${this.#table}: could not ${what}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

function keyOf(partition: string, key: string): Item {
  return { pk: { S: partition }, sk: { S: key } };
}

function decode(item: Item): StateValue {
  return JSON.parse(item['v']?.S ?? '{}') as StateValue;
}
