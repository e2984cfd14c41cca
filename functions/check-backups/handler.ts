import { makeHandler } from '#shared/handler.ts';
import { definition } from './job.ts';

/** Lambda entry point of check-backups. */
export const handler = makeHandler(definition);
