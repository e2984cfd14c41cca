/**
 * What a conversation means: pure rules from an observation (and the address's PTR names) to
 * findings. Kept apart from the sockets so every rule is tested on plain data.
 */
import type { Finding, Severity } from '#shared/findings.ts';
import type { Observation, ProbeTarget } from './conversation.ts';
import type { PtrResult } from './targets.ts';

const JOB = 'check-mail-servers';

/** Settings the rules need. */
export interface AssessSettings {
  slowBannerMs: number;
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  /** Running in AWS Lambda, where outbound port 25 is blocked by default. */
  inLambda: boolean;
}

/** The `target` of a conversation's findings: `host:port`. */
export function targetLabel(target: ProbeTarget): string {
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}

/** Turns one conversation into findings: problems, `unknown`s, or a single `smtp.ok`. */
export function assessConversation(
  target: ProbeTarget,
  observation: Observation,
  ptr: PtrResult | undefined,
  settings: AssessSettings,
): Finding[] {
  const label = targetLabel(target);
  const base = (
    code: string,
    severity: Severity,
    message: string,
    data: Record<string, unknown> = {},
  ): Finding => ({
    job: JOB,
    code,
    target: label,
    subject: target.address,
    severity,
    message,
    data: {
      address: target.address,
      port: target.port,
      mode: target.mode,
      ...(target.domain ? { domain: target.domain } : {}),
      ...data,
    },
  });
  const at = target.host === target.address ? label : `${label} (${target.address})`;

  if (!observation.connected) return [unreachable(target, observation, settings, base, at)];
  const greeting = observation.greeting;
  if (!greeting) {
    const failure = observation.failure;
    const messages: Record<string, string> = {
      aborted: `The run's deadline stopped the conversation with ${at} before its greeting.`,
      closed: `${at} accepted the connection but closed it without a greeting, so it receives no mail.`,
      protocol: `${at} does not speak SMTP (${failure?.message ?? 'malformed greeting'}): is another service on this port?`,
    };
    return [
      base(
        'smtp.unreachable',
        failure?.kind === 'aborted' ? 'unknown' : 'critical',
        messages[failure?.kind ?? ''] ??
          `${at} accepted the connection but sent no complete greeting within ${seconds(settings.replyTimeoutMs)}, so senders give up on it.`,
        { failure },
      ),
    ];
  }

  const findings: Finding[] = [];
  const plaintextPort = target.mode !== 'smtps';
  const strict = target.mode === 'submission';

  if (greeting.code !== 220) {
    const refusesUs = greeting.code === 554;
    findings.push(
      base(
        'smtp.unreachable',
        refusesUs ? 'warning' : 'critical',
        refusesUs
          ? `${at} greets with ${greeting.code} (${greeting.lines.join(' ')}): it refuses this probe's address, so nothing else could be checked.`
          : `${at} greets with ${greeting.code} (${greeting.lines.join(' ')}): it is not accepting mail.`,
        { greeting },
      ),
    );
    return findings;
  }

  if (greeting.elapsedMs > settings.slowBannerMs) {
    findings.push(
      base(
        'smtp.slow-banner',
        'warning',
        `${at} took ${seconds(greeting.elapsedMs)} to finish its greeting (threshold ${seconds(settings.slowBannerMs)}); senders with short timeouts give up and mail is delayed.`,
        { greetingMs: greeting.elapsedMs, thresholdMs: settings.slowBannerMs, greeting: greeting.lines },
      ),
    );
  }

  findings.push(...bannerFindings(target, observation, ptr, base, at));

  // Only once EHLO (or HELO) was answered is there anything to say about STARTTLS and AUTH.
  const introduced = observation.heloOnly !== undefined;
  if (plaintextPort && introduced) {
    if (!observation.starttlsOffered) {
      findings.push(
        base(
          'smtp.starttls-missing',
          strict ? 'critical' : 'warning',
          strict
            ? `${at} does not offer STARTTLS, so submitted mail and passwords cross the network in clear text.`
            : `${at} does not offer STARTTLS${observation.heloOnly ? ' (it does not even speak ESMTP)' : ''}, so mail to it travels unencrypted and senders that require TLS cannot deliver.`,
          { extensions: observation.extensions, heloOnly: observation.heloOnly ?? false },
        ),
      );
    } else if (observation.tls?.failure) {
      findings.push(
        base(
          'smtp.starttls-failed',
          strict ? 'critical' : 'warning',
          `${at} offers STARTTLS but TLS could not be started: ${observation.tls.failure}.`,
          { tlsFailure: observation.tls.failure },
        ),
      );
    }
    if (observation.authBeforeTls.length > 0) {
      findings.push(
        base(
          'smtp.auth-before-tls',
          strict ? 'critical' : 'warning',
          `${at} offers AUTH (${observation.authBeforeTls.join(' ')}) before STARTTLS, inviting clients to send passwords in clear text.`,
          { mechanisms: observation.authBeforeTls },
        ),
      );
    }
  }

  const relay = observation.relay;
  if (relay?.verdict === 'open') {
    findings.push(
      base(
        'smtp.open-relay',
        'critical',
        `${at} is an open relay: it accepted a recipient outside its domains from an outside sender without authentication (${relay.reply}), so spammers can use it and it will be blocklisted.`,
        { relay },
      ),
    );
  } else if (relay?.verdict === 'inconclusive') {
    findings.push(
      base(
        'smtp.relay-inconclusive',
        'unknown',
        relay.decidedBy === 'MAIL'
          ? `Could not tell whether ${at} is an open relay: it refused the test sender (${relay.reply}); set relaySender to an address it accepts.`
          : `Could not tell whether ${at} is an open relay: it refused the test recipient for another reason or only for now (${relay.reply}); check heloName and relaySender if this persists.`,
        { relay },
      ),
    );
  }

  if (observation.failure) {
    const failure = observation.failure;
    findings.push(
      base(
        'smtp.conversation-failed',
        failure.kind === 'aborted' ? 'unknown' : 'warning',
        failure.kind === 'aborted'
          ? `The run's deadline stopped the conversation with ${at} at ${failure.stage}, so not every check ran.`
          : `${at} broke off the conversation at ${failure.stage} (${failure.message}), so not every check ran${target.relayTest && !relay ? ', including the relay test' : ''}.`,
        { failure },
      ),
    );
  }

  if (findings.length === 0) {
    findings.push(
      base(
        'smtp.ok',
        'ok',
        `${at} greets as ${greeting.domain ?? '?'} in ${seconds(greeting.elapsedMs)}${describeTlsState(target, observation)}${relay ? ', and refuses to relay' : ''}.`,
        {
          greetingMs: greeting.elapsedMs,
          banner: greeting.domain,
          ehloName: observation.ehloDomain,
          ptrNames: ptr?.status === 'names' ? ptr.names : [],
          extensions: observation.extensions,
          tls: observation.tls,
          authAfterTls: observation.authAfterTls ?? [],
          ...(relay ? { relay } : {}),
        },
      ),
    );
  }
  return findings;
}

type FindingFactory = (
  code: string,
  severity: Severity,
  message: string,
  data?: Record<string, unknown>,
) => Finding;

function unreachable(
  target: ProbeTarget,
  observation: Observation,
  settings: AssessSettings,
  base: FindingFactory,
  at: string,
): Finding {
  const failure = observation.failure;
  if (settings.inLambda && target.port === 25 && failure?.kind !== 'aborted') {
    return base(
      'smtp.port25-blocked',
      'unknown',
      `Could not reach ${at} from AWS Lambda, where outbound port 25 is blocked unless the function runs in a VPC with a NAT gateway and AWS has lifted the limit; probe port 587 instead, or run this check with the watchkeeper CLI from a host allowed to use port 25.`,
      { failure },
    );
  }
  if (failure?.kind === 'timeout') {
    return base(
      'smtp.unreachable',
      'unknown',
      `No TCP connection to ${at} within ${seconds(settings.connectTimeoutMs)}: the server is down or a firewall drops the traffic (possibly near this probe).`,
      { failure },
    );
  }
  if (failure?.kind === 'aborted') {
    return base('smtp.unreachable', 'unknown', `The run's deadline stopped the connection to ${at}.`, {
      failure,
    });
  }
  if (failure?.kind === 'tls') {
    return base(
      'smtp.starttls-failed',
      'critical',
      `The implicit TLS handshake with ${at} failed (${failure.message}), so clients cannot submit mail on it.`,
      { failure },
    );
  }
  return base(
    'smtp.unreachable',
    'critical',
    `Cannot connect to ${at}: ${failure?.message ?? 'connection failed'}.`,
    { failure },
  );
}

/** Banner and EHLO names against the PTR names of the address (and the expected host name). */
function bannerFindings(
  target: ProbeTarget,
  observation: Observation,
  ptr: PtrResult | undefined,
  base: FindingFactory,
  at: string,
): Finding[] {
  if (!ptr) return [];
  if (ptr.status === 'failed') {
    return [
      base(
        'dns.lookup-failed',
        'unknown',
        `Could not look up the PTR record of ${target.address} (${ptr.detail}), so the banner name was not checked.`,
        { detail: ptr.detail },
      ),
    ];
  }
  const banner = observation.greeting?.domain;
  const ehlo = observation.ehloDomain;
  const expected = target.expectedHostname?.toLowerCase().replace(/\.$/, '');
  const ptrNames = ptr.status === 'names' ? ptr.names : [];
  const problems: string[] = [];
  if (ptr.status === 'none') {
    problems.push(`${target.address} has no PTR record`);
  } else if (expected && !ptrNames.includes(expected)) {
    problems.push(`the PTR record of ${target.address} is ${ptrNames.join(', ')}, not ${expected}`);
  }
  const matches = (name: string | undefined) =>
    name !== undefined && (expected ? name === expected : ptrNames.includes(name));
  const reference = expected ?? (ptrNames.length > 0 ? ptrNames.join(', ') : undefined);
  if (!matches(banner) && (ptr.status === 'names' || expected)) {
    problems.push(`the banner names ${banner ?? 'no host'}${reference ? ` instead of ${reference}` : ''}`);
  }
  if (ehlo !== undefined && !matches(ehlo) && (ptr.status === 'names' || expected)) {
    problems.push(`the EHLO reply names ${ehlo}${reference ? ` instead of ${reference}` : ''}`);
  }
  if (problems.length === 0) return [];
  return [
    base(
      'smtp.banner-mismatch',
      'warning',
      `${at}: ${problems.join('; ')}. Receivers compare these names and score mismatches as spam.`,
      { banner, ehloName: ehlo, ptrNames, ...(expected ? { expectedHostname: expected } : {}) },
    ),
  ];
}

function describeTlsState(target: ProbeTarget, observation: Observation): string {
  if (target.mode === 'smtps') return `, speaks ${observation.tls?.protocol ?? 'TLS'}`;
  if (observation.tls?.protocol) return `, offers STARTTLS (${observation.tls.protocol})`;
  return '';
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
