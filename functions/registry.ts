/**
 * Every job watchkeeper has, for the CLI (`list`, `run`, `validate`), the configuration schema and
 * the deploy template. Handlers import only their own job, so their bundles stay small.
 */
import type { AnyJobDefinition } from '#shared/job.ts';
import { definition as auditContentTypes } from './audit-content-types/job.ts';
import { definition as checkBackups } from './check-backups/job.ts';
import { definition as checkBlocklists } from './check-blocklists/job.ts';
import { definition as checkCertificates } from './check-certificates/job.ts';
import { definition as checkDns } from './check-dns/job.ts';
import { definition as checkInstances } from './check-instances/job.ts';
import { definition as checkMailServers } from './check-mail-servers/job.ts';
import { definition as snapshotVolumes } from './snapshot-volumes/job.ts';

/** All jobs, in the order `watchkeeper list` prints them. Add one line per job. */
// biome-ignore format: one job per line keeps concurrent additions apart
export const jobs: readonly AnyJobDefinition[] = [
  checkCertificates,
  checkInstances,
  checkBlocklists,
  checkDns,
  checkMailServers,
  auditContentTypes,
  snapshotVolumes,
  checkBackups,
];
