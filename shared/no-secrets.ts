/** Secrets errors, and the resolver of jobs without secrets (kept apart from the SSM client for bundle size). */

/** A secret reference that could not be resolved, naming the reference (never the value). */
export class SecretError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretError';
  }
}

/** The resolver of jobs that take no secrets: any reference is a configuration mistake. */
export async function noSecrets(reference: string): Promise<string> {
  throw new SecretError(`this job takes no secrets, but "${reference}" was referenced`);
}
