/**
 * Reverse DNS of the addresses mail leaves from: a PTR must exist, one PTR name must equal the
 * host name the server announces, and that name must resolve back to the address (forward-
 * confirmed reverse DNS, which Gmail requires). IPv4 and IPv6.
 */
import { isIP } from 'node:net';
import type { Lookup } from '#shared/dns/lookup.ts';
import { reverseLookupName } from '#shared/dns/names.ts';
import type { Finding } from '#shared/findings.ts';
import { CODES, finding } from './codes.ts';
import type { MailConfig } from './config.ts';
import { canonicalAddress, canonicalName } from './records.ts';

/** What the sender check saw, for `dns.ok`. */
export interface SenderSummary {
  ip: string;
  hostname: string;
  ptr: string[];
  fcrdns: boolean;
}

type Sender = MailConfig['senders'][number];

/** Findings for one sender, and a summary when it is healthy. */
export async function checkSender(
  domain: string,
  sender: Sender,
  lookup: Lookup,
): Promise<{ findings: Finding[]; summary?: SenderSummary }> {
  const { ip } = sender;
  const hostname = canonicalName(sender.hostname);
  const reverseName = reverseLookupName(ip);
  const ptr = await lookup.query(reverseName, 'PTR');
  const base = { subject: ip };
  if (ptr.status === 'failed') {
    return {
      findings: [
        finding(
          domain,
          CODES.lookupFailed,
          'unknown',
          `Could not look up the PTR record of ${ip} (${ptr.reason}), so its reverse DNS is unknown.`,
          {
            ...base,
            data: {
              type: 'PTR',
              name: reverseName,
              reason: ptr.reason,
              detail: ptr.detail,
              server: ptr.server,
            },
          },
        ),
      ],
    };
  }
  if (ptr.status !== 'answer') {
    return {
      findings: [
        finding(
          domain,
          CODES.ptrMissing,
          'critical',
          `Mail server ${ip} has no PTR record (${reverseName} ${ptr.status === 'nxdomain' ? 'does not exist' : 'has no PTR'}); receivers such as Gmail reject or junk its mail — ask the address owner to set it to ${hostname}.`,
          { ...base, data: { name: reverseName, answer: ptr.status, expected: hostname } },
        ),
      ],
    };
  }
  const names = ptr.records.flatMap((record) => (record.type === 'PTR' ? [canonicalName(record.value)] : []));
  const findings: Finding[] = [];
  const matching = names.filter((name) => name === hostname);
  if (matching.length === 0) {
    findings.push(
      finding(
        domain,
        CODES.ptrMismatch,
        'warning',
        `The PTR of mail server ${ip} is ${names.join(', ')}, not the announced host name ${hostname}.`,
        {
          ...base,
          data: { expected: hostname, actual: names, ttls: ptr.records.map((record) => record.ttl) },
        },
      ),
    );
  }
  // Forward confirmation: a PTR name (the announced one if it is among them) resolves back to the IP.
  const candidates = matching.length > 0 ? matching : names;
  const type = isIP(ip) === 6 ? 'AAAA' : 'A';
  const forward = await Promise.all(
    candidates.map(async (name) => ({ name, outcome: await lookup.query(name, type) })),
  );
  const target = canonicalAddress(ip);
  const confirmed = forward.some(
    ({ outcome }) =>
      outcome.status === 'answer' &&
      outcome.records.some((record) => 'value' in record && canonicalAddress(record.value) === target),
  );
  const failed = forward.filter(({ outcome }) => outcome.status === 'failed');
  if (!confirmed && failed.length > 0) {
    findings.push(
      finding(
        domain,
        CODES.lookupFailed,
        'unknown',
        `Could not resolve ${failed.map(({ name }) => name).join(', ')} (${type}) to confirm the reverse DNS of ${ip}.`,
        { ...base, data: { type, names: failed.map(({ name }) => name) } },
      ),
    );
  } else if (!confirmed) {
    const seen = forward.map(({ name, outcome }) => ({
      name,
      answer: outcome.status,
      addresses:
        outcome.status === 'answer'
          ? outcome.records.flatMap((record) => ('value' in record ? [record.value] : []))
          : [],
    }));
    findings.push(
      finding(
        domain,
        CODES.fcrdnsFailed,
        'critical',
        `Forward-confirmed reverse DNS fails for ${ip}: its PTR name ${candidates.join(', ')} does not resolve back to it (${seen.map((entry) => `${entry.name} → ${entry.addresses.length > 0 ? entry.addresses.join(', ') : entry.answer}`).join('; ')}).`,
        { ...base, data: { ptr: names, forward: seen } },
      ),
    );
  }
  if (findings.length > 0) return { findings };
  return { findings, summary: { ip, hostname, ptr: names, fcrdns: true } };
}
