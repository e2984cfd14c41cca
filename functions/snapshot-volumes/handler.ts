import { makeHandler } from '#shared/handler.ts';
import { definition } from './job.ts';

/** Lambda entry point of snapshot-volumes. */
export const handler = makeHandler(definition);
