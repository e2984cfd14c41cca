/**
 * From per-address assessments to findings for one endpoint: a problem every address shares is
 * one finding (its addresses in `data`); a problem only some addresses have is one finding per
 * address (subject = the IP), so a single bad load-balancer node is named. Different leaf
 * certificates across addresses are `certificate.divergent`; a healthy endpoint gets one `ok`.
 */
import type { Finding } from '#shared/findings.ts';
import type { AddressAssessment, AddressIssue, LeafFacts } from './assess.ts';
import { humanDate, humanDuration } from './expiry.ts';

/** The job name on every finding. */
export const JOB = 'check-certificates';

/** Probe and DNS outcomes of one endpoint. */
export interface EndpointOutcome {
  /** `host:port` as configured (the finding target). */
  target: string;
  /** SNI sent, or undefined for IP-literal endpoints. */
  servername: string | undefined;
  protocol: string;
  assessments: AddressAssessment[];
  /** Findings about resolution itself (no address, partial DNS failure). */
  resolutionFindings: Finding[];
}

function issueKey(issue: AddressIssue): string {
  return `${issue.code}\u0000${issue.severity}\u0000${issue.describe('\u0001')}`;
}

/** Findings for one endpoint. */
export function endpointFindings(outcome: EndpointOutcome): Finding[] {
  const findings: Finding[] = [...outcome.resolutionFindings];
  const probed = outcome.assessments.filter((assessment) => !assessment.aborted);
  const groups = new Map<string, { issue: AddressIssue; addresses: string[] }>();
  for (const assessment of probed) {
    for (const issue of assessment.issues) {
      const key = issueKey(issue);
      const group = groups.get(key) ?? { issue, addresses: [] };
      if (!group.addresses.includes(assessment.address)) group.addresses.push(assessment.address);
      groups.set(key, group);
    }
  }
  const common = { job: JOB, target: outcome.target };
  for (const { issue, addresses } of groups.values()) {
    if (addresses.length === probed.length) {
      findings.push({
        ...common,
        code: issue.code,
        severity: issue.severity,
        message: issue.describe(outcome.target),
        data: { ...issue.data, addresses, protocol: outcome.protocol, sni: outcome.servername ?? null },
      });
    } else {
      for (const address of addresses) {
        findings.push({
          ...common,
          subject: address,
          code: issue.code,
          severity: issue.severity,
          message: issue.describe(`${outcome.target} at ${address}`),
          data: { ...issue.data, address, protocol: outcome.protocol, sni: outcome.servername ?? null },
        });
      }
    }
  }

  const connected = probed.flatMap((assessment) =>
    assessment.leaf ? [{ address: assessment.address, leaf: assessment.leaf }] : [],
  );
  const fingerprints = new Map<string, { leaf: LeafFacts; addresses: string[] }>();
  for (const { address, leaf } of connected) {
    const entry = fingerprints.get(leaf.fingerprint256) ?? { leaf, addresses: [] };
    entry.addresses.push(address);
    fingerprints.set(leaf.fingerprint256, entry);
  }
  if (fingerprints.size > 1) {
    const variants = [...fingerprints.values()].sort((a, b) =>
      a.leaf.notAfter.localeCompare(b.leaf.notAfter),
    );
    findings.push({
      ...common,
      code: 'certificate.divergent',
      severity: 'warning',
      message: `${outcome.target} serves ${fingerprints.size} different certificates across ${connected.length} addresses (a half-deployed renewal?): ${variants
        .map((variant) => `${variant.addresses.join(', ')} until ${humanDate(variant.leaf.notAfter)}`)
        .join('; ')}.`,
      data: {
        protocol: outcome.protocol,
        variants: variants.map((variant) => ({
          addresses: variant.addresses,
          fingerprint256: variant.leaf.fingerprint256,
          serialNumber: variant.leaf.serialNumber,
          notAfter: variant.leaf.notAfter,
          issuer: variant.leaf.issuer,
        })),
      },
    });
  }

  const problems = findings.some(
    (finding) => finding.severity === 'warning' || finding.severity === 'critical',
  );
  const [first] = connected;
  if (!problems && first) {
    const leaf = first.leaf;
    const notChecked = probed.length - connected.length;
    const spread =
      connected.length > 2
        ? `, on all ${connected.length} addresses`
        : connected.length === 2
          ? ', on both addresses'
          : notChecked > 0
            ? `, on ${first.address}`
            : '';
    findings.push({
      ...common,
      code: 'certificate.ok',
      severity: 'ok',
      message: `The certificate of ${outcome.target} is valid for ${humanDuration(leaf.expiry.secondsLeft)} (until ${humanDate(
        leaf.notAfter,
      )}), issued by ${leaf.issuer}${spread}${notChecked > 0 ? `; ${notChecked} address${notChecked === 1 ? '' : 'es'} not checked` : ''}.`,
      data: {
        daysLeft: leaf.daysLeft,
        notAfter: leaf.notAfter,
        notBefore: leaf.notBefore,
        subject: leaf.subject,
        issuer: leaf.issuer,
        fingerprint256: leaf.fingerprint256,
        serialNumber: leaf.serialNumber,
        chainExpiry: leaf.pathExpiry ?? null,
        tls: leaf.tls,
        protocol: outcome.protocol,
        sni: outcome.servername ?? null,
        addresses: connected.map((entry) => entry.address),
      },
    });
  }
  return findings;
}
