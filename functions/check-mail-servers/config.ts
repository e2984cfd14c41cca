/** The `mailServers` section: which SMTP servers to hold a conversation with, and how. */
import * as z from 'zod';
import { hostnameField, ipAddressField, jobSectionBase, resolverField } from '#shared/config/fields.ts';

/**
 * What a port is for, which decides what is expected of it: `mx` (port 25, receives mail from the
 * internet: STARTTLS expected), `submission` (587: STARTTLS required, AUTH only after it),
 * `smtps` (465: implicit TLS from the first byte).
 */
export const PORT_MODES = ['mx', 'submission', 'smtps'] as const;
/** One of PORT_MODES. */
export type PortMode = (typeof PORT_MODES)[number];

const portNumber = z.number().int().min(1).max(65535);

const portEntry = z
  .union([
    portNumber,
    z
      .object({
        port: portNumber.describe('TCP port'),
        mode: z
          .enum(PORT_MODES)
          .describe('mx (STARTTLS expected), submission (STARTTLS required), smtps (implicit TLS)'),
      })
      .strict(),
  ])
  .describe('A port number (25 = mx, 465 = smtps, any other = submission), or {port, mode}');

const emailAddress = z
  .string()
  .regex(
    /^[^\s<>@]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/,
    'expected an e-mail address such as "probe@example.org"',
  );

const serverFields = {
  ports: z
    .array(portEntry)
    .min(1)
    .default([25])
    .describe('Ports to probe; default [25]. 587 is submission, 465 is implicit TLS'),
  expectedHostname: hostnameField
    .optional()
    .describe('Name the banner, the EHLO reply and the PTR record must all show (default: the PTR name)'),
  relayTest: z
    .boolean()
    .default(true)
    .describe('Run the open-relay test (MAIL FROM and RCPT TO external addresses, never DATA)'),
};

const hostServer = z
  .object({
    host: z
      .union([hostnameField, ipAddressField])
      .describe('Mail server host name or IP address; a name is probed on each of its addresses'),
    ...serverFields,
  })
  .strict();

const domainServers = z
  .object({
    domain: hostnameField.describe('Mail domain: every MX host of it is probed'),
    ...serverFields,
  })
  .strict();

/** One configured server (by host) or set of servers (every MX of a domain). */
export const serverSchema = z.union([hostServer, domainServers]);

/** Schema of the `mailServers` section. */
export const mailServersSchema = z
  .object({
    ...jobSectionBase('rate(6 hours)'),
    resolver: resolverField.optional(),
    servers: z
      .array(serverSchema)
      .default([])
      .describe(
        'Servers to probe: {host: mx1.example.com} or {domain: example.com} (every MX); only these are ever contacted',
      ),
    heloName: hostnameField
      .default('watchkeeper-probe.example.net')
      .describe('Name sent in EHLO; use a name of the probing host if your servers check HELO names'),
    relaySender: emailAddress
      .default('watchkeeper-probe@example.org')
      .describe("Envelope sender of the relay test: an address outside the servers' domains"),
    relayRecipient: emailAddress
      .default('relay-test@example.net')
      .describe('Recipient of the relay test: an address in a domain the servers must not relay to'),
    connectTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(10_000)
      .describe('Time allowed for the TCP connection (ms)'),
    replyTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(300_000)
      .default(30_000)
      .describe('Time allowed for the greeting and for each reply (ms)'),
    slowBannerMs: z
      .number()
      .int()
      .min(0)
      .max(300_000)
      // Above Postfix postscreen's 6 s greet wait, so a first contact through postscreen is not flagged.
      .default(10_000)
      .describe('A complete greeting slower than this is smtp.slow-banner (ms)'),
    ipv6: z.boolean().default(false).describe('Also probe the IPv6 addresses (AAAA) of host names'),
    concurrency: z.number().int().min(1).max(50).default(5).describe('Conversations held at once'),
  })
  .strict()
  .superRefine((section, context) => {
    const recipientDomain = section.relayRecipient.split('@')[1]?.toLowerCase();
    section.servers.forEach((server, index) => {
      if ('domain' in server && server.domain.toLowerCase().replace(/\.$/, '') === recipientDomain) {
        context.addIssue({
          code: 'custom',
          path: ['servers', index, 'domain'],
          message: `relayRecipient must be outside the probed domain ${server.domain}, or every relay test would look open`,
        });
      }
    });
  });

/** Validated `mailServers` section. */
export type MailServersSection = z.infer<typeof mailServersSchema>;
/** One validated server entry. */
export type ServerEntry = z.infer<typeof serverSchema>;
