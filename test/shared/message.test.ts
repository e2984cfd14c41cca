import { describe, expect, it } from 'vitest';
import type { Finding, Report } from '#shared/findings.ts';
import { sortFindings, worstSeverity } from '#shared/findings.ts';
import { renderDigest, renderSubject } from '#shared/notify/digest.ts';
import { buildSnsMessage, SNS_MAX_BYTES } from '#shared/notify/message.ts';
import { Redactor } from '#shared/redact.ts';

function report(findings: Finding[], stats: Record<string, number> = { endpoints: findings.length }): Report {
  const sorted = sortFindings(findings);
  return {
    job: 'check-certificates',
    runId: 'run-1',
    startedAt: '2026-11-22T06:00:00.000Z',
    finishedAt: '2026-11-22T06:00:01.500Z',
    status: worstSeverity(sorted),
    findings: sorted,
    stats: { ...stats, durationMs: 1500 },
  };
}

const mixed = report([
  {
    job: 'check-certificates',
    code: 'certificate.ok',
    target: 'www.example.com:443',
    severity: 'ok',
    message: 'Valid for 61 days.',
  },
  {
    job: 'check-certificates',
    code: 'certificate.expiring',
    target: 'api.example.com:443',
    subject: '203.0.113.5',
    severity: 'critical',
    message: 'The certificate expires in 3 days 4 hours (2026-11-25 10:00 UTC).',
  },
  {
    job: 'check-certificates',
    code: 'endpoint.timeout',
    target: 'old.example.com:443',
    severity: 'unknown',
    message: 'No TLS handshake within 10 s.',
  },
  {
    job: 'check-certificates',
    code: 'certificate.expiring',
    target: 'shop.example.com:443',
    severity: 'warning',
    message: 'The certificate expires in 15 days.',
  },
]);

describe('digest', () => {
  it('lists problems worst first, then healthy targets and stats', () => {
    const digest = renderDigest(mixed);
    const order = [
      'CRITICAL api.example.com:443 (203.0.113.5)',
      'WARNING shop.example.com:443',
      'UNKNOWN old.example.com:443',
      'OK www.example.com:443',
    ];
    const positions = order.map((line) => digest.indexOf(line));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(digest).toContain('1 critical, 1 warning, 1 unknown, 1 ok');
    expect(digest).toContain('Stats: endpoints 4');
  });
});

describe('subject', () => {
  it('names the worst finding and counts the rest', () => {
    expect(renderSubject(mixed)).toBe(
      '[CRITICAL] check-certificates: api.example.com:443: The certificate expires in 3 days... (+2 more)',
    );
  });

  it('is ASCII, one line and at most 100 characters whatever the message', () => {
    const nasty = report([
      {
        job: 'check-dns',
        code: 'dns.record-missing',
        target: 'bücher.example',
        severity: 'critical',
        message: `MX “lost”\nafter the move — ${'x'.repeat(300)}`,
      },
    ]);
    const subject = renderSubject(nasty);
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(
      subject.startsWith('[CRITICAL] check-certificates: bucher.example: MX "lost" after the move -'),
    ).toBe(true);
  });
});

describe('SNS message', () => {
  it('carries a JSON report for machines, a digest for email, and filterable attributes', () => {
    const message = buildSnsMessage(mixed, undefined, new Redactor());
    const body = JSON.parse(message.Message) as { default: string; email: string };
    expect(message.MessageStructure).toBe('json');
    expect(JSON.parse(body.default)).toMatchObject({
      job: 'check-certificates',
      status: 'critical',
      findings: mixed.findings,
    });
    expect(body.email).toBe(renderDigest(mixed));
    expect(message.MessageAttributes['severity']).toEqual({ DataType: 'String', StringValue: 'critical' });
    expect(JSON.parse(message.MessageAttributes['codes']?.StringValue ?? '[]')).toEqual([
      'certificate.expiring',
      'endpoint.timeout',
    ]);
  });

  it('stays under 256 KB with 20,000 findings and says how many were left out', () => {
    const findings: Finding[] = Array.from({ length: 20_000 }, (_, index) => ({
      job: 'audit-content-types',
      code: 'content-type.missing',
      target: `s3://assets/css/file-${index}.css`,
      severity: 'critical',
      message: 'Stored without a Content-Type: browsers refuse a stylesheet whose type is not text/css.',
    }));
    const big = report(findings);
    const message = buildSnsMessage(big, undefined, new Redactor());
    const size = Buffer.byteLength(message.Message) + Buffer.byteLength(message.Subject) + 1024;
    expect(size).toBeLessThan(SNS_MAX_BYTES);
    const body = JSON.parse(message.Message) as { default: string; email: string };
    const parsed = JSON.parse(body.default) as { findings: unknown[]; omittedFindings: number };
    expect(parsed.findings.length + parsed.omittedFindings).toBe(20_000);
    expect(body.email).toMatch(/\.\.\. and \d+ more not shown/);
  });

  it('masks secrets in every part of the message', () => {
    const redactor = new Redactor();
    redactor.add('s3cr3tdqskey');
    const leaky = report([
      {
        job: 'check-blocklists',
        code: 'blocklist.query-refused',
        target: '192.0.2.1',
        subject: '2.0.0.127.s3cr3tdqskey.zen.dq.spamhaus.net',
        severity: 'unknown',
        message: 'Refused for s3cr3tdqskey.zen.dq.spamhaus.net',
      },
    ]);
    const message = buildSnsMessage(leaky, undefined, redactor);
    expect(JSON.stringify(message)).not.toContain('s3cr3tdqskey');
    expect(message.Message).toContain('[REDACTED]');
  });
});
