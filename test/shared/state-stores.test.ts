import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateStore } from '#shared/state/dynamo.ts';
import { FileStateStore } from '#shared/state/file.ts';
import { MemoryStateStore } from '#shared/state/memory.ts';
import type { StateStore } from '#shared/state/store.ts';
import { type RunningDynalite, startDynalite } from '../support/dynalite.ts';

let clock = Date.parse('2026-11-22T06:00:00Z');
const now = () => clock;

/** The same behaviour is required of every backend. */
function behavesLikeAStateStore(name: string, open: () => Promise<StateStore>) {
  describe(name, () => {
    it('stores, lists and deletes items of a partition', async () => {
      const store = await open();
      await store.put('alert#job', 'a', { severity: 'critical' });
      await store.put('alert#job', 'b', { severity: 'warning' });
      await store.put('alert#other', 'a', { severity: 'ok' });
      expect(await store.get('alert#job', 'a')).toEqual({ severity: 'critical' });
      expect((await store.list('alert#job')).map((item) => item.key).sort()).toEqual(['a', 'b']);
      await store.delete('alert#job', 'a');
      expect(await store.get('alert#job', 'a')).toBeUndefined();
      expect(await store.list('alert#job')).toEqual([{ key: 'b', value: { severity: 'warning' } }]);
    });

    it('writes more items than one batch holds and lists them all', async () => {
      const store = await open();
      const items = Array.from({ length: 60 }, (_, index) => ({ key: `k${index}`, value: { index } }));
      await store.putMany('bulk', items);
      const listed = await store.list('bulk');
      expect(listed).toHaveLength(60);
      expect(listed.find((item) => item.key === 'k59')?.value).toEqual({ index: 59 });
    });

    it('ignores expired items', async () => {
      const store = await open();
      await store.put('ttl', 'short', { v: 1 }, { ttlSeconds: 60 });
      await store.put('ttl', 'long', { v: 2 }, { ttlSeconds: 3600 });
      clock += 120_000;
      expect(await store.get('ttl', 'short')).toBeUndefined();
      expect((await store.list('ttl')).map((item) => item.key)).toEqual(['long']);
    });

    it('grants a lock to one owner at a time, again to the same owner, and after expiry', async () => {
      const store = await open();
      expect(await store.acquireLock('lock#snap', 'i-1', 'run-1', 300)).toEqual({ acquired: true });
      const contended = await store.acquireLock('lock#snap', 'i-1', 'run-2', 300);
      expect(contended).toMatchObject({ acquired: false, heldBy: 'run-1' });
      expect(await store.acquireLock('lock#snap', 'i-1', 'run-1', 300)).toEqual({ acquired: true });
      await store.releaseLock('lock#snap', 'i-1', 'run-2');
      expect(await store.acquireLock('lock#snap', 'i-1', 'run-2', 300)).toMatchObject({ acquired: false });
      clock += 301_000;
      expect(await store.acquireLock('lock#snap', 'i-1', 'run-2', 300)).toEqual({ acquired: true });
      await store.releaseLock('lock#snap', 'i-1', 'run-2');
      expect(await store.acquireLock('lock#snap', 'i-1', 'run-3', 300)).toEqual({ acquired: true });
    });
  });
}

describe('state stores', () => {
  let dynamo: RunningDynalite;
  let directory: string;
  beforeAll(async () => {
    dynamo = await startDynalite();
    directory = await mkdtemp(join(tmpdir(), 'wk-state-'));
  });
  afterAll(async () => {
    await dynamo.close();
    await rm(directory, { recursive: true, force: true });
  });

  let tableSeq = 0;
  behavesLikeAStateStore('DynamoStateStore on dynalite', async () => {
    // A fresh partition namespace per test keeps the shared table independent between cases.
    tableSeq += 1;
    const store = new DynamoStateStore(dynamo.table, dynamo.client, now);
    return prefixed(store, `t${tableSeq}:`);
  });
  behavesLikeAStateStore('MemoryStateStore', async () => new MemoryStateStore(now));
  behavesLikeAStateStore('FileStateStore', async () =>
    FileStateStore.open(join(directory, `${Math.random()}.json`), now),
  );

  it('FileStateStore keeps its items across processes (reopening the file)', async () => {
    const path = join(directory, 'persist.json');
    const first = await FileStateStore.open(path, now);
    await first.put('checkpoint#audit', 'bucket', { token: 'abc' });
    const second = await FileStateStore.open(path, now);
    expect(await second.get('checkpoint#audit', 'bucket')).toEqual({ token: 'abc' });
  });
});

function prefixed(store: StateStore, prefix: string): StateStore {
  return {
    get: (partition, key) => store.get(prefix + partition, key),
    list: (partition) => store.list(prefix + partition),
    put: (partition, key, value, options) => store.put(prefix + partition, key, value, options),
    putMany: (partition, items, options) => store.putMany(prefix + partition, items, options),
    delete: (partition, key) => store.delete(prefix + partition, key),
    acquireLock: (partition, key, owner, ttl) => store.acquireLock(prefix + partition, key, owner, ttl),
    releaseLock: (partition, key, owner) => store.releaseLock(prefix + partition, key, owner),
  };
}
