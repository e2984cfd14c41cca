// osls resolves ${file(./deploy/stack.cjs):functions} etc. through this function; the stack itself
// is built in TypeScript (deploy/stack.ts) from watchkeeper.yml and the job registry.
// The parameter is resolved first: osls retries the whole function in a later phase when a
// dependency (param:) is not resolvable yet, so only the finished stack is cached.
let stack;
module.exports = async ({ options, resolveVariable }) => {
  const alertEmail = await resolveVariable('param:alertEmail');
  stack ??= import('./stack.ts').then(({ buildStack }) =>
    buildStack({
      configPath: process.env.WATCHKEEPER_CONFIG ?? 'watchkeeper.yml',
      stage: options.stage ?? 'prod',
      ...(alertEmail ? { alertEmail } : {}),
    }),
  );
  return stack;
};
