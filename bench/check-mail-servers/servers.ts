/**
 * The SMTP servers the check-mail-servers benchmark talks to, in a process of their own so that
 * neither client shares an event loop with them. Prints one JSON line with the servers, then
 * serves until stdin closes.
 *
 *   node bench/check-mail-servers/servers.ts <count>
 */
import { createLeaf } from '#sandbox/pki.ts';
import { type RunningSmtpServer, startSmtpServer } from '#sandbox/smtp-server.ts';

const count = Number(process.argv[2] ?? '40');
const leaf = await createLeaf(['mx.bench.test'], undefined);
const tls = { key: leaf.keyPair.privateKeyPem, cert: leaf.pem };
const servers: RunningSmtpServer[] = [];
for (let index = 0; index < count; index += 1) {
  const octet = 100 + index;
  servers.push(
    await startSmtpServer({
      host: `127.0.1.${octet}`,
      hostname: `mx${octet}.bench.test`,
      bannerLines: ['ESMTP bench', 'multi-line greeting'],
      tls,
      // Every fourth server is an open relay, so both clients have verdicts to agree on.
      openRelay: index % 4 === 0,
    }),
  );
}
process.stdout.write(
  `${JSON.stringify(servers.map((server, index) => ({ host: server.host, port: server.port, openRelay: index % 4 === 0 })))}\n`,
);
process.stdin.resume();
process.stdin.on('end', async () => {
  const data = servers.reduce((sum, server) => sum + server.messagesReceived, 0);
  process.stderr.write(`servers received ${data} messages\n`);
  await Promise.all(servers.map((server) => server.close()));
  process.exit(0);
});
