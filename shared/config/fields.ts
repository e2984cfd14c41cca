/**
 * Building blocks for configuration sections. Every job section is built from these so that
 * schedules, resolvers, secrets and timeouts are spelled and validated the same way everywhere.
 */
import { isIP } from 'node:net';
import * as z from 'zod';

/** EventBridge schedule expression, or `false` to deploy the function without a schedule. */
export const scheduleField = z
  .union([
    z
      .string()
      .regex(
        /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\))$/,
        'expected an EventBridge expression such as "rate(1 day)" or "cron(0 6 * * ? *)"',
      ),
    z.literal(false),
  ])
  .describe('EventBridge schedule expression ("rate(1 day)", "cron(0 6 * * ? *)"), or false for none');

/** A DNS server as `host`, `host:port`, or `[v6]:port`. */
export const dnsServerField = z
  .string()
  .refine((value) => parseDnsServer(value) !== undefined, {
    message: 'expected an IP address with an optional port, such as "127.0.0.1:5353" or "[::1]:53"',
  })
  .describe('DNS server: IP address with optional port');

/** One or more DNS servers to query instead of the system's. */
export const resolverField = z
  .union([dnsServerField, z.array(dnsServerField).min(1)])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .describe('DNS server(s) to query instead of the system resolver, e.g. "127.0.0.1:5353"');

/** Reference to a secret in SSM Parameter Store (`ssm:/watchkeeper/dqs-key`); never the secret itself. */
export const secretRefField = z
  .string()
  .regex(/^ssm:\/[\w./-]+$/, 'expected an SSM Parameter Store reference such as "ssm:/watchkeeper/dqs-key"')
  .describe('SSM Parameter Store reference (SecureString), e.g. "ssm:/watchkeeper/dqs-key"');

/** Host name (RFC 1123 labels, optional trailing dot). */
export const hostnameField = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(?=.{1,253}\.?$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/,
    'expected a host name such as "mail.example.com"',
  );

/** IPv4 or IPv6 address literal. */
export const ipAddressField = z.string().refine((value) => isIP(value) !== 0, {
  message: 'expected an IPv4 or IPv6 address',
});

/** Positive integer with a lower and upper bound. */
export function boundedInt(min: number, max: number) {
  return z.number().int().min(min).max(max);
}

/** A parsed DNS server address. */
export interface DnsServer {
  host: string;
  port: number;
}

/** Parses `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353`; undefined when malformed. */
export function parseDnsServer(value: string): DnsServer | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed?.[1]) return withPort(bracketed[1], bracketed[2]);
  if (isIP(value) === 6) return { host: value, port: 53 };
  const hostPort = /^([^:]+)(?::(\d+))?$/.exec(value);
  if (hostPort?.[1]) return withPort(hostPort[1], hostPort[2]);
  return undefined;
}

function withPort(host: string, port: string | undefined): DnsServer | undefined {
  if (isIP(host) === 0) return undefined;
  const number = port === undefined ? 53 : Number(port);
  if (!Number.isInteger(number) || number < 1 || number > 65535) return undefined;
  return { host, port: number };
}

/** Fields every job section has: its schedule and an optional resolver override. */
export function jobSectionBase(defaultSchedule: string) {
  return {
    schedule: scheduleField.default(defaultSchedule),
  };
}
