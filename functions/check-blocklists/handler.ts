import { makeHandler } from '#shared/handler.ts';
import { ssmSecretResolver } from '#shared/secrets.ts';
import { definition } from './job.ts';

/** Lambda entry point of check-blocklists; the DQS key (`dqsKey: ssm:/...`) is read from SSM. */
export const handler = makeHandler(definition, { secrets: ssmSecretResolver });
