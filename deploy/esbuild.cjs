// esbuild options for serverless-esbuild: ESM bundles with the AWS SDK included, minified, with
// source maps, and watchkeeper.yml embedded (it was validated by deploy/stack.ts in the same run).
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const { parse } = require('yaml');

module.exports = (serverless) => {
  const configPath = resolve(serverless.serviceDir, process.env.WATCHKEEPER_CONFIG ?? 'watchkeeper.yml');
  const config = parse(readFileSync(configPath, 'utf8')) ?? {};
  return {
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outputFileExtension: '.mjs',
    exclude: [],
    mainFields: ['module', 'main'],
    // CommonJS dependencies that call require() for Node built-ins need it inside an ESM bundle.
    banner: {
      js: "import { createRequire as __wkRequire } from 'node:module'; const require = __wkRequire(import.meta.url);",
    },
    define: { 'process.env.WATCHKEEPER_EMBEDDED_CONFIG': JSON.stringify(JSON.stringify(config)) },
    loader: { '.sh': 'text' },
    // Lambda always has the role's credentials in the environment: drop the full provider chain.
    alias: {
      '@aws-sdk/credential-provider-node': './deploy/lambda-credentials.ts',
      // Charset converters that only mail decoding needs (see the stub); test/deploy/bundle-smoke runs SPF through the bundle.
      'iconv-lite': './deploy/stubs/no-charset-conversion.cjs',
      'encoding-japanese': './deploy/stubs/no-charset-conversion.cjs',
    },
  };
};
