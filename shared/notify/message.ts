/**
 * The SNS message of a run: `MessageStructure: 'json'` with a plain-text `email` digest and the
 * Report JSON as `default`, attributes for filter policies, secrets redacted, and always under
 * SNS's 256 KB limit (the finding lists are cut with a count of what was left out).
 */
import { type Report, type Severity, worstSeverity } from '../findings.ts';
import type { Redactor } from '../redact.ts';
import type { AlertDecision } from './alerts.ts';
import { renderDigest, renderSubject } from './digest.ts';

/** SNS's limit for a whole message, attributes included. */
export const SNS_MAX_BYTES = 262_144;
/** Room kept for attributes, subject and JSON envelope overhead. */
const BUDGET_BYTES = SNS_MAX_BYTES - 8_192;

/** The fields of an SNS Publish call that watchkeeper sets. */
export interface SnsMessage {
  Subject: string;
  Message: string;
  MessageStructure: 'json';
  MessageAttributes: Record<string, { DataType: 'String' | 'String.Array'; StringValue: string }>;
}

/** Builds the message; `decision` absent means "everything in the report is news" (mode always, CLI). */
export function buildSnsMessage(
  report: Report,
  decision: AlertDecision | undefined,
  redactor: Redactor,
): SnsMessage {
  const notable = decision
    ? decision.tracked
        .filter((entry) => entry.change !== 'ongoing' && entry.change !== 'pending')
        .map((entry) => entry.finding)
    : report.findings.filter((finding) => finding.severity !== 'ok');
  const resolvedCodes = decision?.resolved.map((item) => item.code) ?? [];
  const severity: Severity = notable.length > 0 ? worstSeverity(notable) : 'ok';
  const codes = [...new Set([...notable.map((finding) => finding.code), ...resolvedCodes])].sort();

  const render = (limit: number | undefined) => {
    const shown = limit === undefined ? report.findings : report.findings.slice(0, limit);
    const body = {
      ...report,
      findings: shown,
      ...(shown.length < report.findings.length
        ? { omittedFindings: report.findings.length - shown.length }
        : {}),
      ...(decision ? { resolved: decision.resolved.slice(0, limit) } : {}),
    };
    const email = renderDigest(report, {
      ...(decision ? { decision } : {}),
      ...(limit === undefined ? {} : { limit }),
    });
    return redactor.redact(JSON.stringify({ default: JSON.stringify(body), email }));
  };

  let limit: number | undefined;
  let message = render(limit);
  while (Buffer.byteLength(message) > BUDGET_BYTES && limit !== 0) {
    limit = Math.floor((limit ?? report.findings.length) / 2);
    message = render(limit);
  }

  return {
    Subject: redactor.redact(renderSubject(report, decision)),
    Message: message,
    MessageStructure: 'json',
    MessageAttributes: {
      job: { DataType: 'String', StringValue: report.job },
      severity: { DataType: 'String', StringValue: severity },
      status: { DataType: 'String', StringValue: report.status },
      codes: { DataType: 'String.Array', StringValue: JSON.stringify(codes.length > 0 ? codes : ['none']) },
    },
  };
}
