/**
 * SMTP reply parsing (RFC 5321 §4.2): multi-line replies, greetings and EHLO capabilities. Pure
 * functions and a push parser, so the socket code stays small and the edge cases are unit-tested.
 */
import { SmtpError } from './errors.ts';

/** One complete server reply, possibly assembled from several `ddd-` continuation lines. */
export interface SmtpReply {
  /** The three-digit reply code, e.g. 250. */
  code: number;
  /** The text of each line, without the code and the separator. */
  lines: string[];
}

/** Longest reply line accepted (RFC 5321 allows 512; real servers send longer banners). */
export const MAX_LINE_BYTES = 8192;
/** Most lines accepted in one reply, so a hostile server cannot grow memory without bound. */
export const MAX_REPLY_LINES = 1000;

const LINE = /^([2-5][0-9][0-9])(?:([ -])(.*))?$/s;

/** True for a 2xx reply. */
export function isPositive(reply: SmtpReply): boolean {
  return reply.code >= 200 && reply.code < 300;
}

/** The reply as the server sent it, one line per entry (`250-mx.example.com`, `250 SIZE`). */
export function formatReply(reply: SmtpReply): string[] {
  return reply.lines.map(
    (text, index) => `${reply.code}${index === reply.lines.length - 1 ? ' ' : '-'}${text}`,
  );
}

/** The reply text on one line, for messages: `250 2.1.5 Ok`, continuation lines joined by ` / `. */
export function describeReply(reply: SmtpReply): string {
  return `${reply.code} ${reply.lines.join(' / ')}`.trim();
}

/**
 * Incremental reply parser: feed it whatever the socket delivers (a chunk may hold half a line or
 * several replies) and it returns the replies completed by that chunk. Accepts CRLF and bare LF.
 * Throws `SmtpError` (kind `protocol`) on a malformed line, a code that changes inside a
 * multi-line reply, or an over-long line or reply.
 */
export class ReplyParser {
  #pending: Buffer = Buffer.alloc(0);
  #code: number | undefined;
  #lines: string[] = [];

  /** Bytes received that do not yet form a complete reply (lines of an unfinished reply included). */
  get bufferedBytes(): number {
    return this.#pending.length + this.#lines.reduce((sum, line) => sum + line.length, 0);
  }

  /** Parses `chunk` and returns the replies it completed, in order. */
  push(chunk: Buffer): SmtpReply[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const replies: SmtpReply[] = [];
    for (;;) {
      const end = this.#pending.indexOf(0x0a);
      if (end < 0) break;
      const raw = this.#pending.subarray(0, end).toString('utf8');
      this.#pending = this.#pending.subarray(end + 1);
      const reply = this.#line(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
      if (reply) replies.push(reply);
    }
    if (this.#pending.length > MAX_LINE_BYTES) {
      throw new SmtpError('protocol', `server sent a line longer than ${MAX_LINE_BYTES} bytes`);
    }
    return replies;
  }

  #line(line: string): SmtpReply | undefined {
    if (line.length > MAX_LINE_BYTES) {
      throw new SmtpError('protocol', `server sent a line longer than ${MAX_LINE_BYTES} bytes`);
    }
    const match = LINE.exec(line);
    if (!match?.[1]) {
      throw new SmtpError(
        'protocol',
        `server sent a malformed reply line: ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const code = Number(match[1]);
    if (this.#code !== undefined && code !== this.#code) {
      throw new SmtpError(
        'protocol',
        `server changed the reply code from ${this.#code} to ${code} inside a multi-line reply`,
      );
    }
    this.#code = code;
    this.#lines.push(match[3] ?? '');
    if (this.#lines.length > MAX_REPLY_LINES) {
      throw new SmtpError('protocol', `server sent a reply of more than ${MAX_REPLY_LINES} lines`);
    }
    if (match[2] === '-') return undefined;
    const reply = { code, lines: this.#lines };
    this.#code = undefined;
    this.#lines = [];
    return reply;
  }
}

/** What a 220 greeting says about the server. */
export interface SmtpGreeting {
  reply: SmtpReply;
  /** The host name the server announces (first word of the first line), lower-cased, no trailing dot. */
  domain: string | undefined;
}

/** Extracts the announced domain from a greeting (`220 mx.example.com ESMTP Postfix`). */
export function parseGreeting(reply: SmtpReply): SmtpGreeting {
  return { reply, domain: announcedName(reply.lines[0]) };
}

/** EHLO capabilities (RFC 5321 §4.1.1.1): the server's name and its extension keywords. */
export interface EhloCapabilities {
  /** The host name in the first line of the EHLO reply, lower-cased, no trailing dot. */
  domain: string | undefined;
  /** Extension keyword (upper-case) → its parameters, in the order the server listed them. */
  extensions: ReadonlyMap<string, readonly string[]>;
}

/**
 * Parses a 250 EHLO reply. The first line is `domain [greeting]`; every other line is an
 * extension keyword with parameters. `AUTH=LOGIN PLAIN` (the pre-standard form some servers still
 * send) is folded into `AUTH`.
 */
export function parseEhloReply(reply: SmtpReply): EhloCapabilities {
  const extensions = new Map<string, string[]>();
  for (const line of reply.lines.slice(1)) {
    const [keyword = '', ...params] = line.trim().split(/\s+/);
    if (keyword === '') continue;
    const [name = '', inline] = keyword.toUpperCase().startsWith('AUTH=')
      ? ['AUTH', keyword.slice(5)]
      : [keyword.toUpperCase(), undefined];
    const all = inline ? [inline, ...params] : params;
    const existing = extensions.get(name);
    if (existing) {
      for (const param of all) if (!existing.includes(param)) existing.push(param);
    } else {
      extensions.set(name, all);
    }
  }
  return { domain: announcedName(reply.lines[0]), extensions };
}

/** True when the capabilities list `keyword` (case-insensitive), e.g. `STARTTLS`. */
export function supports(capabilities: EhloCapabilities, keyword: string): boolean {
  return capabilities.extensions.has(keyword.toUpperCase());
}

/** The SASL mechanisms the server offers (`AUTH PLAIN LOGIN` → `['PLAIN', 'LOGIN']`), upper-case. */
export function authMechanisms(capabilities: EhloCapabilities): string[] {
  return (capabilities.extensions.get('AUTH') ?? []).map((mechanism) => mechanism.toUpperCase());
}

function announcedName(line: string | undefined): string | undefined {
  const word = line?.trim().split(/\s+/)[0];
  if (!word) return undefined;
  // An address literal ([192.0.2.1]) is legal in EHLO replies but names no host.
  return word.toLowerCase().replace(/\.$/, '');
}
