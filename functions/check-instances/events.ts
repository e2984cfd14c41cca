/**
 * Classifying EC2 instance status into findings: scheduled events (retirement, stop, reboots,
 * maintenance) with what to do about each, and impaired status checks. Pure: no AWS calls.
 */
import type { InstanceStatus } from '@aws-sdk/client-ec2';
import type { Finding, Severity } from '#shared/findings.ts';

const JOB = 'check-instances';
const DAY_MS = 24 * 3600_000;

/** What the user should do about each event code. */
const ADVICE: Record<string, string> = {
  'instance-retirement':
    'stop and start it (not reboot) before then to move it to healthy hardware; data on instance-store volumes is lost, so copy it first',
  'instance-stop':
    'stop and start it (not reboot) before then to move it to healthy hardware, or AWS stops it for you',
  'instance-reboot':
    'reboot it yourself in a quiet hour before then, or reschedule the event in the EC2 console',
  'system-reboot': 'the host reboots; reschedule the event in the EC2 console if the window is bad',
  'system-maintenance':
    'AWS maintains the host network or power; expect a short impact and check the service afterwards',
};

/** The name to show for an instance: `web-1 (i-0abc)` when it has a Name tag. */
export function instanceLabel(instanceId: string, name: string | undefined): string {
  return name ? `${name} (${instanceId})` : instanceId;
}

/** Findings for one instance's status; `now` anchors "due within N days". */
export function classifyInstanceStatus(
  status: InstanceStatus,
  name: string | undefined,
  criticalWithinDays: number,
  now: Date,
): Finding[] {
  const instanceId = status.InstanceId ?? 'unknown-instance';
  const label = instanceLabel(instanceId, name);
  const state = status.InstanceState?.Name ?? 'unknown';
  const findings: Finding[] = [];

  for (const event of status.Events ?? []) {
    const description = event.Description ?? '';
    // Completed and canceled events stay listed for a while; they need nothing from anyone.
    if (/^\[(Completed|Canceled)\]/i.test(description)) continue;
    const code = event.Code ?? 'unknown-event';
    const notBefore = event.NotBefore;
    const dueInMs = notBefore ? notBefore.getTime() - now.getTime() : undefined;
    const stopping = code === 'instance-retirement' || code === 'instance-stop';
    const severity: Severity =
      stopping && (dueInMs === undefined || dueInMs <= criticalWithinDays * DAY_MS) ? 'critical' : 'warning';
    const window = notBefore
      ? `from ${formatUtc(notBefore)}${event.NotAfter ? ` to ${formatUtc(event.NotAfter)}` : ''}`
      : 'at a time AWS has not announced';
    const due = dueInMs === undefined ? '' : dueInMs <= 0 ? ' (due now)' : ` (in ${formatDays(dueInMs)})`;
    findings.push({
      job: JOB,
      code: 'instance.scheduled-event',
      target: instanceId,
      subject: code,
      severity,
      message: `${label} has a scheduled ${code} ${window}${due}: ${ADVICE[code] ?? 'read the event in the EC2 console'}.`,
      data: {
        instanceId,
        name,
        event: code,
        eventId: event.InstanceEventId,
        description,
        notBefore: notBefore?.toISOString(),
        notAfter: event.NotAfter?.toISOString(),
        notBeforeDeadline: event.NotBeforeDeadline?.toISOString(),
        daysUntil: dueInMs === undefined ? undefined : Math.round((dueInMs / DAY_MS) * 10) / 10,
      },
    });
  }

  const system = status.SystemStatus?.Status;
  const instance = status.InstanceStatus?.Status;
  const running = state === 'running';
  if (running && (system === 'impaired' || instance === 'impaired')) {
    const failing = [system === 'impaired' ? 'system' : '', instance === 'impaired' ? 'instance' : '']
      .filter(Boolean)
      .join(' and ');
    const advice =
      system === 'impaired'
        ? 'the host has a problem: stop and start the instance to move it, or wait for AWS to fix it'
        : 'the operating system is not reachable: check the console output, disk, memory and network settings, then reboot';
    findings.push({
      job: JOB,
      code: 'instance.status-impaired',
      target: instanceId,
      severity: 'critical',
      message: `${label} fails its ${failing} status check: ${advice}.`,
      data: {
        instanceId,
        name,
        state,
        systemStatus: system,
        instanceStatus: instance,
        details: statusDetails(status),
      },
    });
  } else if (running && (system === 'insufficient-data' || instance === 'insufficient-data')) {
    findings.push({
      job: JOB,
      code: 'instance.status-unknown',
      target: instanceId,
      severity: 'unknown',
      message: `${label} has no status check result yet (insufficient data), so its health is not known.`,
      data: { instanceId, name, state, systemStatus: system, instanceStatus: instance },
    });
  }

  if (findings.length === 0) {
    findings.push({
      job: JOB,
      code: 'instance.ok',
      target: instanceId,
      severity: 'ok',
      message: running
        ? `${label} is running, passes its status checks and has no scheduled events.`
        : `${label} is ${state} and has no scheduled events.`,
      data: { instanceId, name, state, systemStatus: system, instanceStatus: instance },
    });
  }
  return findings;
}

function statusDetails(status: InstanceStatus): Record<string, string | undefined> {
  const details: Record<string, string | undefined> = {};
  for (const detail of [...(status.SystemStatus?.Details ?? []), ...(status.InstanceStatus?.Details ?? [])]) {
    if (detail.Name) details[detail.Name] = detail.Status;
  }
  return details;
}

function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function formatDays(ms: number): string {
  const hours = Math.round(ms / 3600_000);
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'}`;
  const days = Math.floor(hours / 24);
  return `${days} days`;
}
