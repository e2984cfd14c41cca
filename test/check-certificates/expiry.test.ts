/** Expiry arithmetic: seconds from notAfter, lifetime-relative thresholds, durations for people. */
import { describe, expect, it } from 'vitest';
import { certificatesSchema } from '#functions/check-certificates/config.ts';
import {
  assessExpiry,
  describeExpiry,
  effectiveThresholds,
  humanDuration,
} from '#functions/check-certificates/expiry.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date('2026-11-22T12:00:00Z');
const DEFAULTS = { warningDays: 21, criticalDays: 7, warnFraction: 0.3, criticalFraction: 0.1 };

function assess(lifetimeMs: number, leftMs: number) {
  const notAfter = new Date(NOW.getTime() + leftMs);
  return assessExpiry(new Date(notAfter.getTime() - lifetimeMs), notAfter, NOW, DEFAULTS);
}

describe('assessExpiry', () => {
  it('uses the absolute thresholds for a 90-day certificate', () => {
    expect(assess(90 * DAY, 22 * DAY).state).toBe('ok');
    expect(assess(90 * DAY, 20 * DAY).state).toBe('warning');
    expect(assess(90 * DAY, 6 * DAY).state).toBe('critical');
    expect(assess(90 * DAY, -1000).state).toBe('expired');
  });

  it('uses the smaller, lifetime-relative thresholds for 47-day and 24-hour certificates', () => {
    expect(effectiveThresholds(DEFAULTS, (47 * DAY) / 1000).warning).toBeCloseTo((14.1 * DAY) / 1000);
    expect(assess(47 * DAY, 15 * DAY).state).toBe('ok');
    expect(assess(47 * DAY, 14 * DAY).state).toBe('warning');
    expect(assess(47 * DAY, 4 * DAY).state).toBe('critical');
    expect(assess(24 * HOUR, 20 * HOUR).state).toBe('ok');
    expect(assess(24 * HOUR, 7 * HOUR).state).toBe('warning');
    expect(assess(24 * HOUR, 2 * HOUR).state).toBe('critical');
  });

  it('counts seconds, not calendar days: 4.99 days left is not "4 days"', () => {
    const expiry = assess(90 * DAY, 4.99 * DAY);
    expect(expiry.daysLeft).toBe(4.99);
    expect(describeExpiry(expiry)).toBe('expires in 4 days 23 hours (2026-11-27 11:45 UTC)');
  });

  it('says when a certificate is not valid yet', () => {
    const expiry = assessExpiry(
      new Date(NOW.getTime() + DAY),
      new Date(NOW.getTime() + 90 * DAY),
      NOW,
      DEFAULTS,
    );
    expect(expiry.state).toBe('not-yet-valid');
    expect(describeExpiry(expiry)).toBe('is not valid before 2026-11-23 12:00 UTC');
  });
});

describe('humanDuration', () => {
  it('rounds down into the two largest units, whole days from 30 days on', () => {
    expect(humanDuration(2 * 86_400 + 5 * 3_600 + 59 * 60)).toBe('2 days 5 hours');
    expect(humanDuration(86_400)).toBe('1 day');
    expect(humanDuration(3 * 3_600 + 20 * 60)).toBe('3 hours 20 minutes');
    expect(humanDuration(45 * 60 + 30)).toBe('45 minutes');
    expect(humanDuration(59)).toBe('less than a minute');
    expect(humanDuration(142.9 * 86_400)).toBe('142 days');
    expect(humanDuration(-3 * 86_400)).toBe('3 days');
  });
});

describe('the certificates section', () => {
  it('accepts shorthand endpoints and fills in defaults', () => {
    const section = certificatesSchema.parse({
      endpoints: ['example.com', 'example.com:8443', '[2001:db8::1]:443', '2001:db8::2'],
    });
    expect(section.endpoints.map((endpoint) => [endpoint.host, endpoint.port, endpoint.protocol])).toEqual([
      ['example.com', undefined, 'tls'],
      ['example.com', 8443, 'tls'],
      ['2001:db8::1', 443, 'tls'],
      ['2001:db8::2', undefined, 'tls'],
    ]);
    expect(section).toMatchObject({
      warningDays: 21,
      criticalDays: 7,
      timeoutSeconds: 10,
      concurrency: 32,
      unreachableSeverity: 'unknown',
    });
  });

  it('names the field and what was expected', () => {
    const result = certificatesSchema.safeParse({
      endpoints: [
        { host: 'mail.example.com', protocol: 'smtps' },
        'not a host',
        { host: 'a.example.com', clientCertificateFile: '/x.pem' },
        { host: '192.0.2.1', servername: '192.0.2.1' },
      ],
      warnFraction: 2,
    });
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
    expect(issues).toEqual([
      expect.stringMatching(/^endpoints\.0: protocol: Invalid option: expected one of "tls"\|"smtp"/),
      'endpoints.1: expected "host", "host:port" or "[ipv6]:port"',
      'endpoints.2.clientCertificateFile: clientCertificateFile is only meaningful with protocol "mysql"',
      'endpoints.3.servername: expected a host name: RFC 6066 forbids an IP address as SNI (leave servername unset to check IP SANs)',
      expect.stringMatching(/^warnFraction: Too big/),
    ]);
  });
});
