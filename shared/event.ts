/**
 * What an invocation event means: an EventBridge scheduled event (its id becomes the run id, so a
 * retried delivery is recognisable), or a manual `sls invoke --data '{...}'` whose object overrides
 * the job's section for that run.
 */

/** The parts of an event the runner uses. */
export interface Invocation {
  runId: string;
  scheduled: boolean;
  overrides?: Record<string, unknown>;
}

/** Interprets an invocation event; anything that is not an object is rejected with a clear message. */
export function parseInvocationEvent(event: unknown, fallbackRunId: string): Invocation {
  if (event === undefined || event === null || event === '')
    return { runId: fallbackRunId, scheduled: false };
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new TypeError(
      `the invocation event must be a JSON object (an EventBridge event or section overrides), got ${Array.isArray(event) ? 'an array' : typeof event}`,
    );
  }
  const record = event as Record<string, unknown>;
  if (record['source'] === 'aws.events' || record['detail-type'] === 'Scheduled Event') {
    const id = typeof record['id'] === 'string' && record['id'] !== '' ? record['id'] : fallbackRunId;
    return { runId: id, scheduled: true };
  }
  const entries = Object.entries(record);
  return entries.length === 0
    ? { runId: fallbackRunId, scheduled: false }
    : { runId: fallbackRunId, scheduled: false, overrides: record };
}
