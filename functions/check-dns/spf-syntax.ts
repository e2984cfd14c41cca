/**
 * SPF record syntax (RFC 7208 §4.5, §5, §6, §7 and the ABNF of §12): which TXT strings are SPF
 * records, and the terms of one record with every syntax error named. Pure.
 */
import { isIP } from 'node:net';

/** Result qualifiers. */
export type Qualifier = '+' | '-' | '~' | '?';

/** Mechanisms defined by RFC 7208 §5. */
export type MechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

/** One directive of a record. */
export interface Directive {
  qualifier: Qualifier;
  mechanism: MechanismName;
  /** The domain-spec (include, a, mx, ptr, exists) or network (ip4, ip6), without the CIDR. */
  value?: string;
  /** The term as written. */
  text: string;
}

/** A parsed SPF record. */
export interface ParsedSpf {
  directives: Directive[];
  redirect?: string;
  exp?: string;
  /** One sentence per syntax error; a record with errors is a permerror for receivers. */
  errors: string[];
}

const VERSION = /^v=spf1(?: |$)/i;
const MECHANISMS: ReadonlySet<string> = new Set(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
const MACRO = /%\{[slodiphcrtv]\d*r?[.\-+,/_=]*\}|%%|%_|%-/gi;
const MODIFIER_NAME = /^[a-z][a-z0-9_.-]*$/i;

/** Whether a TXT string is an SPF record (RFC 7208 §4.5: "v=spf1" then a space or the end). */
export function isSpfRecord(text: string): boolean {
  return VERSION.test(text);
}

/** Whether a domain-spec contains macros (then it cannot be followed without a message). */
export function hasMacro(domainSpec: string): boolean {
  return domainSpec.includes('%');
}

/** Why a domain-spec is invalid, or undefined when it is valid. */
export function domainSpecError(spec: string): string | undefined {
  if (spec === '') return 'is empty';
  if (!/^[\x21-\x7e]+$/.test(spec)) return 'contains characters outside visible ASCII';
  const withoutMacros = spec.replace(MACRO, '');
  if (withoutMacros.includes('%')) return 'has a malformed macro (a "%" not followed by {...}, %, _ or -)';
  // Without a trailing macro, the name must end in a valid top label (RFC 7208 §7.1 domain-end).
  if (!/%\{[^}]*\}$/.test(spec)) {
    const labels = spec.replace(/\.$/, '').split('.');
    const top = labels.at(-1) ?? '';
    if (labels.length < 2 && !hasMacro(spec)) return 'is not a fully qualified domain name';
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(top) || /^\d+$/.test(top))
      return `ends in "${top}", which is not a valid top-level label`;
    if (!hasMacro(spec) && labels.some((label) => label.length === 0 || label.length > 63))
      return 'has an empty label or a label longer than 63 characters';
  }
  return undefined;
}

function splitCidr(value: string): { base: string; cidr4?: string; cidr6?: string } {
  const dual = /^(.*?)(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(value);
  const result: { base: string; cidr4?: string; cidr6?: string } = { base: dual?.[1] ?? value };
  if (dual?.[2] !== undefined) result.cidr4 = dual[2];
  if (dual?.[3] !== undefined) result.cidr6 = dual[3];
  return result;
}

function checkDirective(directive: Directive, argument: string | undefined, errors: string[]): void {
  const { mechanism, text } = directive;
  const fail = (why: string) => errors.push(`"${text}" ${why}`);
  switch (mechanism) {
    case 'all':
      if (argument !== undefined) fail('takes no argument');
      return;
    case 'include':
    case 'exists': {
      if (argument === undefined || argument === '') {
        fail(`needs a domain (${mechanism}:<domain>)`);
        return;
      }
      const why = domainSpecError(argument);
      if (why) fail(`has a domain that ${why}`);
      directive.value = argument;
      return;
    }
    case 'a':
    case 'mx':
    case 'ptr': {
      // a, mx: [":" domain-spec] [dual-cidr]; a bare "/24" follows the name directly (a/24).
      const raw = argument ?? '';
      const { base, cidr4, cidr6 } = mechanism === 'ptr' ? { base: raw } : splitCidr(raw);
      if (cidr4 !== undefined && (Number(cidr4) > 32 || /^0\d/.test(cidr4)))
        fail(`has an IPv4 prefix length /${cidr4} outside 0-32`);
      if (cidr6 !== undefined && (Number(cidr6) > 128 || /^0\d/.test(cidr6)))
        fail(`has an IPv6 prefix length //${cidr6} outside 0-128`);
      if (base !== '') {
        const why = domainSpecError(base);
        if (why) fail(`has a domain that ${why}`);
        directive.value = base;
      } else if (argument === '') {
        fail('has an empty domain');
      }
      return;
    }
    case 'ip4': {
      const [network = '', length, extra] = (argument ?? '').split('/');
      if (isIP(network) !== 4) fail('needs an IPv4 address (ip4:192.0.2.0/24)');
      else if (extra !== undefined || (length !== undefined && !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(length)))
        fail('has an IPv4 prefix length outside 0-32');
      directive.value = argument ?? '';
      return;
    }
    case 'ip6': {
      const [network = '', length, extra] = (argument ?? '').split('/');
      if (isIP(network) !== 6) fail('needs an IPv6 address (ip6:2001:db8::/32)');
      else if (
        extra !== undefined ||
        (length !== undefined && !/^(?:\d|[1-9]\d|1[01]\d|12[0-8])$/.test(length))
      )
        fail('has an IPv6 prefix length outside 0-128');
      directive.value = argument ?? '';
      return;
    }
  }
}

/** Parses one SPF record (which must start with v=spf1) into directives and modifiers. */
export function parseSpf(record: string): ParsedSpf {
  const result: ParsedSpf = { directives: [], errors: [] };
  if (!isSpfRecord(record)) {
    result.errors.push('the record does not start with "v=spf1"');
    return result;
  }
  const terms = record
    .slice('v=spf1'.length)
    .split(' ')
    .filter((term) => term !== '');
  for (const term of terms) {
    const modifier = /^([^:/=]+)=(.*)$/.exec(term);
    if (modifier) {
      const name = (modifier[1] ?? '').toLowerCase();
      const value = modifier[2] ?? '';
      if (!MODIFIER_NAME.test(name)) {
        result.errors.push(`"${term}" is not a valid modifier name`);
        continue;
      }
      if (name === 'redirect' || name === 'exp') {
        if (result[name] !== undefined) result.errors.push(`"${name}=" appears more than once`);
        const why = domainSpecError(value);
        if (why) result.errors.push(`"${term}" has a domain that ${why}`);
        result[name] = value;
      } else if (/[^\x21-\x7e]/.test(value)) {
        result.errors.push(`"${term}" has characters outside visible ASCII`);
      }
      // Unknown modifiers are ignored by receivers (RFC 7208 §6).
      continue;
    }
    const qualified = /^[+\-~?]/.test(term);
    const qualifier = (qualified ? term[0] : '+') as Qualifier;
    const body = qualified ? term.slice(1) : term;
    const nameMatch = /^([a-z0-9]+)(.*)$/i.exec(body);
    const name = (nameMatch?.[1] ?? '').toLowerCase();
    const rest = nameMatch?.[2] ?? '';
    if (!MECHANISMS.has(name) || (rest !== '' && !rest.startsWith(':') && !rest.startsWith('/'))) {
      result.errors.push(`"${term}" is not a known mechanism (a receiver returns permerror)`);
      continue;
    }
    const mechanism = name as MechanismName;
    const argument = rest === '' ? undefined : rest.startsWith(':') ? rest.slice(1) : rest;
    const directive: Directive = { qualifier, mechanism, text: term };
    if (rest.startsWith('/') && mechanism !== 'a' && mechanism !== 'mx') {
      result.errors.push(`"${term}" is not a known mechanism (a receiver returns permerror)`);
      continue;
    }
    // "a/24" and "mx//64" put a CIDR on the current domain; checkDirective sees an empty name.
    checkDirective(directive, argument, result.errors);
    result.directives.push(directive);
  }
  return result;
}
