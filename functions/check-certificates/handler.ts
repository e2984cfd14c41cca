import { makeHandler } from '#shared/handler.ts';
import { definition } from './job.ts';

/** Lambda entry point of check-certificates. */
export const handler = makeHandler(definition);
