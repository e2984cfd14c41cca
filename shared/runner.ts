/**
 * Runs a job and always produces a report. The Lambda handler, the CLI and the tests all go
 * through here, so a crash becomes a `job.failed` finding and a deadline becomes `job.incomplete`
 * the same way everywhere.
 */

import { COMMON_CODES, type Finding, type Report, sortFindings, worstSeverity } from './findings.ts';
import type { JobContext, JobDefinition } from './job.ts';

/** Everything `runJob` needs: the job, its validated section, and the rest of its context. */
export type RunInput<C> = Omit<JobContext<C>, 'job' | 'config'> & {
  definition: JobDefinition<C>;
  section: C;
};

/** The report, and the error when the job crashed (the handler re-throws it after notifying). */
export interface RunResult {
  report: Report;
  error?: Error;
}

/** Runs the job; never throws. */
export async function runJob<C>(input: RunInput<C>): Promise<RunResult> {
  const { definition } = input;
  const startedAt = input.now();
  const { definition: _definition, section, ...rest } = input;
  const context: JobContext<C> = { ...rest, job: definition.name, config: section };
  let findings: Finding[];
  let stats: Record<string, number>;
  let error: Error | undefined;
  try {
    const outcome = await definition.run(context);
    findings = [...outcome.findings];
    stats = { ...outcome.stats };
    if (outcome.incomplete) {
      findings.push({
        job: definition.name,
        code: COMMON_CODES.incomplete,
        target: definition.name,
        severity: 'warning',
        message: outcome.incomplete.message,
        ...(outcome.incomplete.data ? { data: outcome.incomplete.data } : {}),
      });
    }
  } catch (caught) {
    error = caught instanceof Error ? caught : new Error(String(caught));
    input.logger.error('job crashed', { error: error.message, stack: error.stack });
    findings = [failedFinding(definition.name, error)];
    stats = {};
  }
  const finishedAt = input.now();
  stats['durationMs'] = finishedAt.getTime() - startedAt.getTime();
  const sorted = sortFindings(findings);
  const report: Report = {
    job: definition.name,
    runId: input.runId,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    status: worstSeverity(sorted),
    findings: sorted,
    stats,
  };
  return error ? { report, error } : { report };
}

/** The `job.failed` finding for a crash: critical, with the error's name and message. */
export function failedFinding(job: string, error: Error): Finding {
  return {
    job,
    code: COMMON_CODES.failed,
    target: job,
    severity: 'critical',
    message: `The job crashed and checked nothing: ${error.name}: ${error.message}`,
    data: { error: error.name, reason: error.message },
  };
}
