import { describe, expect, it } from 'vitest';
import { classifyDnsblAnswer } from '#functions/check-blocklists/classify.ts';
import { judgeHealth } from '#functions/check-blocklists/health.ts';
import { BUILTIN_ZONES, type ZoneSpec } from '#functions/check-blocklists/zones.ts';
import type { DnsOutcome } from '#shared/dns/client.ts';

function zone(id: string): ZoneSpec {
  const spec = BUILTIN_ZONES[id];
  if (!spec) throw new Error(`no zone ${id}`);
  return spec;
}

function answer(...codes: string[]): DnsOutcome {
  return {
    status: 'answer',
    authoritative: false,
    server: '127.0.0.1:53',
    records: codes.map((value) => ({ type: 'A', value, name: 'q', ttl: 60 })),
  };
}

const server = '127.0.0.1:53';

describe('classifyDnsblAnswer', () => {
  it('treats NXDOMAIN and NODATA as not listed', () => {
    expect(
      classifyDnsblAnswer(zone('spamcop'), { status: 'nxdomain', authoritative: false, server }),
    ).toEqual({
      kind: 'clean',
      via: 'nxdomain',
    });
    expect(classifyDnsblAnswer(zone('spamcop'), { status: 'nodata', authoritative: false, server })).toEqual({
      kind: 'clean',
      via: 'nodata',
    });
  });

  it('keeps every code of a multi-code answer, each with its meaning and category', () => {
    const verdict = classifyDnsblAnswer(zone('spamhaus-zen'), answer('127.0.0.10', '127.0.0.2', '127.0.0.4'));
    expect(verdict.kind).toBe('listed');
    if (verdict.kind !== 'listed') return;
    expect(verdict.listings.map((listing) => [listing.code, listing.category])).toEqual([
      ['127.0.0.2', 'spam-source'],
      ['127.0.0.4', 'spam-source'],
      ['127.0.0.10', 'policy'],
    ]);
    expect(verdict.listings[2]?.meaning).toMatch(/PBL/);
  });

  it('reports the Spamhaus public-resolver code as a refusal with advice, never as a listing', () => {
    const verdict = classifyDnsblAnswer(zone('spamhaus-zen'), answer('127.255.255.254'));
    expect(verdict.kind).toBe('refused');
    expect(verdict.kind === 'refused' && verdict.reason).toMatch(/public and cloud resolvers.*DQS key/);
  });

  it('reports the Spamhaus rate-limit code as a refusal and the typo code as an error', () => {
    expect(classifyDnsblAnswer(zone('spamhaus-zen'), answer('127.255.255.255')).kind).toBe('refused');
    const typo = classifyDnsblAnswer(zone('spamhaus-zen'), answer('127.255.255.252'));
    expect(typo.kind).toBe('error');
    expect(typo.kind === 'error' && typo.reason).toMatch(/typing error/);
  });

  it('reports the DBL "IP address queried" code as an error', () => {
    const verdict = classifyDnsblAnswer(zone('spamhaus-dbl'), answer('127.0.1.255'));
    expect(verdict).toMatchObject({ kind: 'error', codes: ['127.0.1.255'] });
  });

  it('reports an answer outside 127.0.0.0/8 as an error even next to a valid code', () => {
    const verdict = classifyDnsblAnswer(zone('spamcop'), answer('127.0.0.2', '198.51.100.7'));
    expect(verdict.kind).toBe('error');
    expect(verdict.kind === 'error' && verdict.reason).toMatch(/198\.51\.100\.7, outside 127\.0\.0\.0\/8/);
  });

  it('does not count an undocumented code inside 127/8 as a listing', () => {
    const verdict = classifyDnsblAnswer(zone('spamcop'), answer('127.0.0.9'));
    expect(verdict.kind).toBe('error');
    expect(verdict.kind === 'error' && verdict.reason).toMatch(/not a documented listing code/);
  });

  it('decodes bitmask zones and treats URIBL 127.0.0.1 as refused', () => {
    const listed = classifyDnsblAnswer(zone('surbl'), answer('127.0.0.24'));
    expect(listed.kind === 'listed' && listed.listings.map((listing) => listing.code)).toEqual([
      '127.0.0.24 bit 8',
      '127.0.0.24 bit 16',
    ]);
    const refused = classifyDnsblAnswer(zone('uribl'), answer('127.0.0.1'));
    expect(refused.kind).toBe('refused');
    expect(refused.kind === 'refused' && refused.reason).toMatch(/URIBL/);
    expect(classifyDnsblAnswer(zone('uribl'), answer('127.0.0.14')).kind).toBe('listed');
    expect(classifyDnsblAnswer(zone('uribl'), answer('127.0.0.64')).kind).toBe('error');
  });

  it('passes DNS failures through as failures', () => {
    const verdict = classifyDnsblAnswer(zone('psbl'), {
      status: 'failed',
      reason: 'servfail',
      detail: 'x answered SERVFAIL',
      server,
    });
    expect(verdict).toEqual({ kind: 'failed', reason: 'servfail', detail: 'x answered SERVFAIL' });
  });
});

describe('judgeHealth', () => {
  const points = { listed: '127.0.0.2', notListed: '127.0.0.1' };
  const listed = classifyDnsblAnswer(zone('spamcop'), answer('127.0.0.2'));
  const clean = classifyDnsblAnswer(zone('spamcop'), { status: 'nxdomain', authoritative: true, server });

  it('accepts a zone that lists 127.0.0.2 and not 127.0.0.1', () => {
    expect(judgeHealth(points, listed, clean).status).toBe('healthy');
  });

  it('calls a zone that lists 127.0.0.1 a dead list that lists everything', () => {
    const health = judgeHealth(points, listed, listed);
    expect(health.status).toBe('broken');
    expect(health.status === 'broken' && health.reason).toMatch(
      /lists its test point 127\.0\.0\.1.*everything/,
    );
  });

  it('calls a zone without its listed test point broken, not healthy', () => {
    const health = judgeHealth(points, clean, clean);
    expect(health.status).toBe('broken');
    expect(health.status === 'broken' && health.reason).toMatch(/does not list its test point 127\.0\.0\.2/);
  });

  it('reports a failed test-point lookup as failed', () => {
    const failed = classifyDnsblAnswer(zone('spamcop'), {
      status: 'failed',
      reason: 'timeout',
      detail: 'no answer',
      server,
    });
    expect(judgeHealth(points, failed, clean).status).toBe('failed');
  });
});
