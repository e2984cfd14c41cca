/** In-memory StateStore: the semantics of the DynamoDB store without a server (tests, file store base). */
import type { PutOptions, StateItem, StateStore, StateValue } from './store.ts';

interface Stored {
  value: StateValue;
  expiresAt?: number;
}

/** State kept in a Map; `snapshot`/`restore` let the file store persist it. */
export class MemoryStateStore implements StateStore {
  protected readonly items = new Map<string, Stored>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async get(partition: string, key: string): Promise<StateValue | undefined> {
    return this.#live(id(partition, key))?.value;
  }

  async list(partition: string): Promise<StateItem[]> {
    const prefix = id(partition, '');
    const items: StateItem[] = [];
    for (const [itemId] of this.items) {
      const stored = itemId.startsWith(prefix) ? this.#live(itemId) : undefined;
      if (stored) items.push({ key: itemId.slice(prefix.length), value: stored.value });
    }
    return items;
  }

  async put(partition: string, key: string, value: StateValue, options: PutOptions = {}): Promise<void> {
    this.items.set(id(partition, key), this.#stored(value, options));
  }

  async putMany(partition: string, items: readonly StateItem[], options: PutOptions = {}): Promise<void> {
    for (const item of items) await this.put(partition, item.key, item.value, options);
  }

  async delete(partition: string, key: string): Promise<void> {
    this.items.delete(id(partition, key));
  }

  async acquireLock(partition: string, key: string, owner: string, ttlSeconds: number) {
    const current = this.#live(id(partition, key));
    const holder = current?.value['owner'];
    if (current && holder !== owner) {
      return {
        acquired: false as const,
        heldBy: String(holder),
        expiresAt: new Date(current.expiresAt ?? 0).toISOString(),
      };
    }
    await this.put(partition, key, { owner }, { ttlSeconds });
    return { acquired: true as const };
  }

  async releaseLock(partition: string, key: string, owner: string): Promise<void> {
    const current = this.#live(id(partition, key));
    if (current?.value['owner'] === owner) this.items.delete(id(partition, key));
  }

  #stored(value: StateValue, options: PutOptions): Stored {
    return options.ttlSeconds === undefined
      ? { value: structuredClone(value) }
      : { value: structuredClone(value), expiresAt: this.#now() + options.ttlSeconds * 1000 };
  }

  #live(itemId: string): Stored | undefined {
    const stored = this.items.get(itemId);
    if (stored?.expiresAt !== undefined && stored.expiresAt <= this.#now()) {
      this.items.delete(itemId);
      return undefined;
    }
    return stored;
  }
}

function id(partition: string, key: string): string {
  return `${partition}\u0000${key}`;
}
