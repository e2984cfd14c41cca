/** The volumes in scope of the audit: attached to selected instances, or selected directly. */
import { DescribeVolumesCommand, type EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { describeSelectedInstances } from '#shared/ec2/instances.ts';
import type { ScopedVolume } from './assess.ts';
import type { BackupsSection } from './config.ts';

/** Volumes to audit, and configured instances or volumes that do not exist. */
export interface Scope {
  volumes: Map<string, ScopedVolume>;
  missingInstances: string[];
  missingVolumes: string[];
}

/** Resolves the section's selectors to volumes (paginated; unknown ids are reported, not fatal). */
export async function resolveScope(
  ec2: EC2Client,
  config: BackupsSection,
  signal?: AbortSignal,
): Promise<Scope> {
  const volumes = new Map<string, ScopedVolume>();
  const scope: Scope = { volumes, missingInstances: [], missingVolumes: [] };
  if (config.instances.length > 0 || config.instanceTags !== undefined) {
    const instances = await describeSelectedInstances(
      ec2,
      { ids: config.instances, tags: config.instanceTags },
      signal,
    );
    scope.missingInstances = config.instances.filter((id) => !instances.has(id));
    for (const instance of instances.values()) {
      for (const volume of instance.volumes) {
        if (volume.boot && !config.includeBootVolume) continue;
        volumes.set(volume.volumeId, {
          volumeId: volume.volumeId,
          instanceId: instance.id,
          device: volume.deviceName,
          ...(instance.name === undefined ? {} : { name: instance.name }),
        });
      }
    }
  }
  const queries: Filter[][] = [];
  for (let at = 0; at < config.volumes.length; at += 200) {
    queries.push([{ Name: 'volume-id', Values: config.volumes.slice(at, at + 200) }]);
  }
  if (config.volumeTags !== undefined) {
    queries.push(
      Object.entries(config.volumeTags).map(([key, values]) => ({ Name: `tag:${key}`, Values: values })),
    );
  }
  const seen = new Set<string>();
  for (const filters of queries) {
    let nextToken: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeVolumesCommand({ Filters: filters, MaxResults: 500, NextToken: nextToken }),
        signal === undefined ? {} : { abortSignal: signal },
      );
      for (const volume of page.Volumes ?? []) {
        if (volume.VolumeId === undefined) continue;
        seen.add(volume.VolumeId);
        if (volumes.has(volume.VolumeId)) continue;
        const attachment = volume.Attachments?.[0];
        const name = volume.Tags?.find((tag) => tag.Key === 'Name')?.Value;
        volumes.set(volume.VolumeId, {
          volumeId: volume.VolumeId,
          ...(attachment?.InstanceId === undefined ? {} : { instanceId: attachment.InstanceId }),
          ...(attachment?.Device === undefined ? {} : { device: attachment.Device }),
          ...(name === undefined ? {} : { name }),
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  scope.missingVolumes = config.volumes.filter((id) => !seen.has(id));
  return scope;
}
