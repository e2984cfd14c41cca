import { makeHandler } from '#shared/handler.ts';
import { definition } from './job.ts';

export const handler = makeHandler(definition);
