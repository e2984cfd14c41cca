/**
 * The benchmark's estate, in its own process so that serving the handshakes does not compete with
 * the client being measured: 300 TLS endpoints on 127.0.20.x / 127.0.21.x, one certificate each,
 * in a fixed mix of states. Prints one JSON line describing them, then serves until stdin closes.
 */
import { createTestPki } from '#sandbox/pki.ts';
import { type RunningTlsEndpoint, startTlsEndpoint } from '#sandbox/tls-server.ts';

/** What each endpoint is meant to show. */
export type BenchState = 'valid' | 'warning' | 'critical' | 'expired' | 'wrong-host';

/** One endpoint as the parent process sees it. */
export interface BenchEndpoint {
  name: string;
  address: string;
  port: number;
  state: BenchState;
}

const DAY = 86_400_000;
const COUNT = Number(process.env['BENCH_ENDPOINTS'] ?? 300);

/** The state of endpoint `index`: one in five has a problem, spread evenly. */
export function stateOf(index: number): BenchState {
  return (['expired', 'critical', 'warning', 'wrong-host'] as const)[index % 20] ?? 'valid';
}

if (import.meta.main) {
  const now = Date.now();
  const pki = await createTestPki('bench');
  const running: RunningTlsEndpoint[] = [];
  const endpoints: BenchEndpoint[] = [];
  for (let index = 0; index < COUNT; index += 1) {
    const state = stateOf(index);
    const name = `e${index}.bench.test`;
    const address = `127.0.${20 + Math.floor(index / 250)}.${(index % 250) + 1}`;
    const validity =
      state === 'expired'
        ? { notBefore: new Date(now - 100 * DAY), notAfter: new Date(now - 10 * DAY) }
        : state === 'critical'
          ? { notBefore: new Date(now - 87 * DAY), notAfter: new Date(now + 3 * DAY) }
          : state === 'warning'
            ? { notBefore: new Date(now - 76 * DAY), notAfter: new Date(now + 14 * DAY) }
            : { notBefore: new Date(now - DAY), notAfter: new Date(now + 89 * DAY) };
    const leaf = await pki.leaf([state === 'wrong-host' ? `other${index}.bench.test` : name], validity);
    const endpoint = await startTlsEndpoint({ host: address, chain: pki.chain(leaf) });
    running.push(endpoint);
    endpoints.push({ name, address, port: endpoint.port, state });
  }
  process.stdout.write(`${JSON.stringify({ caPem: pki.root.pem, endpoints })}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await Promise.all(running.map((endpoint) => endpoint.close()));
    process.exit(0);
  });
}
