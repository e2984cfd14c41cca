/** The `dns` section: expected records per domain, mail DNS checks, and how to ask. */
import * as z from 'zod';
import {
  boundedInt,
  hostnameField,
  ipAddressField,
  jobSectionBase,
  resolverField,
} from '#shared/config/fields.ts';

/** Record types whose sets can be pinned. */
export const EXPECTABLE_TYPES = ['MX', 'NS', 'A', 'AAAA', 'CNAME', 'TXT', 'CAA'] as const;

/** One pinnable record type. */
export type ExpectableType = (typeof EXPECTABLE_TYPES)[number];

const valuesField = z
  .array(z.string().min(1, 'expected a non-empty record value'))
  .min(1, 'expected at least one record value')
  .describe(
    'Record values in zone-file form: MX "10 mx1.example.com" (preference optional), NS/CNAME host names, A/AAAA addresses, TXT text, CAA \'0 issue "letsencrypt.org"\'',
  );

const expectationField = z
  .union([
    valuesField,
    z
      .object({
        values: valuesField,
        match: z
          .enum(['exact', 'contains'])
          .default('exact')
          .describe('"exact": the published set must equal the values; "contains": it must include them'),
        severity: z
          .enum(['warning', 'critical'])
          .default('critical')
          .describe('Severity of a missing or mismatching set'),
      })
      .strict(),
  ])
  .transform((value) =>
    Array.isArray(value) ? { values: value, match: 'exact' as const, severity: 'critical' as const } : value,
  )
  .describe('Expected record set: a list of values (exact match), or { values, match, severity }');

const recordsField = z
  .object(
    Object.fromEntries(EXPECTABLE_TYPES.map((type) => [type, expectationField.optional()])) as Record<
      ExpectableType,
      z.ZodOptional<typeof expectationField>
    >,
  )
  .strict()
  .describe('Expected record sets of the domain name itself, by type (MX, NS, A, AAAA, CNAME, TXT, CAA)');

const senderField = z
  .object({
    ip: ipAddressField
      // An IPv4-mapped IPv6 address (::ffff:192.0.2.1) sends as IPv4: its PTR is in in-addr.arpa.
      .transform((ip) => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip)
      .describe('Address mail leaves from (IPv4 or IPv6)'),
    hostname: hostnameField.describe('Host name the server announces in EHLO; its PTR must equal it'),
  })
  .strict();

const mailField = z
  .object({
    senders: z
      .array(senderField)
      .default([])
      .describe('Outbound mail servers: PTR, forward-confirmed reverse DNS and SPF pass are checked'),
    dkimSelectors: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected a DKIM selector such as "s1" or "google"'),
      )
      .default([])
      .describe('DKIM selectors to check at <selector>._domainkey.<domain> (they cannot be discovered)'),
    dmarc: z
      .enum(['required', 'recommended'])
      .default('required')
      .describe('"required": a missing DMARC policy is critical; "recommended": a warning'),
    acceptsMail: z
      .boolean()
      .default(true)
      .describe('false for a send-only domain: a missing MX is then not a problem, a null MX is expected'),
  })
  .strict()
  .describe("Mail DNS checks: MX, SPF, DMARC, DKIM and the senders' PTR / FCrDNS");

const domainField = z
  .object({
    name: hostnameField.describe('Domain name to check, e.g. "example.com"'),
    records: recordsField.optional(),
    mail: mailField.optional(),
    authoritative: z
      .boolean()
      .optional()
      .describe("Also ask every NS of the zone directly (default: the section's setting)"),
  })
  .strict()
  .refine((domain) => domain.records !== undefined || domain.mail !== undefined, {
    message: 'expected "records" (pinned record sets) or "mail" (mail DNS checks), or both',
  })
  .describe('One domain: pinned record sets of the name itself, mail DNS checks, or both');

/** Schema of the `dns` section. */
export const dnsSectionSchema = z
  .object({
    ...jobSectionBase('rate(1 hour)'),
    resolver: resolverField
      .optional()
      .describe('DNS server(s) for this job, e.g. "1.1.1.1"; default: the global resolver, else the system'),
    authoritative: z
      .boolean()
      .default(false)
      .describe(
        'Also ask every NS of each zone directly, without recursion: catches a split or stale delegation a cache hides',
      ),
    authoritativePort: boundedInt(1, 65535)
      .default(53)
      .describe(
        'Port the NS addresses are asked on. Only for tests and sandboxes that serve zones on a high port',
      ),
    authoritativeIpv6: z
      .boolean()
      .default(false)
      .describe(
        'Also ask the IPv6 addresses of NS hosts. Off by default: Lambda outside a dual-stack VPC has no IPv6 egress',
      ),
    timeoutMs: boundedInt(100, 30_000).default(3000).describe('Per-attempt DNS timeout in milliseconds'),
    retries: boundedInt(0, 5)
      .default(2)
      .describe('Further attempts after a timeout, SERVFAIL or network error'),
    concurrency: boundedInt(1, 256).default(16).describe('Domains checked at the same time'),
    domains: z.array(domainField).default([]).describe('Domains to check'),
  })
  .strict();

/** The validated `dns` section. */
export type DnsSection = z.infer<typeof dnsSectionSchema>;
/** One configured domain. */
export type DomainConfig = DnsSection['domains'][number];
/** A domain's mail settings. */
export type MailConfig = NonNullable<DomainConfig['mail']>;
/** One expected record set after defaults. */
export type Expectation = z.infer<typeof expectationField>;
