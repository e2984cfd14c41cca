import { describe, expect, it } from 'vitest';
import { mailServersSchema } from '#functions/check-mail-servers/config.ts';
import { definition } from '#functions/check-mail-servers/job.ts';

const issues = (input: unknown) => {
  const result = mailServersSchema.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('mailServers schema', () => {
  it('fills defaults for a partial section (an invocation override)', () => {
    const section = mailServersSchema.parse({ servers: [{ host: 'mx.example.com' }] });
    expect(section).toMatchObject({
      schedule: 'rate(6 hours)',
      heloName: 'watchkeeper-probe.example.net',
      relaySender: 'watchkeeper-probe@example.org',
      relayRecipient: 'relay-test@example.net',
      slowBannerMs: 10_000,
      servers: [{ host: 'mx.example.com', ports: [25], relayTest: true }],
    });
    expect(mailServersSchema.parse({}).servers).toEqual([]);
  });

  it('accepts domains, IP addresses and ports with modes', () => {
    expect(
      issues({
        servers: [
          { domain: 'example.com', ports: [25, 587, 465] },
          {
            host: '192.0.2.1',
            ports: [{ port: 2525, mode: 'submission' }],
            expectedHostname: 'mx.example.com',
          },
        ],
      }),
    ).toEqual([]);
  });

  it('names the field and what was expected', () => {
    expect(issues({ servers: [{ host: 'mx.example.com', ports: [70000] }] }).join('\n')).toMatch(
      /servers\.0/,
    );
    expect(issues({ relaySender: 'not an address' })).toEqual([
      'relaySender: expected an e-mail address such as "probe@example.org"',
    ]);
    expect(issues({ servers: [{ host: 'mx.example.com', smtpPort: 25 }] }).join('\n')).toMatch(/servers\.0/);
  });

  it('refuses a relay recipient inside a probed domain', () => {
    expect(issues({ relayRecipient: 'x@example.com', servers: [{ domain: 'example.com' }] })).toEqual([
      'servers.0.domain: relayRecipient must be outside the probed domain example.com, or every relay test would look open',
    ]);
  });

  it('needs no AWS permissions', () => {
    expect(definition.permissions?.(mailServersSchema.parse({}))).toEqual([]);
  });
});

describe('events/check-mail-servers.json', () => {
  it('is a valid override of the section', async () => {
    const { readFile } = await import('node:fs/promises');
    const event: unknown = JSON.parse(
      await readFile(new URL('../../events/check-mail-servers.json', import.meta.url), 'utf8'),
    );
    expect(issues(event)).toEqual([]);
  });
});
