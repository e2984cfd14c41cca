/**
 * shared/starttls against the protocol-accurate fronts of sandbox/tls-server.ts (and a few
 * hand-written servers for the edge cases): every protocol reaches a real TLS handshake, every
 * protocol says "not offered" when the server lacks it, and replies split into single bytes or
 * followed by injected plaintext are handled.
 */

import type { AddressInfo } from 'node:net';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '#sandbox/pki.ts';
import { type RunningTlsEndpoint, startTlsEndpoint } from '#sandbox/tls-server.ts';
import {
  negotiateStartTls,
  STARTTLS_PROTOCOLS,
  StartTlsError,
  type StartTlsProtocol,
} from '#shared/starttls/index.ts';
import { berChildren, ldapStartTlsRequest, readBer } from '#shared/starttls/ldap.ts';
import { parseMysqlGreeting } from '#shared/starttls/mysql.ts';

let pki: TestPki;
const servers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  pki = await createTestPki('starttls test');
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

function connectTo(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function endpoint(protocol: StartTlsProtocol, offerStartTls: boolean): Promise<RunningTlsEndpoint> {
  const leaf = await pki.leaf([`${protocol}.starttls.test`]);
  const running = await startTlsEndpoint({ protocol, chain: pki.chain(leaf), offerStartTls });
  servers.push(running);
  return running;
}

/** A raw server that plays `script` for each connection (for split writes and injections). */
async function rawServer(script: (socket: Socket) => void): Promise<{ port: number }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    script(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
  return { port: (server.address() as AddressInfo).port };
}

describe('negotiateStartTls', () => {
  for (const protocol of STARTTLS_PROTOCOLS) {
    it(`upgrades ${protocol} and completes a TLS handshake with the served certificate`, async () => {
      const server = await endpoint(protocol, true);
      const socket = await connectTo(server.host, server.port);
      const { socket: ready } = await negotiateStartTls(socket, protocol, {
        domain: `${protocol}.starttls.test`,
        ehloName: 'probe.test',
      });
      const subject = await new Promise<string>((resolve, reject) => {
        const secure = tlsConnect(
          { socket: ready, servername: `${protocol}.starttls.test`, rejectUnauthorized: false },
          () => {
            resolve(secure.getPeerCertificate().subject.CN as string);
            secure.destroy();
          },
        );
        secure.once('error', reject);
      });
      expect(subject).toBe(`${protocol}.starttls.test`);
    });

    it(`says ${protocol} does not offer TLS when the server lacks it`, async () => {
      const server = await endpoint(protocol, false);
      const socket = await connectTo(server.host, server.port);
      const error = await negotiateStartTls(socket, protocol, {
        domain: 'x.starttls.test',
        ehloName: 'probe.test',
      }).catch((caught: unknown) => caught);
      socket.destroy();
      expect(error).toBeInstanceOf(StartTlsError);
      expect((error as StartTlsError).reason).toBe('not-offered');
    });
  }

  it('reads an SMTP multi-line greeting and EHLO reply delivered one byte at a time, STARTTLS last', async () => {
    const { port } = await rawServer((socket) => {
      const send = async (text: string) => {
        for (const byte of Buffer.from(text)) {
          socket.write(Buffer.from([byte]));
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString();
        if (buffered.includes('EHLO probe.test\r\n') && !buffered.includes('STARTTLS')) {
          void send('250-mx.split.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n');
        } else if (buffered.endsWith('STARTTLS\r\n')) {
          void send('220 2.0.0 Ready to start TLS\r\n');
        }
      });
      socket.on('error', () => undefined);
      void send('220-mx.split.test ESMTP\r\n220-postscreen says hello\r\n220 mx.split.test ready\r\n');
    });
    const socket = await connectTo('127.0.0.1', port);
    const { socket: ready } = await negotiateStartTls(socket, 'smtp', {
      domain: 'split.test',
      ehloName: 'probe.test',
    });
    expect(ready).toBe(socket);
    socket.destroy();
  });

  it('refuses plaintext injected after the SMTP 220 to STARTTLS (CVE-2011-0411 class)', async () => {
    const { port } = await rawServer((socket) => {
      socket.on('error', () => undefined);
      socket.write('220 mx.inject.test ESMTP\r\n');
      socket.on('data', (chunk) => {
        const text = chunk.toString();
        if (text.startsWith('EHLO')) socket.write('250-mx.inject.test\r\n250 STARTTLS\r\n');
        if (text.startsWith('STARTTLS')) socket.write('220 Go ahead\r\n250 injected\r\n');
      });
    });
    const socket = await connectTo('127.0.0.1', port);
    const error = await negotiateStartTls(socket, 'smtp', {
      domain: 'inject.test',
      ehloName: 'probe.test',
    }).catch((caught: unknown) => caught);
    socket.destroy();
    expect((error as StartTlsError).reason).toBe('protocol');
  });

  it('reports a server that closes during the dialogue as closed', async () => {
    const { port } = await rawServer((socket) => {
      socket.end('* OK IMAP ready\r\n');
    });
    const socket = await connectTo('127.0.0.1', port);
    const error = await negotiateStartTls(socket, 'imap', { domain: 'x.test', ehloName: 'probe.test' }).catch(
      (caught: unknown) => caught,
    );
    socket.destroy();
    expect((error as StartTlsError).reason).toBe('closed');
  });

  it('reports a MySQL server that refuses the host with its error message', () => {
    const payload = Buffer.concat([
      Buffer.from([0xff, 0x69, 0x04]),
      Buffer.from("#HY000Host '10.0.0.9' is blocked because of many connection errors"),
    ]);
    expect(() => parseMysqlGreeting(payload)).toThrow(/refused the connection: Host '10.0.0.9' is blocked/);
  });

  it('encodes the LDAP StartTLS request as RFC 4511 wants it', () => {
    const request = ldapStartTlsRequest(1);
    expect(request.toString('hex')).toBe(
      `301d02010177188016${Buffer.from('1.3.6.1.4.1.1466.20037').toString('hex')}`,
    );
    const message = readBer(request);
    expect(message?.tag).toBe(0x30);
    expect(berChildren(message?.contents ?? Buffer.alloc(0)).map((child) => child.tag)).toEqual([0x02, 0x77]);
  });
});
