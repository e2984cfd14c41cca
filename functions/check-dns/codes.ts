/** The finding codes of check-dns (public: SNS subscribers filter on them) and one way to build them. */
import type { Finding, Severity } from '#shared/findings.ts';

/** Job name, as findings carry it. */
export const JOB = 'check-dns';

/** Every code this job emits. */
export const CODES = {
  ok: 'dns.ok',
  recordMissing: 'dns.record-missing',
  recordMismatch: 'dns.record-mismatch',
  lookupFailed: 'dns.lookup-failed',
  mxMissing: 'mail.mx-missing',
  mxHostNoAddress: 'mail.mx-host-no-address',
  ptrMissing: 'mail.ptr-missing',
  ptrMismatch: 'mail.ptr-mismatch',
  fcrdnsFailed: 'mail.fcrdns-failed',
  spfMissing: 'mail.spf-missing',
  spfMultiple: 'mail.spf-multiple',
  spfInvalid: 'mail.spf-invalid',
  spfTooManyLookups: 'mail.spf-too-many-lookups',
  spfVoidLookups: 'mail.spf-void-lookups',
  spfPermissive: 'mail.spf-permissive',
  spfSenderNotAuthorized: 'mail.spf-sender-not-authorized',
  dmarcMissing: 'mail.dmarc-missing',
  dmarcInvalid: 'mail.dmarc-invalid',
  dmarcPolicyNone: 'mail.dmarc-policy-none',
  dkimMissing: 'mail.dkim-missing',
  dkimWeakKey: 'mail.dkim-weak-key',
} as const;

/** One code of this job. */
export type DnsCode = (typeof CODES)[keyof typeof CODES];

/** A finding of this job about `target` (the configured domain). */
export function finding(
  target: string,
  code: DnsCode,
  severity: Severity,
  message: string,
  extra: { subject?: string | undefined; data?: Record<string, unknown> } = {},
): Finding {
  const result: Finding = { job: JOB, code, target, severity, message };
  if (extra.subject !== undefined) result.subject = extra.subject;
  if (extra.data !== undefined) result.data = extra.data;
  return result;
}
