/** check-mail-servers: an SMTP conversation with each configured mail server, on every run. */
import { mapBounded } from '#shared/concurrency.ts';
import { DnsClient } from '#shared/dns/client.ts';
import type { Finding } from '#shared/findings.ts';
import type { JobDefinition } from '#shared/job.ts';
import { assessConversation, targetLabel } from './assess.ts';
import { type MailServersSection, mailServersSchema } from './config.ts';
import { holdConversation } from './conversation.ts';
import { lookupPtr, type PtrResult, resolveTargets } from './targets.ts';

/** The check-mail-servers job. */
export const definition: JobDefinition<MailServersSection> = {
  name: 'check-mail-servers',
  section: 'mailServers',
  description:
    'SMTP conversation with each mail server: banner vs PTR, EHLO, STARTTLS, AUTH, open relay (never DATA)',
  schema: mailServersSchema,
  runsLocally: true,
  // Only DNS and SMTP: no AWS API is called.
  permissions: () => [],
  async run(context) {
    const config = context.config;
    const dns = new DnsClient({ servers: config.resolver ?? context.global.resolver });
    const resolved = await resolveTargets(config.servers, dns, config.ipv6);
    const ptrs = new Map<string, Promise<PtrResult>>();
    const ptrOf = (address: string) => {
      let pending = ptrs.get(address);
      if (!pending) {
        pending = lookupPtr(address, dns);
        ptrs.set(address, pending);
      }
      return pending;
    };
    const settings = {
      heloName: config.heloName,
      relaySender: config.relaySender,
      relayRecipient: config.relayRecipient,
      connectTimeoutMs: config.connectTimeoutMs,
      replyTimeoutMs: config.replyTimeoutMs,
      signal: context.deadline.signal,
    };
    const { results, notStarted } = await mapBounded(
      resolved.targets,
      config.concurrency,
      async (target) => {
        const [observation, ptr] = await Promise.all([
          holdConversation(target, settings),
          ptrOf(target.address),
        ]);
        context.logger.debug('SMTP conversation', {
          target: targetLabel(target),
          address: target.address,
          transcript: observation.transcript.map(
            (line) => `${line.from === 'client' ? 'C' : 'S'}: ${line.line}`,
          ),
        });
        return assessConversation(target, observation, ptr, {
          slowBannerMs: config.slowBannerMs,
          connectTimeoutMs: config.connectTimeoutMs,
          replyTimeoutMs: config.replyTimeoutMs,
          inLambda: context.runtime.inLambda,
        });
      },
      context.deadline,
    );
    const findings: Finding[] = [...resolved.findings, ...results.flat()];
    const count = (code: string) => findings.filter((finding) => finding.code === code).length;
    return {
      findings,
      stats: {
        servers: resolved.servers,
        conversations: results.length,
        openRelays: count('smtp.open-relay'),
        healthy: count('smtp.ok'),
        dnsQueries: dns.stats.queries,
      },
      ...(notStarted.length > 0
        ? {
            incomplete: {
              message: `${notStarted.length} of ${resolved.targets.length} mail server conversations were not started before the deadline.`,
              data: { notReached: notStarted.map((target) => `${targetLabel(target)} (${target.address})`) },
            },
          }
        : {}),
    };
  },
};
