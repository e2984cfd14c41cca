/**
 * Secrets are referenced as `ssm:/path` in watchkeeper.yml and fetched from SSM Parameter Store
 * (SecureString, decrypted) at run time, once per cold start. Every fetched value is registered
 * with the run's Redactor so it can never reach a message or a log.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { awsClient } from './aws.ts';
import { SecretError } from './no-secrets.ts';
import type { Redactor } from './redact.ts';

export { SecretError };

const cache = new Map<string, Promise<string>>();

/** Resolves `ssm:/name` references through SSM Parameter Store, cached per process. */
export function ssmSecretResolver(redactor: Redactor): (reference: string) => Promise<string> {
  return async (reference) => {
    const match = /^ssm:(\/[\w./-]+)$/.exec(reference);
    if (!match?.[1])
      throw new SecretError(`"${reference}" is not an SSM reference such as "ssm:/watchkeeper/dqs-key"`);
    const name = match[1];
    let pending = cache.get(name);
    if (!pending) {
      pending = awsClient(SSMClient)
        .send(new GetParameterCommand({ Name: name, WithDecryption: true }))
        .then((output) => {
          const value = output.Parameter?.Value;
          if (!value) throw new SecretError(`SSM parameter ${name} has no value`);
          return value;
        })
        .catch((error: unknown) => {
          cache.delete(name);
          throw error instanceof SecretError
            ? error
            : new SecretError(`could not read SSM parameter ${name}: ${(error as Error).message}`, {
                cause: error,
              });
        });
      cache.set(name, pending);
    }
    const value = await pending;
    redactor.add(value);
    return value;
  };
}
