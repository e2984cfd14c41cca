/**
 * After a run: compare with alert state, publish when there is something to say, then save state.
 * State is written only after a successful publish, so a failed publish is retried next run.
 */
import type { NotifySettings } from '../config/global.ts';
import type { Report } from '../findings.ts';
import type { Redactor } from '../redact.ts';
import type { StateStore } from '../state/store.ts';
import { ALERT_TTL_SECONDS, type AlertDecision, alertPartition, decideAlerts } from './alerts.ts';
import { buildSnsMessage, type SnsMessage } from './message.ts';

/** Where messages go: SNS in AWS, stdout for local runs, an array in tests. */
export interface Publisher {
  publish(message: SnsMessage): Promise<{ messageId?: string | undefined }>;
}

/** What `notifyRun` did. */
export interface NotifyResult {
  decision: AlertDecision;
  published: boolean;
  messageId?: string;
}

/** Decides, publishes and records the alert state of one report. */
export async function notifyRun(
  report: Report,
  options: {
    settings: NotifySettings;
    state: StateStore;
    publisher: Publisher;
    now: Date;
    redactor: Redactor;
  },
): Promise<NotifyResult> {
  const partition = alertPartition(report.job);
  const previous = await options.state.list(partition);
  const decision = decideAlerts(report, previous, options.settings, options.now);
  let published = false;
  let messageId: string | undefined;
  if (decision.shouldNotify) {
    const result = await options.publisher.publish(buildSnsMessage(report, decision, options.redactor));
    published = true;
    messageId = result.messageId;
  }
  await options.state.putMany(
    partition,
    decision.writes.map((item) => ({ key: item.key, value: options.redactor.redactValue(item.value) })),
    {
      ttlSeconds: ALERT_TTL_SECONDS,
    },
  );
  for (const key of decision.deletes) await options.state.delete(partition, key);
  return messageId === undefined ? { decision, published } : { decision, published, messageId };
}
