/**
 * check-blocklists in `npm run demo`: a demo blocklist (bl.demo.test) that lists one mail server
 * with a TXT reason and puts a web server in a policy range, a dead list (dead.demo.test) whose
 * wildcard answers "listed" for everything — which the job refuses to believe — and Spamhaus
 * refusing the resolver with 127.255.255.254, as it does for AWS's.
 */
import { reversedAddress } from '#shared/dns/names.ts';
import type { DemoPart } from './demo-part.ts';
import type { ZoneRecord } from './dns-server.ts';

const LISTED_MAIL_SERVER = '203.0.113.25';
const CLEAN_MAIL_SERVER = '203.0.113.26';
const WEB_SERVER = '203.0.113.80';

function listed(zone: string, address: string, code: string, reason?: string): ZoneRecord[] {
  const name = `${reversedAddress(address)}.${zone}`;
  return [
    { name, type: 'A', data: code },
    ...(reason === undefined ? [] : [{ name, type: 'TXT', data: reason } satisfies ZoneRecord]),
  ];
}

/** The blocklist part of the demo. */
export const demoPart: DemoPart = {
  job: 'check-blocklists',
  records: [
    ...listed('bl.demo.test', '127.0.0.2', '127.0.0.2', 'RFC 5782 test point'),
    ...listed(
      'bl.demo.test',
      LISTED_MAIL_SERVER,
      '127.0.0.2',
      'Spam trap hits from 203.0.113.25, see https://bl.demo.test/lookup',
    ),
    ...listed('bl.demo.test', WEB_SERVER, '127.0.0.10', 'Dynamic/cloud range: no direct-to-MX mail'),
    // A parked, dead list: its wildcard lists every address, including the test point 127.0.0.1.
    { name: '*.dead.demo.test', type: 'A', data: '127.0.0.2' },
    // Spamhaus answering a public/cloud resolver: "refused", never a listing.
    { name: '*.zen.spamhaus.org', type: 'A', data: '127.255.255.254' },
  ],
  async start({ resolver }) {
    return {
      section: {
        resolver,
        timeoutMs: 1000,
        retries: 0,
        addresses: [
          { address: LISTED_MAIL_SERVER, label: 'mail.acme-shop.test' },
          { address: CLEAN_MAIL_SERVER, label: 'mail.acme-corp.test' },
          { address: WEB_SERVER, label: 'www', sendsMail: false },
        ],
        zones: ['spamhaus-zen'],
        customZones: [
          {
            id: 'demo',
            name: 'Demo blocklist',
            zone: 'bl.demo.test',
            codes: {
              '127.0.0.2': { meaning: 'spam source', category: 'spam-source' },
              '127.0.0.10': { meaning: 'range not meant to send mail directly', category: 'policy' },
            },
            delistUrl: 'https://bl.demo.test/removal',
          },
          { id: 'dead-demo', name: 'Dead demo list', zone: 'dead.demo.test' },
        ],
      },
      close: async () => {},
    };
  },
};
