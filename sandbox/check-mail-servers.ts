/**
 * check-mail-servers in `npm run demo`: acme-mail.test runs two mail servers on loopback. mx1 is
 * healthy on its MX port (STARTTLS, banner = PTR name, relaying refused) but its submission port
 * offers AUTH before STARTTLS; mx2 is an open relay whose banner still says localhost.localdomain.
 * The relay test stops at RCPT: the demo prints how many messages the servers received (none).
 */
import type { DemoPart } from './demo-part.ts';
import { createLeaf } from './pki.ts';
import { startSmtpServer } from './smtp-server.ts';

const MX1 = '127.0.0.61';
const MX2 = '127.0.0.62';

/** The mail-server part of the demo. */
export const demoPart: DemoPart = {
  job: 'check-mail-servers',
  records: [
    { name: 'acme-mail.test', type: 'MX', data: { preference: 10, exchange: 'mx1.acme-mail.test' } },
    { name: 'acme-mail.test', type: 'MX', data: { preference: 20, exchange: 'mx2.acme-mail.test' } },
    { name: 'mx1.acme-mail.test', type: 'A', data: MX1 },
    { name: 'mx2.acme-mail.test', type: 'A', data: MX2 },
    { name: '61.0.0.127.in-addr.arpa', type: 'PTR', data: 'mx1.acme-mail.test' },
    { name: '62.0.0.127.in-addr.arpa', type: 'PTR', data: 'mx2.acme-mail.test' },
  ],
  async start({ resolver }) {
    const leaf = await createLeaf(['mx1.acme-mail.test', 'mx2.acme-mail.test'], undefined);
    const tls = { key: leaf.keyPair.privateKeyPem, cert: leaf.pem };
    const mx1 = await startSmtpServer({
      host: MX1,
      hostname: 'mx1.acme-mail.test',
      bannerLines: ['ESMTP acme-mail', 'No UCE, no relaying'],
      tls,
      localDomains: ['acme-mail.test'],
    });
    const submission = await startSmtpServer({
      host: MX1,
      hostname: 'mx1.acme-mail.test',
      tls,
      authBeforeTls: true,
    });
    const mx2 = await startSmtpServer({
      host: MX2,
      hostname: 'localhost.localdomain',
      tls,
      openRelay: true,
    });
    const servers = [mx1, submission, mx2];
    return {
      section: {
        resolver,
        servers: [
          {
            host: 'mx1.acme-mail.test',
            ports: [
              { port: mx1.port, mode: 'mx' },
              { port: submission.port, mode: 'submission' },
            ],
          },
          { host: 'mx2.acme-mail.test', ports: [{ port: mx2.port, mode: 'mx' }] },
        ],
        connectTimeoutMs: 2_000,
        replyTimeoutMs: 3_000,
      },
      close: async () => {
        const received = servers.reduce((sum, server) => sum + server.messagesReceived, 0);
        const dataCommands = servers
          .flatMap((server) => server.commands)
          .filter((command) => /^DATA\b/i.test(command.line));
        process.stderr.write(
          `check-mail-servers demo: the local SMTP servers received ${dataCommands.length} DATA commands and ${received} messages.\n`,
        );
        await Promise.all(servers.map((server) => server.close()));
      },
    };
  },
};
