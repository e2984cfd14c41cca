/**
 * check-dns in `npm run demo`: acme-shop.test tells both stories of the issue — it moved DNS
 * provider and lost its MX (pinned MX → record-missing, mail.mx-missing), and its cloud mail
 * server's PTR names a generic cloud host that does not resolve back, with a +all SPF and p=none.
 * acme-corp.test next to it is healthy, so the digest shows what `dns.ok` looks like.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { DemoPart } from './demo-part.ts';
import type { ZoneRecord } from './dns-server.ts';

function txt(name: string, value: string): ZoneRecord {
  const chunks: string[] = [];
  for (let index = 0; index < value.length; index += 255) chunks.push(value.slice(index, index + 255));
  return { name, type: 'TXT', data: chunks };
}

function dkimKey(name: string): ZoneRecord {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return txt(
    name,
    `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  );
}

/** The DNS part of the demo. */
export const demoPart: DemoPart = {
  job: 'check-dns',
  records: [
    // acme-shop.test: no MX any more (lost in the move), the A record remains.
    { name: 'acme-shop.test', type: 'A', data: '203.0.113.80' },
    txt('acme-shop.test', 'v=spf1 ip4:203.0.113.0/24 +all'),
    txt('_dmarc.acme-shop.test', 'v=DMARC1; p=none; rua=mailto:dmarc@acme-shop.test'),
    { name: 'mail.acme-shop.test', type: 'A', data: '203.0.113.25' },
    { name: '25.113.0.203.in-addr.arpa', type: 'PTR', data: 'vm-203-0-113-25.cloud.test' },
    // acme-corp.test: healthy.
    { name: 'acme-corp.test', type: 'MX', data: { preference: 10, exchange: 'mail.acme-corp.test' } },
    { name: 'mail.acme-corp.test', type: 'A', data: '203.0.113.26' },
    { name: '26.113.0.203.in-addr.arpa', type: 'PTR', data: 'mail.acme-corp.test' },
    txt('acme-corp.test', 'v=spf1 mx -all'),
    txt('_dmarc.acme-corp.test', 'v=DMARC1; p=reject; rua=mailto:dmarc@acme-corp.test'),
    dkimKey('s1._domainkey.acme-corp.test'),
  ],
  async start({ resolver }) {
    return {
      section: {
        resolver,
        timeoutMs: 1000,
        retries: 0,
        domains: [
          {
            name: 'acme-shop.test',
            records: { MX: ['10 mail.acme-shop.test'] },
            mail: { senders: [{ ip: '203.0.113.25', hostname: 'mail.acme-shop.test' }] },
          },
          {
            name: 'acme-corp.test',
            records: { MX: ['10 mail.acme-corp.test'] },
            mail: {
              senders: [{ ip: '203.0.113.26', hostname: 'mail.acme-corp.test' }],
              dkimSelectors: ['s1'],
            },
          },
        ],
      },
      close: async () => {},
    };
  },
};
