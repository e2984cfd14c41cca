/**
 * ACM certificates that will not renew by themselves: imported ones (ACM never renews them) and
 * Amazon-issued ones ACM says are ineligible for renewal (not in use, DNS validation gone). ACM's
 * own "Approaching Expiration" events exist, but are best effort and start at 45 days regardless of
 * lifetime; this applies the job's thresholds and lands in the same digest.
 */
import {
  ACMClient,
  type CertificateSummary,
  KeyAlgorithm,
  ListCertificatesCommand,
} from '@aws-sdk/client-acm';
import { awsClient } from '#shared/aws.ts';
import type { Finding } from '#shared/findings.ts';
import type { Thresholds } from './config.ts';
import { assessExpiry, describeExpiry } from './expiry.ts';
import { JOB } from './report.ts';

/** The region's ACM client (one per cold start). */
export function acmClient(): ACMClient {
  return awsClient(ACMClient);
}

/** Lists ISSUED and EXPIRED certificates of every key type (ListCertificates returns only RSA 1024/2048 by default). */
export async function listAcmCertificates(
  client: ACMClient,
  signal?: AbortSignal,
): Promise<CertificateSummary[]> {
  const summaries: CertificateSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListCertificatesCommand({
        CertificateStatuses: ['ISSUED', 'EXPIRED'],
        Includes: { keyTypes: Object.values(KeyAlgorithm) },
        MaxItems: 1000,
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    summaries.push(...(page.CertificateSummaryList ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return summaries;
}

/** Findings for ACM certificates that will not renew and expire within the thresholds. */
export function acmFindings(
  summaries: readonly CertificateSummary[],
  thresholds: Thresholds,
  now: Date,
): Finding[] {
  const findings: Finding[] = [];
  for (const summary of summaries) {
    const imported = summary.Type === 'IMPORTED';
    const ineligible = summary.RenewalEligibility === 'INELIGIBLE';
    if ((!imported && !ineligible) || !summary.NotAfter) continue;
    const notBefore = summary.NotBefore ?? summary.ImportedAt ?? summary.IssuedAt ?? summary.NotAfter;
    const expiry = assessExpiry(notBefore, summary.NotAfter, now, thresholds);
    if (expiry.state === 'ok' || expiry.state === 'not-yet-valid') continue;
    const domain = summary.DomainName ?? 'unnamed';
    const why = imported
      ? 'it was imported, so ACM cannot renew it: import a renewed certificate'
      : 'ACM will not renew it (renewal ineligible: not in use, or its validation no longer works)';
    const inUse = summary.InUse ? ' It is in use.' : '';
    findings.push({
      job: JOB,
      code: expiry.state === 'expired' ? 'certificate.expired' : 'certificate.expiring',
      target: `acm:${domain}`,
      ...(summary.CertificateArn ? { subject: summary.CertificateArn } : {}),
      severity: expiry.state === 'warning' ? 'warning' : 'critical',
      message: `The ACM certificate for ${domain} ${describeExpiry(expiry)}; ${why}.${inUse}`,
      data: {
        certificateArn: summary.CertificateArn ?? null,
        type: summary.Type ?? null,
        renewalEligibility: summary.RenewalEligibility ?? null,
        inUse: summary.InUse ?? null,
        notAfter: expiry.notAfter,
        daysLeft: expiry.daysLeft,
      },
    });
  }
  return findings;
}
