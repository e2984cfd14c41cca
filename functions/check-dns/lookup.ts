/**
 * One run's view of DNS: every question is asked once through the shared DnsClient (SPF trees,
 * MX hosts and sender checks ask many of the same names), and adapted to the resolver shape that
 * mailauth's SPF evaluator expects.
 */
import type { DNSResolver } from 'mailauth';
import type { DnsClient, DnsOutcome, DnsRecordType } from '#shared/dns/client.ts';

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

/** An error shaped like Node's DNS errors (`code` ENOTFOUND, ENODATA, ETIMEOUT ...). */
class ResolverError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ResolverError';
    this.code = code;
  }
}

const FAILURE_CODES: Record<string, string> = {
  servfail: 'ESERVFAIL',
  refused: 'EREFUSED',
  timeout: 'ETIMEOUT',
  formerr: 'EFORMERR',
  notimp: 'ENOTIMP',
  network: 'ECONNREFUSED',
  other: 'EBADRESP',
};

/** Record types mailauth's SPF evaluator asks for. */
type SpfQueryType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR';

/**
 * A `dns.promises.resolve`-shaped function over the run's Lookup, for mailauth: the same answer
 * shapes (TXT as chunk lists, MX as `{ exchange, priority }`) and the same error codes, so its
 * void-lookup and temperror logic works unchanged.
 */
export function nodeStyleResolver(lookup: Lookup): DNSResolver {
  const resolve = async (name: string, type: string): Promise<unknown[]> => {
    if (!['A', 'AAAA', 'MX', 'TXT', 'PTR'].includes(type)) {
      throw new ResolverError('ENOTIMP', `query type ${type} is not supported`);
    }
    const outcome = await lookup.query(name, type as SpfQueryType);
    switch (outcome.status) {
      case 'nxdomain':
        throw new ResolverError('ENOTFOUND', `${name} does not exist`);
      case 'nodata':
        throw new ResolverError('ENODATA', `${name} has no ${type} records`);
      case 'failed':
        throw new ResolverError(FAILURE_CODES[outcome.reason] ?? 'EBADRESP', outcome.detail);
      case 'answer':
        return outcome.records.map((record) => {
          if (record.type === 'MX') return { exchange: record.exchange, priority: record.preference };
          if (record.type === 'TXT') return [record.value];
          return 'value' in record ? record.value : '';
        });
    }
  };
  // mailauth's declared type lists only string results, but it reads MX answers as Node returns them.
  return resolve as DNSResolver;
}
