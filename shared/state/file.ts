/** StateStore in a JSON file under `.watchkeeper/` for local CLI runs: the same semantics as DynamoDB. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MemoryStateStore } from './memory.ts';
import type { PutOptions, StateItem, StateValue } from './store.ts';

interface FileShape {
  version: 1;
  items: Record<string, { value: StateValue; expiresAt?: number }>;
}

/** File-backed state: loaded once, written atomically after every change. */
export class FileStateStore extends MemoryStateStore {
  readonly #path: string;

  private constructor(path: string, now: () => number) {
    super(now);
    this.#path = path;
  }

  /** Opens (or starts) the state file at `path`. */
  static async open(path: string, now: () => number = Date.now): Promise<FileStateStore> {
    const store = new FileStateStore(path, now);
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as FileShape;
      for (const [id, stored] of Object.entries(parsed.items ?? {})) store.items.set(id, stored);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(
          `state file ${path} is unreadable (${(error as Error).message}); move it away to start afresh`,
        );
      }
    }
    return store;
  }

  override async put(partition: string, key: string, value: StateValue, options?: PutOptions): Promise<void> {
    await super.put(partition, key, value, options);
    await this.#save();
  }

  override async putMany(
    partition: string,
    items: readonly StateItem[],
    options?: PutOptions,
  ): Promise<void> {
    for (const item of items) await super.put(partition, item.key, item.value, options);
    await this.#save();
  }

  override async delete(partition: string, key: string): Promise<void> {
    await super.delete(partition, key);
    await this.#save();
  }

  override async releaseLock(partition: string, key: string, owner: string): Promise<void> {
    await super.releaseLock(partition, key, owner);
    await this.#save();
  }

  async #save(): Promise<void> {
    const shape: FileShape = { version: 1, items: Object.fromEntries(this.items) };
    await mkdir(dirname(this.#path), { recursive: true });
    const temporary = `${this.#path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(shape)}\n`);
    await rename(temporary, this.#path);
  }
}
