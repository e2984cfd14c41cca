/**
 * The SMTP conversation with one address and port: greeting, EHLO, STARTTLS, the open-relay test,
 * RSET, QUIT — what an administrator used to type into telnet. It only observes; `assess.ts`
 * decides what the observations mean. There is deliberately no way to send DATA from here.
 */
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SmtpClient, type TranscriptLine } from '#shared/smtp/client.ts';
import { SmtpError, type SmtpErrorKind } from '#shared/smtp/errors.ts';
import { authMechanisms, describeReply, type SmtpReply, supports } from '#shared/smtp/reply.ts';
import type { PortMode } from './config.ts';

/** One conversation to hold: an address of a configured server, on one port. */
export interface ProbeTarget {
  /** The configured (or MX) host name, or the IP address when configured as one. */
  host: string;
  /** The address connected to. */
  address: string;
  port: number;
  mode: PortMode;
  relayTest: boolean;
  expectedHostname?: string | undefined;
  /** The mail domain whose MX this host is, when it came from `{domain}`. */
  domain?: string | undefined;
}

/** How to talk. */
export interface ConversationSettings {
  heloName: string;
  relaySender: string;
  relayRecipient: string;
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Where and why a conversation broke off. */
export interface ConversationFailure {
  stage: string;
  kind: SmtpErrorKind;
  message: string;
}

/** The outcome of the relay test. Only a 2xx to RCPT is `open`. */
export interface RelayResult {
  verdict: 'open' | 'closed' | 'inconclusive';
  /** The command whose reply decided it. */
  decidedBy: 'MAIL' | 'RCPT';
  reply: string;
}

/** What TLS looked like on this port. */
export interface TlsObservation {
  implicit: boolean;
  /** Negotiated protocol (`TLSv1.3`) when the handshake succeeded. */
  protocol?: string | undefined;
  cipher?: string | undefined;
  /** Why STARTTLS or the handshake failed. */
  failure?: string | undefined;
}

/** Everything seen in one conversation (plain data, kept in findings' `data`). */
export interface Observation {
  connected: boolean;
  failure?: ConversationFailure;
  greeting?: { code: number; lines: string[]; domain: string | undefined; elapsedMs: number };
  /** The name in the EHLO (or HELO) reply before TLS. */
  ehloDomain?: string | undefined;
  /** True when EHLO was refused and HELO was used (no ESMTP, so no STARTTLS either). */
  heloOnly?: boolean;
  extensions: string[];
  starttlsOffered: boolean;
  /** SASL mechanisms offered on the unencrypted connection (should be none). */
  authBeforeTls: string[];
  /** SASL mechanisms offered over TLS. */
  authAfterTls?: string[];
  tls?: TlsObservation;
  relay?: RelayResult;
  transcript: TranscriptLine[];
}

/** Holds the conversation and reports what happened; never throws for network or protocol trouble. */
export async function holdConversation(
  target: ProbeTarget,
  settings: ConversationSettings,
): Promise<Observation> {
  const observation: Observation = {
    connected: false,
    extensions: [],
    starttlsOffered: false,
    authBeforeTls: [],
    transcript: [],
  };
  const servername = isIP(target.host) === 0 ? target.host : undefined;
  let smtp: SmtpClient;
  try {
    smtp = await SmtpClient.connect({
      host: target.address,
      port: target.port,
      timeoutMs: settings.connectTimeoutMs,
      ...(settings.signal ? { signal: settings.signal } : {}),
      // Certificates are check-certificates' business: here TLS only has to work.
      ...(target.mode === 'smtps'
        ? { tls: { rejectUnauthorized: false, ...(servername ? { servername } : {}) } }
        : {}),
    });
  } catch (error) {
    observation.failure = failureOf(error, 'connect');
    return observation;
  }
  observation.connected = true;
  let relayNeedsPlainConnection = false;
  try {
    if (smtp.secure) observation.tls = { implicit: true, ...describeTls(smtp.socket as TLSSocket) };
    if (!(await greet(smtp, settings, observation))) return observation;
    const introduced = await introduce(smtp, settings);
    observation.ehloDomain = introduced.domain;
    observation.heloOnly = introduced.heloOnly;
    observation.extensions = introduced.extensions;
    observation.starttlsOffered = introduced.starttls;
    if (smtp.secure) observation.authAfterTls = introduced.auth;
    else observation.authBeforeTls = introduced.auth;

    if (introduced.starttls && !smtp.secure) {
      const upgraded = await upgrade(smtp, servername, settings, observation);
      if (upgraded) {
        const again = await introduce(smtp, settings);
        observation.authAfterTls = again.auth;
      } else {
        relayNeedsPlainConnection = !smtp.usable;
      }
    }
    if (target.relayTest && !relayNeedsPlainConnection) observation.relay = await relayProbe(smtp, settings);
  } catch (error) {
    observation.failure = failureOf(error, 'conversation');
  } finally {
    await smtp.quit();
    observation.transcript.push(...smtp.transcript);
  }
  if (target.relayTest && relayNeedsPlainConnection && !observation.failure) {
    const relay = await relayOnFreshConnection(target, settings, observation);
    if (relay) observation.relay = relay;
  }
  return observation;
}

async function greet(
  smtp: SmtpClient,
  settings: ConversationSettings,
  observation: Observation,
): Promise<boolean> {
  const greeting = await smtp.greeting(settings.replyTimeoutMs);
  observation.greeting = {
    code: greeting.reply.code,
    lines: greeting.reply.lines,
    domain: greeting.domain,
    elapsedMs: Math.round(greeting.elapsedMs),
  };
  return greeting.reply.code === 220;
}

interface Introduction {
  domain: string | undefined;
  heloOnly: boolean;
  extensions: string[];
  starttls: boolean;
  auth: string[];
}

/** EHLO, falling back to HELO for a server that does not speak ESMTP. */
async function introduce(smtp: SmtpClient, settings: ConversationSettings): Promise<Introduction> {
  const ehlo = await smtp.ehlo(settings.heloName, settings.replyTimeoutMs);
  closingReply(ehlo.reply, 'EHLO');
  if (ehlo.capabilities) {
    return {
      domain: ehlo.capabilities.domain,
      heloOnly: false,
      extensions: [...ehlo.capabilities.extensions.keys()],
      starttls: supports(ehlo.capabilities, 'STARTTLS'),
      auth: authMechanisms(ehlo.capabilities),
    };
  }
  const helo = await smtp.helo(settings.heloName, settings.replyTimeoutMs);
  closingReply(helo, 'HELO');
  if (helo.code !== 250) {
    throw new SmtpError('protocol', `the server refused both EHLO and HELO (${describeReply(helo)})`, {
      stage: 'HELO',
    });
  }
  return {
    domain: helo.lines[0]?.trim().split(/\s+/)[0]?.toLowerCase(),
    heloOnly: true,
    extensions: [],
    starttls: false,
    auth: [],
  };
}

/** STARTTLS and the handshake; records a failure instead of throwing for TLS trouble. */
async function upgrade(
  smtp: SmtpClient,
  servername: string | undefined,
  settings: ConversationSettings,
  observation: Observation,
): Promise<boolean> {
  try {
    const started = await smtp.startTls(
      { rejectUnauthorized: false, ...(servername ? { servername } : {}) },
      settings.replyTimeoutMs,
    );
    if (!started.accepted) {
      observation.tls = { implicit: false, failure: `STARTTLS was refused: ${describeReply(started.reply)}` };
      return false;
    }
    observation.tls = { implicit: false, ...describeTls(started.tlsSocket) };
    return true;
  } catch (error) {
    if (error instanceof SmtpError && error.stage === 'tls') {
      observation.tls = { implicit: false, failure: error.message };
      return false;
    }
    throw error;
  }
}

function describeTls(socket: TLSSocket): Pick<TlsObservation, 'protocol' | 'cipher'> {
  return { protocol: socket.getProtocol() ?? undefined, cipher: socket.getCipher()?.name };
}

/**
 * The open-relay test: MAIL FROM an external sender, RCPT TO an external recipient, then RSET.
 * Any 2xx to RCPT means the server would relay. DATA is never sent.
 */
export async function relayProbe(smtp: SmtpClient, settings: ConversationSettings): Promise<RelayResult> {
  const mail = await smtp.command(`MAIL FROM:<${settings.relaySender}>`, settings.replyTimeoutMs);
  closingReply(mail, 'MAIL');
  let result: RelayResult;
  if (mail.code >= 300) {
    result = { verdict: mailRefusalVerdict(mail), decidedBy: 'MAIL', reply: describeReply(mail) };
  } else {
    const rcpt = await smtp.command(`RCPT TO:<${settings.relayRecipient}>`, settings.replyTimeoutMs);
    closingReply(rcpt, 'RCPT');
    result = { verdict: rcptVerdict(rcpt), decidedBy: 'RCPT', reply: describeReply(rcpt) };
  }
  await smtp.rset(settings.replyTimeoutMs);
  return result;
}

/** 421 means the server is closing the channel (RFC 5321 §3.8): nothing after it is an answer. */
function closingReply(reply: SmtpReply, stage: string): void {
  if (reply.code === 421) {
    throw new SmtpError('closed', `the server is closing the connection: ${describeReply(reply)}`, { stage });
  }
}

/** A refused MAIL settles the question only when the server demands authentication (or TLS) first. */
function mailRefusalVerdict(reply: SmtpReply): RelayResult['verdict'] {
  const text = reply.lines.join(' ');
  if (reply.code === 530 || /\b5\.7\.0\b/.test(text) || /auth|starttls/i.test(text)) return 'closed';
  return 'inconclusive';
}

/**
 * Postfix (and others, delaying rejections to RCPT) refuse there for reasons that say nothing about
 * relaying: this probe's HELO name, its address, or the test sender. Then the test is inconclusive.
 */
const NOT_ABOUT_RELAYING = /(helo command|client host|sender address) rejected/i;

/** 2xx relays; 5xx refuses; 4xx is a refusal only when it says it is about relaying (soft_bounce). */
function rcptVerdict(reply: SmtpReply): RelayResult['verdict'] {
  if (reply.code >= 200 && reply.code < 300) return 'open';
  // The recipient address is often echoed (<relay-test@…>): match the refusal wording, not the address.
  const text = reply.lines.join(' ').replace(/<[^>]*>/g, '');
  if (NOT_ABOUT_RELAYING.test(text)) return 'inconclusive';
  if (reply.code >= 500) return 'closed';
  if (/\b4\.7\.1\b/.test(text) || /relay(ing)?( access)? (denied|not permitted|prohibited)/i.test(text))
    return 'closed';
  return 'inconclusive';
}

/** After a failed TLS handshake the connection is gone: run the relay test on a new one. */
async function relayOnFreshConnection(
  target: ProbeTarget,
  settings: ConversationSettings,
  observation: Observation,
): Promise<RelayResult | undefined> {
  let smtp: SmtpClient | undefined;
  try {
    smtp = await SmtpClient.connect({
      host: target.address,
      port: target.port,
      timeoutMs: settings.connectTimeoutMs,
      ...(settings.signal ? { signal: settings.signal } : {}),
    });
    const greeting = await smtp.greeting(settings.replyTimeoutMs);
    if (greeting.reply.code !== 220) return undefined;
    await introduce(smtp, settings);
    return await relayProbe(smtp, settings);
  } catch (error) {
    observation.failure = failureOf(error, 'relay test');
    return undefined;
  } finally {
    if (smtp) {
      await smtp.quit();
      observation.transcript.push(...smtp.transcript);
    }
  }
}

function failureOf(error: unknown, fallbackStage: string): ConversationFailure {
  if (error instanceof SmtpError) {
    return { stage: error.stage ?? fallbackStage, kind: error.kind, message: error.message };
  }
  // Anything else is a programming error: let the runner report job.failed.
  throw error;
}
