/** The sandbox parts `npm run demo` starts, in the order their jobs run (certificates first). */
import { demoPart as contentTypes } from './audit-content-types.ts';
import { demoPart as blocklists } from './check-blocklists.ts';
import { demoPart as certificates } from './check-certificates.ts';
import { demoPart as dns } from './check-dns.ts';
import { demoPart as mailServers } from './check-mail-servers.ts';
import type { DemoPart } from './demo-part.ts';

/** Every job's demo part. */
// biome-ignore format: one part per line
export const demoParts: readonly DemoPart[] = [
  certificates,
  dns,
  blocklists,
  mailServers,
  contentTypes,
];
