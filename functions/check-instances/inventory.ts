/**
 * Which instances to look at, and their status: DescribeInstances selects by id or tag (the status
 * API cannot filter by tag) and gives the Name tags, DescribeInstanceStatus with
 * IncludeAllInstances gives events and checks for running and stopped instances alike.
 */
import {
  type EC2Client,
  type Filter,
  type InstanceStatus,
  paginateDescribeInstanceStatus,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import type { Deadline } from '#shared/job.ts';
import type { InstancesSection } from './config.ts';

/** Instances selected by the section: id → Name tag. */
export interface SelectedInstances {
  names: Map<string, string | undefined>;
  /** Configured ids that do not exist (or are terminated). */
  missing: string[];
}

/** Selects instances by the section's ids and tag filters. */
export async function selectInstances(
  ec2: EC2Client,
  section: InstancesSection,
  deadline: Deadline,
): Promise<SelectedInstances> {
  const filters: Filter[] = [];
  if (section.instanceIds.length > 0) filters.push({ Name: 'instance-id', Values: section.instanceIds });
  for (const [key, values] of Object.entries(section.tags ?? {}))
    filters.push({ Name: `tag:${key}`, Values: values });
  const names = new Map<string, string | undefined>();
  const pages = paginateDescribeInstances(
    { client: ec2, pageSize: 1000 },
    filters.length > 0 ? { Filters: filters } : {},
  );
  for await (const page of pages) {
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (!instance.InstanceId || instance.State?.Name === 'terminated') continue;
        names.set(instance.InstanceId, instance.Tags?.find((tag) => tag.Key === 'Name')?.Value);
      }
    }
    if (deadline.reached()) break;
  }
  const missing = section.instanceIds.filter((id) => !names.has(id));
  return { names, missing };
}

/** Status of the given instances, in batches of 100 ids (the API's limit per call). */
export async function describeStatuses(
  ec2: EC2Client,
  instanceIds: readonly string[],
): Promise<InstanceStatus[]> {
  const statuses: InstanceStatus[] = [];
  for (let start = 0; start < instanceIds.length; start += 100) {
    const pages = paginateDescribeInstanceStatus(
      { client: ec2 },
      { InstanceIds: instanceIds.slice(start, start + 100), IncludeAllInstances: true },
    );
    for await (const page of pages) statuses.push(...(page.InstanceStatuses ?? []));
  }
  return statuses;
}
