/**
 * The blocklist catalogue, as data: what each zone lists, which answers are listings (and what
 * they mean), which answers are errors or refusals, its test points, and where to delist. The
 * classification logic reads only this data, so a custom zone behaves exactly like a built-in one.
 */

/** What a listing means for the owner of the address or domain. */
export type ListingCategory = 'spam-source' | 'policy' | 'neighbourhood';

/** What a zone lists: addresses (reversed octets / nibbles) or domain names. */
export type ZoneKind = 'ip' | 'domain';

/** One documented listing code. */
export interface ListingCode {
  meaning: string;
  category: ListingCategory;
}

/** One documented error code: not a listing, ever. */
export interface ErrorCode {
  meaning: string;
  /** True when the list refuses to answer us (public/cloud resolver, rate limit): `query-refused`. */
  refusal: boolean;
}

/** RFC 5782 §5 test points, overridable for lists that document others. */
export interface TestPoints {
  /** Must be listed (127.0.0.2, `TEST`). */
  listed: string;
  /** Must not be listed (127.0.0.1, `INVALID`). */
  notListed: string;
}

/** A blocklist zone described as data. */
export interface ZoneSpec {
  /** Stable identifier used in configuration: `spamhaus-zen`. */
  id: string;
  /** Name shown to people: `Spamhaus ZEN`. */
  name: string;
  /** Public zone queried without a DQS key: `zen.spamhaus.org`. */
  zone: string;
  /** Spamhaus DQS zone (`zen.dq.spamhaus.net`) queried as `<query>.<key>.<dqsZone>` when a key is set. */
  dqsZone?: string;
  kind: ZoneKind;
  /** Whether IPv6 addresses can be queried (ip zones only). */
  ipv6: boolean;
  /** Listing codes by A record value (`127.0.0.2`). Any other answer is not a listing. */
  codes: Record<string, ListingCode>;
  /**
   * Zones that answer a bitmask in the last octet of 127.0.0.x (SURBL, URIBL): each bit is a
   * sub-list. Used instead of `codes` when present.
   */
  bitmask?: Record<string, ListingCode>;
  /** Documented error answers by A record value (or by bit for bitmask zones). */
  errorCodes: Record<string, ErrorCode>;
  /** Bits of a bitmask zone that mean "refused" (URIBL's 1). */
  refusalBits?: Record<string, ErrorCode>;
  testPoints: { ipv4?: TestPoints; ipv6?: TestPoints; domain?: TestPoints };
  /** Where the owner looks up and requests removal of a listing (unknown for some custom zones). */
  delistUrl?: string;
  /** Whether the owner can have a listing removed (false for UCEPROTECT level 2 and 3). */
  ownerCanDelist: boolean;
  /** The list refuses big public and cloud resolvers (including AWS's). */
  refusesPublicResolvers: boolean;
  /** Why it refuses and what to do, for `blocklist.query-refused` messages. */
  refusalAdvice?: string;
  /** The list answers only resolvers registered with it (Barracuda). */
  requiresRegisteredResolver: boolean;
}

const IPV4_TEST_POINTS: TestPoints = { listed: '127.0.0.2', notListed: '127.0.0.1' };
const IPV6_TEST_POINTS: TestPoints = { listed: '::ffff:7f00:2', notListed: '::ffff:7f00:1' };
const DOMAIN_TEST_POINTS: TestPoints = { listed: 'test', notListed: 'invalid' };

/** RFC 5782 §5 test points for a zone kind and family. */
export const RFC5782_TEST_POINTS = {
  ipv4: IPV4_TEST_POINTS,
  ipv6: IPV6_TEST_POINTS,
  domain: DOMAIN_TEST_POINTS,
} as const;

const SPAMHAUS_ADVICE =
  'Spamhaus refuses queries from public and cloud resolvers, including AWS\'s: configure a DQS key (dqsKey: "ssm:/…")';

// Spamhaus answers these from every zone; they "should NOT be interpreted as any sort of reputation".
const SPAMHAUS_ERRORS: Record<string, ErrorCode> = {
  '127.255.255.252': { meaning: 'typing error in the DNSBL name', refusal: false },
  '127.255.255.254': {
    meaning: 'query through a public or cloud resolver',
    refusal: true,
  },
  '127.255.255.255': { meaning: 'excessive number of queries (rate limited)', refusal: true },
};

const UCEPROTECT_DELIST = 'https://www.uceprotect.net/en/rblcheck.php';

/** The built-in zones, by id. */
export const BUILTIN_ZONES: Readonly<Record<string, ZoneSpec>> = {
  'spamhaus-zen': {
    id: 'spamhaus-zen',
    name: 'Spamhaus ZEN',
    zone: 'zen.spamhaus.org',
    dqsZone: 'zen.dq.spamhaus.net',
    kind: 'ip',
    ipv6: true,
    codes: {
      '127.0.0.2': { meaning: 'SBL: verified spam source or spam operation', category: 'spam-source' },
      '127.0.0.3': { meaning: 'SBL CSS: snowshoe spam source', category: 'spam-source' },
      '127.0.0.4': { meaning: 'XBL: exploited or infected host (botnet, proxy)', category: 'spam-source' },
      '127.0.0.9': { meaning: 'DROP: hijacked or criminal netblock', category: 'spam-source' },
      '127.0.0.10': {
        meaning: 'PBL (ISP-maintained): range not meant to send mail directly to MX servers',
        category: 'policy',
      },
      '127.0.0.11': {
        meaning: 'PBL (Spamhaus-maintained): range not meant to send mail directly to MX servers',
        category: 'policy',
      },
      '127.0.0.30': { meaning: 'BCL: botnet controller', category: 'spam-source' },
    },
    errorCodes: SPAMHAUS_ERRORS,
    testPoints: { ipv4: IPV4_TEST_POINTS, ipv6: IPV6_TEST_POINTS },
    delistUrl: 'https://check.spamhaus.org/',
    ownerCanDelist: true,
    refusesPublicResolvers: true,
    refusalAdvice: SPAMHAUS_ADVICE,
    requiresRegisteredResolver: false,
  },
  'spamhaus-dbl': {
    id: 'spamhaus-dbl',
    name: 'Spamhaus DBL',
    zone: 'dbl.spamhaus.org',
    dqsZone: 'dbl.dq.spamhaus.net',
    kind: 'domain',
    ipv6: false,
    codes: {
      '127.0.1.2': { meaning: 'spam domain', category: 'spam-source' },
      '127.0.1.4': { meaning: 'phishing domain', category: 'spam-source' },
      '127.0.1.5': { meaning: 'malware domain', category: 'spam-source' },
      '127.0.1.6': { meaning: 'botnet command-and-control domain', category: 'spam-source' },
      '127.0.1.102': { meaning: 'abused legitimate domain: spam', category: 'spam-source' },
      '127.0.1.103': { meaning: 'abused legitimate domain: spammed redirector', category: 'spam-source' },
      '127.0.1.104': { meaning: 'abused legitimate domain: phishing', category: 'spam-source' },
      '127.0.1.105': { meaning: 'abused legitimate domain: malware', category: 'spam-source' },
      '127.0.1.106': { meaning: 'abused legitimate domain: botnet C&C', category: 'spam-source' },
    },
    errorCodes: {
      ...SPAMHAUS_ERRORS,
      '127.0.1.255': { meaning: 'an IP address was queried on a domain list', refusal: false },
    },
    // Spamhaus documents dbltest.com as the DBL's listed test domain.
    testPoints: { domain: { listed: 'dbltest.com', notListed: 'invalid' } },
    delistUrl: 'https://check.spamhaus.org/',
    ownerCanDelist: true,
    refusesPublicResolvers: true,
    refusalAdvice: SPAMHAUS_ADVICE,
    requiresRegisteredResolver: false,
  },
  spamcop: {
    id: 'spamcop',
    name: 'SpamCop',
    zone: 'bl.spamcop.net',
    kind: 'ip',
    ipv6: false,
    codes: {
      '127.0.0.2': {
        meaning: 'reported by SpamCop users or spam traps (delisted automatically when reports stop)',
        category: 'spam-source',
      },
    },
    errorCodes: {},
    testPoints: { ipv4: IPV4_TEST_POINTS },
    delistUrl: 'https://www.spamcop.net/bl.shtml',
    ownerCanDelist: true,
    refusesPublicResolvers: false,
    requiresRegisteredResolver: false,
  },
  psbl: {
    id: 'psbl',
    name: 'PSBL',
    zone: 'psbl.surriel.com',
    kind: 'ip',
    ipv6: false,
    codes: {
      '127.0.0.2': {
        meaning: 'sent mail to a spam trap and is not a known mail server',
        category: 'spam-source',
      },
    },
    errorCodes: {},
    testPoints: { ipv4: IPV4_TEST_POINTS },
    delistUrl: 'https://psbl.org/',
    ownerCanDelist: true,
    refusesPublicResolvers: false,
    requiresRegisteredResolver: false,
  },
  'uceprotect-1': {
    id: 'uceprotect-1',
    name: 'UCEPROTECT level 1',
    zone: 'dnsbl-1.uceprotect.net',
    kind: 'ip',
    ipv6: false,
    codes: {
      '127.0.0.2': {
        meaning: 'this address hit UCEPROTECT spam traps (expires 7 days after the last hit)',
        category: 'spam-source',
      },
    },
    errorCodes: {},
    testPoints: { ipv4: IPV4_TEST_POINTS },
    delistUrl: UCEPROTECT_DELIST,
    ownerCanDelist: true,
    refusesPublicResolvers: false,
    requiresRegisteredResolver: false,
  },
  'uceprotect-2': {
    id: 'uceprotect-2',
    name: 'UCEPROTECT level 2',
    zone: 'dnsbl-2.uceprotect.net',
    kind: 'ip',
    ipv6: false,
    codes: {
      '127.0.0.2': {
        meaning: 'the allocation around this address has too many level-1 listings',
        category: 'neighbourhood',
      },
    },
    errorCodes: {},
    testPoints: { ipv4: IPV4_TEST_POINTS },
    delistUrl: UCEPROTECT_DELIST,
    ownerCanDelist: false,
    refusesPublicResolvers: false,
    requiresRegisteredResolver: false,
  },
  'uceprotect-3': {
    id: 'uceprotect-3',
    name: 'UCEPROTECT level 3',
    zone: 'dnsbl-3.uceprotect.net',
    kind: 'ip',
    ipv6: false,
    codes: {
      '127.0.0.2': {
        meaning: 'the network (ASN) of this address has too many level-1 listings',
        category: 'neighbourhood',
      },
    },
    errorCodes: {},
    testPoints: { ipv4: IPV4_TEST_POINTS },
    delistUrl: UCEPROTECT_DELIST,
    ownerCanDelist: false,
    refusesPublicResolvers: false,
    requiresRegisteredResolver: false,
  },
  barracuda: {
    id: 'barracuda',
    name: 'Barracuda BRBL',
    zone: 'b.barracudacentral.org',
    kind: 'ip',
    ipv6: false,
    codes: {
      '127.0.0.2': { meaning: 'seen sending spam to Barracuda traps or appliances', category: 'spam-source' },
    },
    errorCodes: {},
    testPoints: { ipv4: IPV4_TEST_POINTS },
    delistUrl: 'https://www.barracudacentral.org/rbl/removal-request',
    ownerCanDelist: true,
    refusesPublicResolvers: true,
    refusalAdvice: 'Barracuda answers only DNS servers registered with it: register your resolver',
    requiresRegisteredResolver: true,
  },
  surbl: {
    id: 'surbl',
    name: 'SURBL multi',
    zone: 'multi.surbl.org',
    kind: 'domain',
    ipv6: false,
    codes: {},
    bitmask: {
      '2': { meaning: 'SC (legacy sub-list)', category: 'spam-source' },
      '4': { meaning: 'WS (legacy sub-list)', category: 'spam-source' },
      '8': { meaning: 'PH: phishing', category: 'spam-source' },
      '16': { meaning: 'MW: malware', category: 'spam-source' },
      '32': { meaning: 'AB (legacy sub-list)', category: 'spam-source' },
      '64': { meaning: 'ABUSE: spam and abuse', category: 'spam-source' },
      '128': { meaning: 'CR: cracked site', category: 'spam-source' },
    },
    errorCodes: {},
    testPoints: { domain: { listed: 'test.surbl.org', notListed: 'invalid' } },
    delistUrl: 'https://www.surbl.org/surbl-analysis',
    ownerCanDelist: true,
    refusesPublicResolvers: false,
    requiresRegisteredResolver: false,
  },
  uribl: {
    id: 'uribl',
    name: 'URIBL multi',
    zone: 'multi.uribl.com',
    kind: 'domain',
    ipv6: false,
    codes: {},
    bitmask: {
      '2': { meaning: 'black: domain seen in spam', category: 'spam-source' },
      '4': { meaning: 'grey: bulk sender domain', category: 'spam-source' },
      '8': { meaning: 'red: domain in newly seen spam', category: 'spam-source' },
    },
    errorCodes: {},
    refusalBits: {
      '1': { meaning: 'query refused (URIBL blocks large shared resolvers)', refusal: true },
    },
    testPoints: { domain: { listed: 'test.uribl.com', notListed: 'invalid' } },
    delistUrl: 'https://admin.uribl.com/',
    ownerCanDelist: true,
    refusesPublicResolvers: true,
    refusalAdvice: 'URIBL refuses large shared resolvers: query it through a resolver of your own',
    requiresRegisteredResolver: false,
  },
};

/** Zones used when the section does not name any (Barracuda is added with `registeredResolver`). */
export const DEFAULT_ZONE_IDS: readonly string[] = [
  'spamhaus-zen',
  'spamhaus-dbl',
  'spamcop',
  'psbl',
  'uceprotect-1',
  'uceprotect-2',
  'uceprotect-3',
];

/**
 * Lists that are gone and answer nothing, or everything (a parked domain's wildcard): never
 * accepted as custom zones. SORBS was decommissioned on 2024-06-05.
 */
export const DEAD_ZONES: readonly string[] = [
  'sorbs.net',
  'virbl.bit.nl',
  'db.wpbl.info',
  'bl.spamcannibal.org',
  'dnsbl.cyberlogic.net',
  'ix.dnsbl.manitu.net',
  'dnsbl.madavi.de',
  'sbl.spamdown.org',
  'rfc-ignorant.org',
  'msrbl.net',
];

/** The dead list a zone name belongs to, if any. */
export function deadZoneOf(zone: string): string | undefined {
  const name = zone.toLowerCase().replace(/\.$/, '');
  return DEAD_ZONES.find((dead) => name === dead || name.endsWith(`.${dead}`));
}

/**
 * Big public resolvers. Lists that refuse public resolvers answer them with refusal codes, or
 * (Spamhaus via Google, by its own account) with a silent NXDOMAIN — so they must not be the
 * resolver for those lists unless the list is queried with a key (DQS).
 */
export const PUBLIC_RESOLVERS: Readonly<Record<string, string>> = {
  '8.8.8.8': 'Google Public DNS',
  '8.8.4.4': 'Google Public DNS',
  '2001:4860:4860::8888': 'Google Public DNS',
  '2001:4860:4860::8844': 'Google Public DNS',
  '1.1.1.1': 'Cloudflare',
  '1.0.0.1': 'Cloudflare',
  '2606:4700:4700::1111': 'Cloudflare',
  '2606:4700:4700::1001': 'Cloudflare',
  '9.9.9.9': 'Quad9',
  '149.112.112.112': 'Quad9',
  '2620:fe::fe': 'Quad9',
  '208.67.222.222': 'OpenDNS',
  '208.67.220.220': 'OpenDNS',
  '2620:119:35::35': 'OpenDNS',
  '2620:119:53::53': 'OpenDNS',
};
