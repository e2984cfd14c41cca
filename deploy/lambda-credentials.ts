/**
 * Credentials inside Lambda: the runtime always puts the function role's credentials in the
 * environment, so the bundles replace the SDK's default provider chain (SSO, profiles, IMDS,
 * process, web identity: about 100 KB of code that cannot run there) with the environment provider.
 * The CLI is not bundled and keeps the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** Stands in for `@aws-sdk/credential-provider-node`'s `defaultProvider` in Lambda bundles. */
export const defaultProvider = (_init?: unknown) => fromEnv();
