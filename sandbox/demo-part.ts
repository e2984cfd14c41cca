/**
 * One job's contribution to `npm run demo`: DNS records for the shared demo DNS server, and local
 * servers started for the run. The demo starts the DNS server first, then every part, then runs
 * each job through the CLI code path with the sections the parts return.
 */
import type { ZoneRecord } from './dns-server.ts';

/** What a started part hands back to the demo. */
export interface StartedDemoPart {
  /** The job's config section for the demo run (validated by the job's schema). */
  section: Record<string, unknown>;
  /** Environment variables the job needs for this run (an S3 endpoint, say). */
  env?: Record<string, string>;
  /** Optional second run, e.g. the S3 fix run after the audit: a section to run with afterwards. */
  followUp?: { title: string; section: Record<string, unknown> };
  close(): Promise<void>;
}

/** A job's sandbox part. */
export interface DemoPart {
  job: string;
  /** Records this part needs in the demo DNS zone (served on loopback). */
  records?: ZoneRecord[];
  /** Starts the part's servers. `resolver` is the demo DNS server's `host:port`. */
  start(context: { resolver: string }): Promise<StartedDemoPart>;
}
