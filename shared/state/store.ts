/**
 * Durable state for jobs and the notifier: alert state, locks and checkpoints. One interface, two
 * implementations: DynamoDB in AWS (dynamo.ts) and a JSON file for local CLI runs (file.ts).
 * Items live in partitions (`alert#check-dns`, `lock#snapshot-volumes`, `checkpoint#audit-content-types`)
 * and are addressed by a sort key inside them.
 */

/** A stored value: any JSON object. */
export type StateValue = Record<string, unknown>;

/** One item of a partition. */
export interface StateItem {
  key: string;
  value: StateValue;
}

/** Options for `put`. */
export interface PutOptions {
  /** The item expires (and is ignored) after this many seconds. */
  ttlSeconds?: number;
}

/** Durable key-value state with conditional writes for locks. */
export interface StateStore {
  get(partition: string, key: string): Promise<StateValue | undefined>;
  /** Every live item of a partition. */
  list(partition: string): Promise<StateItem[]>;
  put(partition: string, key: string, value: StateValue, options?: PutOptions): Promise<void>;
  /** Writes many items of one partition (batched where the backend allows). */
  putMany(partition: string, items: readonly StateItem[], options?: PutOptions): Promise<void>;
  delete(partition: string, key: string): Promise<void>;
  /**
   * Takes a lock: succeeds when the item is absent, expired, or already held by `owner` (so a
   * retried invocation with the same run id proceeds). Returns the current holder when it fails.
   */
  acquireLock(
    partition: string,
    key: string,
    owner: string,
    ttlSeconds: number,
  ): Promise<{ acquired: true } | { acquired: false; heldBy: string; expiresAt: string }>;
  /** Releases a lock only if `owner` holds it. */
  releaseLock(partition: string, key: string, owner: string): Promise<void>;
}
