import type { InstanceStatus } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { classifyInstanceStatus } from '#functions/check-instances/events.ts';

const now = new Date('2026-11-22T06:00:00Z');
const inDays = (days: number) => new Date(now.getTime() + days * 86_400_000);

function status(overrides: Partial<InstanceStatus>): InstanceStatus {
  return {
    InstanceId: 'i-0123456789abcdef0',
    InstanceState: { Name: 'running', Code: 16 },
    SystemStatus: { Status: 'ok' },
    InstanceStatus: { Status: 'ok' },
    ...overrides,
  };
}

describe('classifyInstanceStatus', () => {
  it('reports a retirement due within the critical window as critical, with the window and what to do', () => {
    const [finding] = classifyInstanceStatus(
      status({
        Events: [
          {
            Code: 'instance-retirement',
            Description: 'The instance is running on degraded hardware',
            NotBefore: inDays(5),
            NotAfter: inDays(6),
          },
        ],
      }),
      'web-1',
      14,
      now,
    );
    expect(finding).toMatchObject({
      code: 'instance.scheduled-event',
      severity: 'critical',
      subject: 'instance-retirement',
    });
    expect(finding?.message).toBe(
      'web-1 (i-0123456789abcdef0) has a scheduled instance-retirement from 2026-11-27 06:00 UTC to 2026-11-28 06:00 UTC (in 5 days): stop and start it (not reboot) before then to move it to healthy hardware; data on instance-store volumes is lost, so copy it first.',
    );
    expect(finding?.data).toMatchObject({ daysUntil: 5 });
  });

  it('warns of a retirement further away than the critical window', () => {
    const [finding] = classifyInstanceStatus(
      status({ Events: [{ Code: 'instance-stop', Description: 'stop', NotBefore: inDays(20) }] }),
      undefined,
      14,
      now,
    );
    expect(finding).toMatchObject({ severity: 'warning', subject: 'instance-stop' });
  });

  it('warns of reboots and maintenance however near', () => {
    const findings = classifyInstanceStatus(
      status({
        Events: [
          { Code: 'system-reboot', Description: 'scheduled reboot', NotBefore: inDays(1) },
          { Code: 'system-maintenance', Description: 'power maintenance', NotBefore: inDays(2) },
        ],
      }),
      undefined,
      14,
      now,
    );
    expect(findings.map((finding) => [finding.subject, finding.severity])).toEqual([
      ['system-reboot', 'warning'],
      ['system-maintenance', 'warning'],
    ]);
  });

  it('ignores completed and canceled events', () => {
    const findings = classifyInstanceStatus(
      status({
        Events: [
          {
            Code: 'instance-reboot',
            Description: '[Completed] The instance was rebooted',
            NotBefore: inDays(-3),
          },
          { Code: 'instance-stop', Description: '[Canceled] no longer needed', NotBefore: inDays(1) },
        ],
      }),
      undefined,
      14,
      now,
    );
    expect(findings.map((finding) => finding.code)).toEqual(['instance.ok']);
  });

  it('reports an impaired system check as critical, naming the failing check', () => {
    const [finding] = classifyInstanceStatus(status({ SystemStatus: { Status: 'impaired' } }), 'db', 14, now);
    expect(finding).toMatchObject({ code: 'instance.status-impaired', severity: 'critical' });
    expect(finding?.message).toMatch(
      /^db \(i-0123456789abcdef0\) fails its system status check: the host has a problem/,
    );
  });

  it('does not judge the status checks of a stopped instance', () => {
    const findings = classifyInstanceStatus(
      status({
        InstanceState: { Name: 'stopped', Code: 80 },
        SystemStatus: { Status: 'not-applicable' },
        InstanceStatus: { Status: 'not-applicable' },
      }),
      undefined,
      14,
      now,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      code: 'instance.ok',
      severity: 'ok',
      message: 'i-0123456789abcdef0 is stopped and has no scheduled events.',
    });
  });

  it('reports missing status data as unknown, never as healthy', () => {
    const [finding] = classifyInstanceStatus(
      status({ InstanceStatus: { Status: 'insufficient-data' } }),
      undefined,
      14,
      now,
    );
    expect(finding).toMatchObject({ code: 'instance.status-unknown', severity: 'unknown' });
  });
});
