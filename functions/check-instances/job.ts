/** check-instances: EC2 scheduled events (retirement, stop, reboot, maintenance) and impaired status checks. */
import { EC2Client } from '@aws-sdk/client-ec2';
import { awsClient } from '#shared/aws.ts';
import type { Finding } from '#shared/findings.ts';
import type { JobDefinition } from '#shared/job.ts';
import { type InstancesSection, instancesSchema } from './config.ts';
import { classifyInstanceStatus } from './events.ts';
import { describeStatuses, selectInstances } from './inventory.ts';

const JOB = 'check-instances';

/** The check-instances job. */
export const definition: JobDefinition<InstancesSection> = {
  name: JOB,
  section: 'instances',
  description: 'EC2 scheduled events (retirement, stop, reboot, maintenance) and impaired status checks',
  schema: instancesSchema,
  runsLocally: false,
  permissions: () => [{ actions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceStatus'], resources: ['*'] }],
  async run(context) {
    const ec2 = awsClient(EC2Client);
    const { names, missing } = await selectInstances(ec2, context.config, context.deadline);
    const statuses = await describeStatuses(ec2, [...names.keys()]);
    const now = context.now();
    const findings: Finding[] = [];
    for (const status of statuses) {
      findings.push(
        ...classifyInstanceStatus(
          status,
          names.get(status.InstanceId ?? ''),
          context.config.criticalWithinDays,
          now,
        ),
      );
    }
    for (const instanceId of missing) {
      findings.push({
        job: JOB,
        code: 'instance.not-found',
        target: instanceId,
        severity: 'warning',
        message: `${instanceId} is configured but does not exist in ${context.runtime.region ?? 'this region'} (terminated or mistyped): remove it from watchkeeper.yml or fix the id.`,
        data: { instanceId, region: context.runtime.region },
      });
    }
    if (names.size === 0 && missing.length === 0) {
      findings.push({
        job: JOB,
        code: 'instance.none-matched',
        target: JOB,
        severity: 'info',
        message: 'No EC2 instance matches the configured ids and tags, so none was checked.',
        data: { instanceIds: context.config.instanceIds, tags: context.config.tags },
      });
    }
    const events = findings.filter((finding) => finding.code === 'instance.scheduled-event').length;
    return {
      findings,
      stats: { instances: statuses.length, scheduledEvents: events, missing: missing.length },
    };
  },
};
