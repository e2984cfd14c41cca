/**
 * One run's view of DNS: every question is asked once through the shared DnsClient (SPF trees,
 * MX hosts, sender checks and blocklist targets ask many of the same names).
 */
import type { DnsClient, DnsOutcome, DnsRecordType } from './client.ts';

/** Asks a question once per run; concurrent askers share the pending answer. */
export class Lookup {
  readonly client: DnsClient;
  readonly #cache = new Map<string, Promise<DnsOutcome>>();

  constructor(client: DnsClient) {
    this.client = client;
  }

  /** The outcome for `name`/`type` (names compare case-insensitively, without the root dot). */
  query(name: string, type: DnsRecordType): Promise<DnsOutcome> {
    const key = `${name.toLowerCase().replace(/\.$/, '')}|${type}`;
    let pending = this.#cache.get(key);
    if (!pending) {
      pending = this.client.query(name, type);
      this.#cache.set(key, pending);
    }
    return pending;
  }

  /** TXT strings of a name, or the outcome when there are none. */
  async txt(name: string): Promise<{ values: string[]; outcome: DnsOutcome }> {
    const outcome = await this.query(name, 'TXT');
    const values =
      outcome.status === 'answer'
        ? outcome.records.flatMap((record) => (record.type === 'TXT' ? [record.value] : []))
        : [];
    return { values, outcome };
  }
}
