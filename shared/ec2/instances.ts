/** Finds the selected instances and their attached EBS volumes (paginated, by id and by tag). */
import { DescribeInstancesCommand, type EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2';

/** One attached EBS volume. */
export interface AttachedVolume {
  volumeId: string;
  deviceName: string;
  /** The root device: never frozen, excluded unless asked for. */
  boot: boolean;
}

/** An instance as the snapshot and backup jobs need it. */
export interface InstanceInfo {
  id: string;
  name: string | undefined;
  /** pending | running | stopping | stopped | shutting-down | terminated */
  state: string;
  volumes: AttachedVolume[];
}

/** Which instances: explicit ids and/or tag filters (every key must match). */
export interface InstanceSelection {
  ids: readonly string[];
  tags?: Record<string, string[]> | undefined;
}

// Filters rather than InstanceIds: with InstanceIds one unknown id fails the whole call.
const ID_CHUNK = 100;

/** Describes the selected instances; terminated ones are left out. */
export async function describeSelectedInstances(
  ec2: EC2Client,
  selection: InstanceSelection,
  signal?: AbortSignal,
): Promise<Map<string, InstanceInfo>> {
  const found = new Map<string, InstanceInfo>();
  const queries: Filter[][] = [];
  for (let at = 0; at < selection.ids.length; at += ID_CHUNK) {
    queries.push([{ Name: 'instance-id', Values: selection.ids.slice(at, at + ID_CHUNK) }]);
  }
  if (selection.tags !== undefined) {
    queries.push(
      Object.entries(selection.tags).map(([key, values]) => ({ Name: `tag:${key}`, Values: values })),
    );
  }
  for (const filters of queries) {
    let nextToken: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            ...filters,
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
          MaxResults: 1000,
          NextToken: nextToken,
        }),
        signal === undefined ? {} : { abortSignal: signal },
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const info = toInstanceInfo(instance);
          if (info) found.set(info.id, info);
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return found;
}

function toInstanceInfo(instance: Instance): InstanceInfo | undefined {
  if (instance.InstanceId === undefined) return undefined;
  const volumes: AttachedVolume[] = [];
  for (const mapping of instance.BlockDeviceMappings ?? []) {
    const volumeId = mapping.Ebs?.VolumeId;
    if (volumeId === undefined || mapping.DeviceName === undefined) continue;
    volumes.push({
      volumeId,
      deviceName: mapping.DeviceName,
      boot: mapping.DeviceName === instance.RootDeviceName,
    });
  }
  return {
    id: instance.InstanceId,
    name: instance.Tags?.find((tag) => tag.Key === 'Name')?.Value,
    state: instance.State?.Name ?? 'unknown',
    volumes,
  };
}
