/**
 * Static SPF linting: walks the whole include/redirect tree and counts what RFC 7208 §4.6.4
 * counts. Every include, a, mx, ptr, exists and redirect is one DNS-querying term (limit 10 for
 * the whole evaluation, nested records included); ip4, ip6, all and exp= are not. A term whose
 * query returns NXDOMAIN or an empty answer is a void lookup (limit 2). The address lookups of
 * an mx term's hosts are neither (the bug checkdmarc #197 fixed), an `a` term is void only when
 * the name has neither A nor AAAA records (mailauth #104 counts an IPv6-only miss), and exp= is
 * never counted (EasyDMARC's bug). An evaluator stops at the first match; a monitor must see the
 * worst path, so this walks every branch.
 */
import type { DnsOutcome } from '#shared/dns/client.ts';
import type { Lookup } from '#shared/dns/lookup.ts';
import {
  type Directive,
  hasMacro,
  isSpfRecord,
  type ParsedSpf,
  parseSpf,
  type Qualifier,
} from './spf-syntax.ts';

/** RFC 7208 §4.6.4 limits. */
export const SPF_LOOKUP_LIMIT = 10;
/** RFC 7208 §4.6.4 void lookup limit. */
export const SPF_VOID_LIMIT = 2;
/** More MX hosts than this make an mx term a permerror (RFC 7208 §4.6.4). */
export const SPF_MX_LIMIT = 10;
/** Walking stops counting here, so a runaway tree (loops through macros) cannot take the run. */
const WALK_LOOKUP_CAP = 60;

/** One record in the tree. */
export interface SpfNode {
  domain: string;
  /** How this record was reached from its parent. */
  via: 'top' | 'include' | 'redirect';
  record?: string;
  /** DNS-querying terms of this record itself. */
  lookups: number;
  children: SpfNode[];
}

/** A problem with a record in the tree. */
export interface SpfProblem {
  domain: string;
  message: string;
}

/** What the walk saw. */
export interface SpfLint {
  /** The top-level SPF record(s) found at the domain. */
  records: string[];
  /** TTL of the top-level TXT answer, when there was one. */
  ttl?: number;
  /** NXDOMAIN/NODATA/failed outcome of the top-level TXT lookup when there was no answer. */
  topOutcome: DnsOutcome['status'];
  tree?: SpfNode;
  /** DNS-querying terms in the whole tree. */
  lookups: number;
  /** Terms whose lookups came back empty, with what they were. */
  voidLookups: string[];
  /** Syntax errors, loops, includes without records, too many MX hosts. */
  errors: SpfProblem[];
  /** Lookups that failed (SERVFAIL, timeout ...): the counts are then lower bounds. */
  failures: SpfProblem[];
  /** Terms not followed because their domain holds macros (depends on the message). */
  unresolvable: string[];
  /** True when the walk stopped counting at its safety cap (the count is then a lower bound). */
  truncated: boolean;
  /**
   * What mail from an unlisted address gets: the top record's `all` (or the redirect target's),
   * `+all` reached through an include (which matches everything), or `none` when there is no
   * `all` and no redirect (the default result is neutral).
   */
  catchAll?: { qualifier: Qualifier | 'none'; domain: string; via?: string };
}

interface WalkState {
  lint: SpfLint;
  lookup: Lookup;
}

function isVoid(outcome: DnsOutcome): boolean {
  return outcome.status === 'nxdomain' || outcome.status === 'nodata';
}

function selectSpf(values: readonly string[]): string[] {
  return values.filter(isSpfRecord);
}

/** Walks the SPF tree of `domain` and counts its lookups. Never throws for DNS failures. */
export async function lintSpf(domain: string, lookup: Lookup): Promise<SpfLint> {
  const { values, outcome } = await lookup.txt(domain);
  const records = selectSpf(values);
  const lint: SpfLint = {
    records,
    topOutcome: outcome.status,
    lookups: 0,
    voidLookups: [],
    errors: [],
    failures: [],
    unresolvable: [],
    truncated: false,
  };
  if (outcome.status === 'answer') lint.ttl = Math.min(...outcome.records.map((record) => record.ttl));
  if (outcome.status === 'failed') {
    lint.failures.push({ domain, message: outcome.detail });
    return lint;
  }
  if (records.length !== 1) return lint;
  const record = records[0] as string;
  const state: WalkState = { lint, lookup };
  const node: SpfNode = { domain, via: 'top', record, lookups: 0, children: [] };
  lint.tree = node;
  const catchAll = await walkRecord(state, node, parseSpf(record), [domain]);
  if (catchAll) lint.catchAll = catchAll;
  return lint;
}

/** Fetches and walks an included or redirected record; returns its catch-all for the parent. */
async function walkTarget(
  state: WalkState,
  parent: SpfNode,
  target: string,
  via: 'include' | 'redirect',
  stack: readonly string[],
): Promise<SpfLint['catchAll']> {
  const { lint } = state;
  const name = target.toLowerCase().replace(/\.$/, '');
  if (stack.includes(name)) {
    lint.errors.push({
      domain: stack.at(-1) ?? name,
      message: `${via}:${name} loops back (${[...stack, name].join(' → ')}); receivers hit the lookup limit and return permerror`,
    });
    return undefined;
  }
  const { values, outcome } = await state.lookup.txt(name);
  const node: SpfNode = { domain: name, via, lookups: 0, children: [] };
  parent.children.push(node);
  if (outcome.status === 'failed') {
    lint.failures.push({ domain: name, message: outcome.detail });
    return undefined;
  }
  const records = selectSpf(values);
  if (isVoid(outcome) || records.length === 0) {
    if (isVoid(outcome)) lint.voidLookups.push(`${via}:${name}`);
    lint.errors.push({
      domain: parent.domain,
      message: `${via}:${name} has no SPF record (${outcome.status === 'nxdomain' ? 'the name does not exist' : 'no v=spf1 TXT record'}), which is a permerror`,
    });
    return undefined;
  }
  if (records.length > 1) {
    lint.errors.push({
      domain: name,
      message: `${via}:${name} publishes ${records.length} SPF records, which is a permerror`,
    });
    return undefined;
  }
  node.record = records[0] as string;
  return walkRecord(state, node, parseSpf(node.record), [...stack, name]);
}

async function walkRecord(
  state: WalkState,
  node: SpfNode,
  parsed: ParsedSpf,
  stack: readonly string[],
): Promise<SpfLint['catchAll']> {
  const { lint } = state;
  for (const error of parsed.errors) lint.errors.push({ domain: node.domain, message: error });
  let catchAll: SpfLint['catchAll'];
  let sawAll = false;
  const count = (): boolean => {
    node.lookups += 1;
    lint.lookups += 1;
    if (lint.lookups > WALK_LOOKUP_CAP) lint.truncated = true;
    return !lint.truncated;
  };
  for (const directive of parsed.directives) {
    if (directive.mechanism === 'all') {
      // Terms after `all` are never reached; the first `all` decides.
      // An included +all met earlier has already decided for everyone.
      if (!sawAll && catchAll === undefined)
        catchAll = { qualifier: directive.qualifier, domain: node.domain };
      sawAll = true;
      continue;
    }
    if (!['include', 'a', 'mx', 'ptr', 'exists'].includes(directive.mechanism)) continue;
    if (!count()) return catchAll;
    const target = directive.value ?? node.domain;
    if (hasMacro(target)) {
      lint.unresolvable.push(directive.text);
      continue;
    }
    await walkDirective(state, node, directive, target, stack, (inner) => {
      // An included +all makes the include match every sender: the parent passes everyone.
      if (directive.qualifier === '+' && inner?.qualifier === '+' && !sawAll && catchAll === undefined) {
        catchAll = { qualifier: '+', domain: inner.domain, via: directive.text };
      }
    });
  }
  if (parsed.redirect !== undefined && !sawAll) {
    // redirect= is ignored when the record has an `all` (RFC 7208 §6.1).
    if (!count()) return catchAll;
    if (hasMacro(parsed.redirect)) {
      lint.unresolvable.push(`redirect=${parsed.redirect}`);
      return catchAll;
    }
    const inner = await walkTarget(state, node, parsed.redirect, 'redirect', stack);
    return catchAll ?? inner;
  }
  return catchAll ?? (sawAll ? undefined : { qualifier: 'none', domain: node.domain });
}

async function walkDirective(
  state: WalkState,
  node: SpfNode,
  directive: Directive,
  target: string,
  stack: readonly string[],
  onInclude: (inner: SpfLint['catchAll']) => void,
): Promise<void> {
  const { lint, lookup } = state;
  const failed = (outcome: DnsOutcome) => {
    if (outcome.status === 'failed') lint.failures.push({ domain: target, message: outcome.detail });
    return outcome.status === 'failed';
  };
  switch (directive.mechanism) {
    case 'include':
      onInclude(await walkTarget(state, node, target, 'include', stack));
      return;
    case 'a': {
      const [a, aaaa] = await Promise.all([lookup.query(target, 'A'), lookup.query(target, 'AAAA')]);
      if (failed(a) || failed(aaaa)) return;
      if (isVoid(a) && isVoid(aaaa)) lint.voidLookups.push(directive.text);
      return;
    }
    case 'mx': {
      const mx = await lookup.query(target, 'MX');
      if (failed(mx)) return;
      if (isVoid(mx)) lint.voidLookups.push(directive.text);
      else if (mx.status === 'answer' && mx.records.length > SPF_MX_LIMIT)
        lint.errors.push({
          domain: node.domain,
          message: `"${directive.text}" names ${mx.records.length} MX hosts; more than ${SPF_MX_LIMIT} is a permerror`,
        });
      return;
    }
    case 'exists': {
      const a = await lookup.query(target, 'A');
      if (failed(a)) return;
      if (isVoid(a)) lint.voidLookups.push(directive.text);
      return;
    }
    default:
      // ptr depends on the client's address; it counts as a lookup but cannot be resolved here.
      return;
  }
}
