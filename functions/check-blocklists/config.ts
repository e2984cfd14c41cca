/** The `blocklists` section: what to look up, on which zones, through which resolver. */
import { isIP } from 'node:net';
import * as z from 'zod';
import {
  boundedInt,
  hostnameField,
  ipAddressField,
  jobSectionBase,
  resolverField,
  secretRefField,
} from '#shared/config/fields.ts';
import { BUILTIN_ZONES, DEFAULT_ZONE_IDS, deadZoneOf } from './zones.ts';

const sendsMailField = z
  .boolean()
  .default(true)
  .describe(
    'Whether this address sends mail directly to other MX servers: a Spamhaus PBL (policy) listing is critical then, a warning otherwise',
  );

const addressEntry = z
  .union([
    ipAddressField,
    z
      .object({
        address: ipAddressField.describe('IPv4 or IPv6 address to look up'),
        sendsMail: sendsMailField,
        label: z.string().min(1).max(100).optional().describe('Name shown next to the address, e.g. "mail1"'),
      })
      .strict(),
  ])
  .describe('An IP address ("192.0.2.25"), or { address, sendsMail, label }');

const fromDnsEntry = z
  .union([
    hostnameField,
    z
      .object({
        domain: hostnameField.describe('Mail domain whose MX hosts are looked up'),
        sendsMail: sendsMailField,
        checkDomain: z
          .boolean()
          .default(true)
          .describe('Also look the domain itself up on the domain lists (Spamhaus DBL)'),
      })
      .strict(),
  ])
  .describe(
    'A mail domain ("example.com") or { domain, sendsMail, checkDomain }: its MX hosts\' addresses are checked',
  );

// Record keys are checked here rather than with a key schema so the message says what was expected.
function codesIn127<T>(record: z.ZodType<Record<string, T>>) {
  return record.superRefine((codes, context) => {
    for (const key of Object.keys(codes)) {
      if (isIP(key) !== 4 || !key.startsWith('127.')) {
        context.addIssue({
          code: 'custom',
          path: [key],
          message: `expected an answer code inside 127.0.0.0/8, such as "127.0.0.2", got "${key}"`,
        });
      }
    }
  });
}

const listingCode = z
  .object({
    meaning: z.string().min(1).describe('What this code means, shown in findings'),
    category: z
      .enum(['spam-source', 'policy', 'neighbourhood'])
      .default('spam-source')
      .describe(
        'spam-source (critical), policy (critical for senders, else warning) or neighbourhood (warning)',
      ),
  })
  .strict();

const errorCode = z
  .object({
    meaning: z.string().min(1).describe('What this error answer means'),
    refusal: z.boolean().default(false).describe('True when the list refuses to answer us (query-refused)'),
  })
  .strict();

const testPoints = z
  .object({
    listed: z.string().min(1).describe('Must be listed (RFC 5782: 127.0.0.2, ::ffff:7f00:2 or "test")'),
    notListed: z.string().min(1).describe('Must not be listed (127.0.0.1, ::ffff:7f00:1 or "invalid")'),
  })
  .strict();

const customZone = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'expected a lower-case identifier such as "my-list"')
      .describe('Identifier of the zone in findings'),
    name: z.string().min(1).max(80).optional().describe('Name shown to people; the zone name by default'),
    zone: hostnameField.describe('DNS zone queried, e.g. "bl.example.net"'),
    kind: z
      .enum(['ip', 'domain'])
      .default('ip')
      .describe('"ip": lists addresses; "domain": lists domain names'),
    ipv6: z.boolean().default(false).describe('Whether the zone lists IPv6 addresses (32 reversed nibbles)'),
    codes: codesIn127(z.record(z.string(), listingCode))
      .default({ '127.0.0.2': { meaning: 'listed', category: 'spam-source' } })
      .describe('Listing codes (A record values) and their meaning; any other answer is an error'),
    errorCodes: codesIn127(z.record(z.string(), errorCode))
      .default({})
      .describe('Documented error answers, never listings (e.g. "127.255.255.254")'),
    testPoints: testPoints
      .optional()
      .describe(
        'Test points checked every run; RFC 5782 ones (127.0.0.2 / 127.0.0.1, test / invalid) by default',
      ),
    delistUrl: z.url().optional().describe('Where the owner requests removal of a listing'),
    ownerCanDelist: z
      .boolean()
      .default(true)
      .describe('False for neighbourhood lists the owner cannot act on'),
    refusesPublicResolvers: z
      .boolean()
      .default(false)
      .describe('Whether the list refuses public/cloud resolvers'),
  })
  .strict()
  .superRefine((zone, context) => {
    const dead = deadZoneOf(zone.zone);
    if (dead) {
      context.addIssue({
        code: 'custom',
        path: ['zone'],
        message: `${dead} is a dead list (it answers nothing, or "listed" for everything): remove it`,
      });
    }
  });

/** The validated `blocklists` section. */
export const blocklistsSchema = z
  .object({
    ...jobSectionBase('rate(6 hours)'),
    addresses: z
      .array(addressEntry)
      .default([])
      .describe('IPv4 and IPv6 addresses to look up on the address lists (the IPs your mail leaves from)'),
    domains: z
      .array(hostnameField)
      .default([])
      .describe('Domains to look up on the domain lists (mail domain, HELO and PTR host names)'),
    fromDns: z
      .array(fromDnsEntry)
      .default([])
      .describe("Mail domains whose MX hosts' A/AAAA addresses are looked up automatically"),
    zones: z
      .array(z.enum(Object.keys(BUILTIN_ZONES) as [string, ...string[]]).describe('Built-in zone identifier'))
      .optional()
      .describe(
        `Built-in zones to use ([] for custom zones only); by default ${DEFAULT_ZONE_IDS.join(', ')} (and barracuda with registeredResolver). Also available: surbl, uribl`,
      ),
    customZones: z.array(customZone).default([]).describe('Further zones, described as data'),
    registeredResolver: z
      .boolean()
      .default(false)
      .describe('The resolver is your own and registered with Barracuda, so Barracuda BRBL is checked'),
    dqsKey: secretRefField
      .optional()
      .describe('Spamhaus DQS key as an SSM SecureString reference; Spamhaus is then queried via DQS'),
    resolver: resolverField.optional(),
    timeoutMs: boundedInt(100, 30_000).default(5000).describe('Per-query timeout in milliseconds'),
    retries: boundedInt(0, 5).default(1).describe('Retries after a timeout or SERVFAIL'),
    concurrency: boundedInt(1, 500).default(50).describe('DNS queries in flight at once'),
  })
  .strict()
  .superRefine((section, context) => {
    if (section.addresses.length + section.domains.length + section.fromDns.length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['addresses'],
        message: 'expected at least one target in addresses, domains or fromDns',
      });
    }
    if (section.zones?.length === 0 && section.customZones.length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['zones'],
        message: 'expected at least one zone: name built-in zones or add customZones',
      });
    }
    if (section.zones?.includes('barracuda') && !section.registeredResolver) {
      context.addIssue({
        code: 'custom',
        path: ['zones'],
        message: 'barracuda answers only resolvers registered with it: set registeredResolver: true',
      });
    }
    const ids = new Set(Object.keys(BUILTIN_ZONES));
    section.customZones.forEach((zone, index) => {
      if (ids.has(zone.id)) {
        context.addIssue({
          code: 'custom',
          path: ['customZones', index, 'id'],
          message: `"${zone.id}" is already used by another zone: pick another id`,
        });
      }
      ids.add(zone.id);
    });
  });

/** The validated `blocklists` section. */
export type BlocklistsSection = z.infer<typeof blocklistsSchema>;
/** A validated custom zone. */
export type CustomZoneConfig = z.infer<typeof customZone>;
