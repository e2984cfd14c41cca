/**
 * The run's DNS view (shared/dns/lookup.ts) adapted to the resolver shape that mailauth's SPF
 * evaluator expects.
 */
import type { DNSResolver } from 'mailauth';
import type { Lookup } from '#shared/dns/lookup.ts';

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
