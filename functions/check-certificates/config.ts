/** The `certificates` section: which TLS endpoints to probe, and when a certificate is a problem. */
import { isIP } from 'node:net';
import * as z from 'zod';
import { hostnameField, ipAddressField, jobSectionBase, resolverField } from '#shared/config/fields.ts';
import { STARTTLS_DEFAULT_PORTS, STARTTLS_PROTOCOLS } from '#shared/starttls/index.ts';

/** How the endpoint starts TLS: `tls` from the first byte (HTTPS, SMTPS, IMAPS ...) or a STARTTLS protocol. */
export const ENDPOINT_PROTOCOLS = ['tls', ...STARTTLS_PROTOCOLS] as const;
/** One of ENDPOINT_PROTOCOLS. */
export type EndpointProtocol = (typeof ENDPOINT_PROTOCOLS)[number];

/** Default port per protocol: 443 for `tls`, the protocol's STARTTLS port otherwise. */
export const DEFAULT_PORTS: Readonly<Record<EndpointProtocol, number>> = {
  tls: 443,
  ...STARTTLS_DEFAULT_PORTS,
};

const days = z.number().min(0).max(3650);
const fraction = z.number().gt(0).max(1);

/** Expiry thresholds; each may be overridden per endpoint. */
const thresholdFields = {
  warningDays: days.describe('Warn when the certificate expires within this many days (default 21)'),
  criticalDays: days.describe('Critical when it expires within this many days (default 7)'),
  warnFraction: fraction.describe(
    'Also relative to the lifetime: warn when less than this fraction of notBefore..notAfter is left (default 0.3). The smaller threshold wins, so short-lived certificates do not warn all the time',
  ),
  criticalFraction: fraction.describe(
    'Critical when less than this fraction of the lifetime is left (default 0.1)',
  ),
};

const severityOfFailure = z.enum(['unknown', 'warning', 'critical']);

const endpointObject = z
  .object(
    {
      host: z
        .union([hostnameField, ipAddressField])
        .describe('Host name (resolved to every A and AAAA address, each probed) or an IP address'),
      port: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .optional()
        .describe("TCP port (default 443, or the STARTTLS protocol's port)"),
      protocol: z
        .enum(ENDPOINT_PROTOCOLS)
        .default('tls')
        .describe(
          'tls (TLS from the first byte, also for 465/993/995/636) or STARTTLS: smtp, imap, pop3, ftp, ldap, postgres, mysql, xmpp',
        ),
      servername: hostnameField
        .refine((value) => isIP(value) === 0, {
          message:
            'expected a host name: RFC 6066 forbids an IP address as SNI (leave servername unset to check IP SANs)',
        })
        .optional()
        .describe(
          'SNI and the name the certificate must match, when it differs from host (never an IP address)',
        ),
      addresses: z
        .array(ipAddressField)
        .min(1)
        .optional()
        .describe('Probe these IP addresses instead of resolving host (origin servers behind a CDN, say)'),
      clientCertificateFile: z
        .string()
        .min(1)
        .optional()
        .describe(
          'MySQL only: PEM file of the client certificate your applications use, checked for the CN clash that causes ERROR 2026',
        ),
      warningDays: thresholdFields.warningDays.optional(),
      criticalDays: thresholdFields.criticalDays.optional(),
      warnFraction: thresholdFields.warnFraction.optional(),
      criticalFraction: thresholdFields.criticalFraction.optional(),
    },
    { error: 'expected an endpoint: "host", "host:port" or an object {host, port, protocol, ...}' },
  )
  .strict()
  .superRefine((endpoint, context) => {
    if (endpoint.clientCertificateFile !== undefined && endpoint.protocol !== 'mysql') {
      context.addIssue({
        code: 'custom',
        path: ['clientCertificateFile'],
        message: 'clientCertificateFile is only meaningful with protocol "mysql"',
      });
    }
  });

function parseShorthand(text: string): { host: string; port?: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*))(?::(\d{1,5}))?$/.exec(
    text,
  );
  const host = match?.[1] ?? match?.[2];
  if (host === undefined) return { host: text };
  // A bare IPv6 literal has colons of its own: no port can follow it without brackets.
  if (match?.[2]?.includes(':')) return { host: text };
  return match?.[3] === undefined ? { host } : { host, port: Number(match[3]) };
}

const SHORTHAND =
  /^(?:\[[0-9A-Fa-f:.]+\](?::\d{1,5})?|[^:\s[\]]+(?::\d{1,5})?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$/;

const shorthandEndpoint = z
  .string()
  .regex(SHORTHAND, 'expected "host", "host:port" or "[ipv6]:port"')
  .transform((text): unknown => parseShorthand(text))
  .pipe(endpointObject);

/**
 * A union reports "Invalid input" when every option fails; name the real problem instead: the
 * issues of the option that matched the input's type (string shorthand or object), with their paths.
 */
function explainEndpointError(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_union') return undefined;
  const relevant = issue.errors.find(
    (issues) => !(issues.length === 1 && issues[0]?.code === 'invalid_type' && issues[0].path.length === 0),
  );
  if (!relevant || relevant.length === 0) {
    return 'expected an endpoint: "host", "host:port" or an object {host, port, protocol, ...}';
  }
  return relevant
    .map((detail) =>
      detail.path.length > 0 ? `${detail.path.join('.')}: ${detail.message}` : detail.message,
    )
    .join('; ');
}

/** One endpoint: an object, or the shorthand `"host"`, `"host:port"`, `"[v6]:port"` (protocol tls). */
export const endpointSchema = z
  .union([shorthandEndpoint, endpointObject], { error: explainEndpointError })
  .describe('An endpoint: "host[:port]" or {host, port, protocol, servername, addresses, thresholds ...}');

/** The validated endpoint. */
export type EndpointConfig = z.output<typeof endpointObject>;

/** The `certificates` section. */
export const certificatesSchema = z
  .object({
    ...jobSectionBase('rate(1 day)'),
    endpoints: z.array(endpointSchema).default([]).describe('TLS endpoints to probe'),
    warningDays: thresholdFields.warningDays.default(21),
    criticalDays: thresholdFields.criticalDays.default(7),
    warnFraction: thresholdFields.warnFraction.default(0.3),
    criticalFraction: thresholdFields.criticalFraction.default(0.1),
    caFile: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .transform((value) => (Array.isArray(value) ? value : [value]))
      .optional()
      .describe(
        'PEM file(s) of extra trusted CA certificates (private PKI); intermediates in them complete served chains',
      ),
    systemRoots: z
      .boolean()
      .default(true)
      .describe('Trust the public root store shipped with Node.js (false: only caFile is trusted)'),
    fetchMissingIssuers: z
      .boolean()
      .default(true)
      .describe(
        'Fetch a missing intermediate from the leaf\'s AIA "CA Issuers" URL, as browsers do, to tell an incomplete chain from an untrusted one',
      ),
    resolver: resolverField.optional(),
    timeoutSeconds: z
      .number()
      .gt(0)
      .max(120)
      .default(10)
      .describe('Per connection: connect, STARTTLS dialogue and handshake'),
    concurrency: z.number().int().min(1).max(512).default(32).describe('Connections in flight at once'),
    addressFamilies: z
      .array(z.enum(['ipv4', 'ipv6']))
      .min(1)
      .default(['ipv4', 'ipv6'])
      .describe('Which resolved address families to probe'),
    unreachableSeverity: severityOfFailure
      .default('unknown')
      .describe('Severity of endpoint.unreachable and endpoint.timeout (default unknown: could not tell)'),
    ehloName: hostnameField
      .optional()
      .describe("Name sent in SMTP EHLO (default: this host's name, or watchkeeper.invalid)"),
    acm: z
      .boolean()
      .default(false)
      .describe(
        'Also list ACM certificates in the region and report imported or renewal-ineligible ones that expire',
      ),
  })
  .strict();

/** The validated section. */
export type CertificatesSection = z.output<typeof certificatesSchema>;

/** Thresholds in effect for one endpoint. */
export interface Thresholds {
  warningDays: number;
  criticalDays: number;
  warnFraction: number;
  criticalFraction: number;
}

/** The section's thresholds with the endpoint's overrides applied. */
export function thresholdsFor(
  section: CertificatesSection,
  endpoint: Partial<Pick<EndpointConfig, keyof Thresholds>>,
): Thresholds {
  return {
    warningDays: endpoint.warningDays ?? section.warningDays,
    criticalDays: endpoint.criticalDays ?? section.criticalDays,
    warnFraction: endpoint.warnFraction ?? section.warnFraction,
    criticalFraction: endpoint.criticalFraction ?? section.criticalFraction,
  };
}
