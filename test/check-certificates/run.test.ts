/**
 * check-certificates through the runner and notifier (the SNS digest of a mixed run), the
 * settings that change severities and messages (failure severity, Lambda's port 25), ACM, and
 * what the probe host itself cannot do (no IPv6 route).
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACMClient, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acmFindings } from '#functions/check-certificates/acm.ts';
import { assessProbe } from '#functions/check-certificates/assess.ts';
import { createTrustStore } from '#functions/check-certificates/chain.ts';
import { definition } from '#functions/check-certificates/job.ts';
import { classifyConnectError } from '#functions/check-certificates/probe.ts';
import { startDnsServer } from '#sandbox/dns-server.ts';
import { createLeaf, createTestPki, issueCertificate, type TestPki } from '#sandbox/pki.ts';
import { type RunningTlsEndpoint, startTlsEndpoint } from '#sandbox/tls-server.ts';
import { resetAwsClients } from '#shared/aws.ts';
import { notifySchema } from '#shared/config/global.ts';
import type { SnsMessage } from '#shared/notify/message.ts';
import { notifyRun } from '#shared/notify/notify.ts';
import { Redactor } from '#shared/redact.ts';
import { runJob } from '#shared/runner.ts';
import { testContext } from '../support/context.ts';

const DAY = 86_400_000;
const NOW = new Date();
const acm = mockClient(ACMClient);
let pki: TestPki;
let tempDir: string;
let caFile: string;
const running: RunningTlsEndpoint[] = [];
const servers: Server[] = [];
const sockets: Socket[] = [];

async function serve(
  host: string,
  days: { before: number; after: number },
  name = 'mixed.test',
): Promise<RunningTlsEndpoint> {
  const leaf = await pki.leaf([name], {
    notBefore: new Date(NOW.getTime() - days.before * DAY),
    notAfter: new Date(NOW.getTime() + days.after * DAY),
  });
  const endpoint = await startTlsEndpoint({ host, chain: pki.chain(leaf) });
  running.push(endpoint);
  return endpoint;
}

async function silentServer(host: string, port = 0): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    sockets.push(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  pki = await createTestPki('run test');
  tempDir = await mkdtemp(join(tmpdir(), 'wk-run-'));
  caFile = join(tempDir, 'ca.pem');
  await writeFile(caFile, pki.root.pem);
});

beforeEach(() => {
  acm.reset();
  resetAwsClients();
});

afterAll(async () => {
  await Promise.all(running.map((endpoint) => endpoint.close()));

  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

describe('the SNS digest of a mixed run', () => {
  it('leads with the worst finding, names the endpoints and carries the codes as attributes', async () => {
    const expired = await serve('127.0.0.61', { before: 100, after: -2 });
    const healthy = await serve('127.0.0.62', { before: 1, after: 80 });
    const expiring = await serve('127.0.0.63', { before: 80, after: 12 });
    const section = {
      endpoints: [
        { host: 'mixed.test', addresses: ['127.0.0.61'], port: expired.port },
        { host: 'mixed.test', addresses: ['127.0.0.62'], port: healthy.port },
        { host: 'mixed.test', addresses: ['127.0.0.63'], port: expiring.port },
      ],
      systemRoots: false,
      caFile,
    };
    const context = testContext(definition, section, { now: NOW });
    const { report } = await runJob({
      definition,
      global: context.global,
      section: context.config,
      sections: {},
      runId: 'run-1',
      now: () => NOW,
      deadline: context.deadline,
      logger: context.logger,
      state: context.state,
      resolveSecret: context.resolveSecret,
      runtime: context.runtime,
    });
    const published: SnsMessage[] = [];
    await notifyRun(report, {
      settings: notifySchema.parse({}),
      state: context.state,
      publisher: {
        publish: async (message) => {
          published.push(message);
          return { messageId: 'm-1' };
        },
      },
      now: NOW,
      redactor: new Redactor(),
    });
    expect(report.status).toBe('critical');
    expect(published).toHaveLength(1);
    const [message] = published;
    expect(message?.Subject).toMatch(/^\[CRITICAL\] check-certificates: /);
    expect((message?.Subject ?? '').length).toBeLessThanOrEqual(100);
    const body = JSON.parse(message?.Message ?? '{}') as { email: string; default: string };
    expect(body.email).toContain(`The certificate of mixed.test:${expired.port} expired 2 days ago`);
    expect(body.email).toContain(
      `The certificate of mixed.test:${expiring.port} expires in 11 days 23 hours`,
    );
    expect(body.email.indexOf('expired 2 days ago')).toBeLessThan(body.email.indexOf('expires in 11 days'));
    expect(JSON.parse(message?.MessageAttributes['codes']?.StringValue ?? '[]')).toEqual([
      'certificate.expired',
      'certificate.expiring',
    ]);
  });
});

describe('settings that change what a failure means', () => {
  it('uses the configured severity for timeouts and unreachable endpoints', async () => {
    const port = await silentServer('127.0.0.64');
    const context = testContext(
      definition,
      {
        endpoints: [{ host: 'slow.test', addresses: ['127.0.0.64'], port }],
        timeoutSeconds: 0.5,
        unreachableSeverity: 'critical',
      },
      { now: NOW },
    );
    const outcome = await definition.run(context);
    expect(outcome.findings.map((finding) => `${finding.code}:${finding.severity}`)).toEqual([
      'endpoint.timeout:critical',
    ]);
    expect(outcome.findings[0]?.message).not.toContain('port 25');
  });

  it('explains in Lambda that AWS blocks outbound port 25 when an SMTP probe times out', async (test) => {
    const port = await silentServer('127.0.0.65', 25).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EACCES' || error.code === 'EADDRINUSE') return undefined;
      throw error;
    });
    if (port === undefined) {
      test.skip('binding 127.0.0.65:25 needs root (and a free port 25)');
      return;
    }
    const context = testContext(
      definition,
      { endpoints: [{ host: 'mx.test', addresses: ['127.0.0.65'], protocol: 'smtp' }], timeoutSeconds: 0.5 },
      { now: NOW, inLambda: true },
    );
    const outcome = await definition.run(context);
    expect(outcome.findings).toHaveLength(1);
    expect(outcome.findings[0]?.code).toBe('endpoint.timeout');
    expect(outcome.findings[0]?.severity).toBe('unknown');
    expect(outcome.findings[0]?.message).toContain(
      'AWS blocks outbound TCP port 25 from Lambda: probe the submission port 587 or 465 instead, or run this check with the CLI',
    );
  });

  it('reports an IPv6 address this host cannot route as a probe-side unknown, not the endpoint failing', () => {
    // What connect() fails with on a host without IPv6 (Lambda outside a VPC, Docker defaults).
    const noRoute = Object.assign(new Error('connect ENETUNREACH 2001:db8::1:443'), { code: 'ENETUNREACH' });
    expect(classifyConnectError(noRoute, '2001:db8::1').kind).toBe('no-route');
    expect(classifyConnectError(noRoute, '192.0.2.1').kind).toBe('unreachable');
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(classifyConnectError(refused, '2001:db8::1').kind).toBe('refused');
    const issue = assessProbe(
      {
        status: 'failed',
        address: '2001:db8::1',
        kind: 'no-route',
        stage: 'connect',
        detail: 'this probe host has no IPv6 connectivity (ENETUNREACH)',
      },
      {
        now: NOW,
        thresholds: { warningDays: 21, criticalDays: 7, warnFraction: 0.3, criticalFraction: 0.1 },
        trust: createTrustStore({ systemRoots: false }),
        expectedName: 'v6.test',
        protocol: 'tls',
        port: 443,
        inLambda: true,
        timeoutSeconds: 10,
        failureSeverity: 'critical',
      },
    );
    return issue.then((assessment) => {
      expect(assessment.issues.map((item) => [item.code, item.severity])).toEqual([
        ['endpoint.unreachable', 'unknown'],
      ]);
      expect(assessment.issues[0]?.describe('v6.test:443 at 2001:db8::1')).toContain(
        'this probe host has no IPv6 connectivity (not a fault of the endpoint)',
      );
    });
  });
});

describe('edge cases of probing', () => {
  it('reports a plaintext service on a TLS port as a failed handshake', async () => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.66', resolve));
    servers.push(server);
    const { port } = server.address() as AddressInfo;
    const outcome = await definition.run(
      testContext(
        definition,
        { endpoints: [{ host: 'plain.test', addresses: ['127.0.0.66'], port }] },
        { now: NOW },
      ),
    );
    expect(outcome.findings.map((finding) => `${finding.code}:${finding.severity}`)).toEqual([
      'endpoint.handshake-failed:critical',
    ]);
    expect(outcome.findings[0]?.message).toMatch(
      /^plain\.test:\d+: TLS handshake failed: (wrong version number|packet length too long|record layer failure); clients cannot connect securely\.$/,
    );
  });

  it('probes IPv4 and IPv6 addresses of a dual-stack name and calls them the same certificate', async () => {
    const v4 = await serve('127.0.0.67', { before: 1, after: 60 }, 'dual.test');
    const leaf = await pki.leaf(['dual.test'], {
      notBefore: new Date(NOW.getTime() - DAY),
      notAfter: new Date(NOW.getTime() + 60 * DAY),
    });
    const v6 = await startTlsEndpoint({ host: '::1', port: v4.port, chain: pki.chain(leaf) }).catch(
      () => undefined,
    );
    if (!v6) return; // no IPv6 loopback in this container: the IPv4 half is covered elsewhere
    running.push(v6);
    const dns = await startDnsServer({
      records: [
        { name: 'dual.test', type: 'A', data: '127.0.0.67' },
        { name: 'dual.test', type: 'AAAA', data: '::1' },
      ],
    });
    try {
      const outcome = await definition.run(
        testContext(
          definition,
          {
            endpoints: [{ host: 'dual.test', port: v4.port }],
            resolver: dns.address,
            caFile,
            systemRoots: false,
          },
          { now: NOW },
        ),
      );
      // Two different leaves for the same name: divergent, each address named with its date.
      expect(outcome.findings.map((finding) => finding.code)).toEqual(['certificate.divergent']);
      expect(outcome.findings[0]?.message).toContain('across 2 addresses');
      expect(outcome.findings[0]?.data?.['variants']).toHaveLength(2);
      expect(v4.servernames).toEqual(['dual.test']);
      expect(v6.servernames).toEqual(['dual.test']);
    } finally {
      await dns.close();
    }
  });

  it('trusts a self-signed certificate listed in caFile, and a served root that is trusted is no anomaly', async () => {
    const selfSigned = await createLeaf(['own.test'], undefined);
    const own = await startTlsEndpoint({ host: '127.0.0.68', chain: [selfSigned] });
    const withRoot = await startTlsEndpoint({
      host: '127.0.0.69',
      chain: [...pki.chain(await pki.leaf(['rooted.test'])), pki.root],
    });
    running.push(own, withRoot);
    const ownCa = join(tempDir, 'own.pem');
    await writeFile(ownCa, selfSigned.pem);
    const outcome = await definition.run(
      testContext(
        definition,
        {
          endpoints: [
            { host: 'own.test', addresses: ['127.0.0.68'], port: own.port },
            { host: 'rooted.test', addresses: ['127.0.0.69'], port: withRoot.port },
          ],
          caFile: [caFile, ownCa],
          systemRoots: false,
        },
        { now: NOW },
      ),
    );
    expect(outcome.findings.map((finding) => `${finding.target.split(':')[0]}:${finding.code}`)).toEqual([
      'own.test:certificate.ok',
      'rooted.test:certificate.ok',
    ]);
  });

  it('prefers the renewed intermediate when the server sends the expired one too', async () => {
    const old = await issueCertificate({
      commonName: pki.intermediate.spec.commonName,
      organization: 'run test',
      isCa: true,
      issuer: pki.root,
      keyPair: pki.intermediate.keyPair,
      notBefore: new Date(NOW.getTime() - 800 * DAY),
      notAfter: new Date(NOW.getTime() - 30 * DAY),
    });
    const leaf = await pki.leaf(['renewed.test']);
    const endpoint = await startTlsEndpoint({ host: '127.0.0.77', chain: [leaf, old, pki.intermediate] });
    running.push(endpoint);
    const outcome = await definition.run(
      testContext(
        definition,
        {
          endpoints: [{ host: 'renewed.test', addresses: ['127.0.0.77'], port: endpoint.port }],
          caFile,
          systemRoots: false,
        },
        { now: NOW },
      ),
    );
    expect(outcome.findings.map((finding) => `${finding.code}:${finding.severity}`)).toEqual([
      'certificate.served-chain-anomaly:warning',
    ]);
    expect(outcome.findings[0]?.message).toContain('expired 30 days ago and is not on the verified path');
  });

  it('stops at the deadline and says which addresses it did not reach', async () => {
    const ports = [
      await silentServer('127.0.0.70'),
      await silentServer('127.0.0.70'),
      await silentServer('127.0.0.70'),
    ];
    const context = testContext(
      definition,
      {
        endpoints: ports.map((port) => ({ host: 'slow.test', addresses: ['127.0.0.70'], port })),
        timeoutSeconds: 5,
        concurrency: 1,
      },
      { now: NOW, budgetMs: 1_000 },
    );
    const outcome = await definition.run(context);
    expect(outcome.findings).toEqual([]);
    expect(outcome.incomplete?.message).toContain('3 address(es) were probed');
    // The probe cut by the deadline is listed after the ones never started.
    expect([...((outcome.incomplete?.data?.['addresses'] as string[]) ?? [])].sort()).toEqual(
      ports.map((port) => `slow.test:${port} at 127.0.0.70`).sort(),
    );
  });
});

describe('ACM certificates', () => {
  it('lists every key type across pages and reports imported and renewal-ineligible certificates that expire', async () => {
    process.env['AWS_REGION'] = 'eu-west-1';
    acm
      .on(ListCertificatesCommand)
      .resolvesOnce({
        CertificateSummaryList: [
          {
            CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/imported',
            DomainName: 'legacy.example.com',
            Type: 'IMPORTED',
            InUse: true,
            NotBefore: new Date(NOW.getTime() - 360 * DAY),
            NotAfter: new Date(NOW.getTime() + 5 * DAY),
          },
          {
            CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/managed',
            DomainName: 'www.example.com',
            Type: 'AMAZON_ISSUED',
            RenewalEligibility: 'ELIGIBLE',
            NotBefore: new Date(NOW.getTime() - 390 * DAY),
            NotAfter: new Date(NOW.getTime() + 5 * DAY),
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        CertificateSummaryList: [
          {
            CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/ineligible',
            DomainName: 'old.example.com',
            Type: 'AMAZON_ISSUED',
            RenewalEligibility: 'INELIGIBLE',
            NotBefore: new Date(NOW.getTime() - 380 * DAY),
            NotAfter: new Date(NOW.getTime() + 15 * DAY),
          },
        ],
      });
    const context = testContext(definition, { acm: true }, { now: NOW });
    const outcome = await definition.run(context);
    expect(
      outcome.findings.map((finding) => `${finding.code}:${finding.severity}:${finding.target}`),
    ).toEqual([
      'certificate.expiring:critical:acm:legacy.example.com',
      'certificate.expiring:warning:acm:old.example.com',
    ]);
    expect(outcome.findings[0]?.message).toContain('it was imported, so ACM cannot renew it');
    expect(outcome.stats['acmCertificates']).toBe(3);
    const calls = acm.commandCalls(ListCertificatesCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input.Includes?.keyTypes).toContain('EC_prime256v1');
    expect(calls[1]?.args[0].input.NextToken).toBe('page-2');
    expect(definition.permissions?.(context.config)).toEqual([
      { actions: ['acm:ListCertificates'], resources: ['*'] },
    ]);
  });

  it('needs no IAM permission without acm', () => {
    expect(definition.permissions?.(definition.schema.parse({}))).toEqual([]);
  });

  it('ignores certificates ACM renews by itself', () => {
    const findings = acmFindings(
      [
        {
          Type: 'AMAZON_ISSUED',
          RenewalEligibility: 'ELIGIBLE',
          NotBefore: new Date(NOW.getTime() - DAY),
          NotAfter: new Date(NOW.getTime() + DAY),
        },
      ],
      { warningDays: 21, criticalDays: 7, warnFraction: 0.3, criticalFraction: 0.1 },
      NOW,
    );
    expect(findings).toEqual([]);
  });
});

describe('a server that sends the wrong intermediate', () => {
  it('calls the chain incomplete and the stray certificate an anomaly', async () => {
    const stray = await createLeaf(['stray.test'], undefined, { isCa: true });
    const endpoint = await startTlsEndpoint({
      host: '127.0.0.78',
      chain: [await pki.leaf(['wrongca.test']), stray],
    });
    running.push(endpoint);
    const outcome = await definition.run(
      testContext(
        definition,
        {
          endpoints: [{ host: 'wrongca.test', addresses: ['127.0.0.78'], port: endpoint.port }],
          caFile,
          systemRoots: false,
          fetchMissingIssuers: false,
        },
        { now: NOW },
      ),
    );
    expect(outcome.findings.map((finding) => `${finding.code}:${finding.severity}`).sort()).toEqual([
      'certificate.incomplete-chain:critical',
      'certificate.served-chain-anomaly:info',
    ]);
    expect(
      outcome.findings.find((finding) => finding.code === 'certificate.incomplete-chain')?.message,
    ).toContain(
      'does not send the intermediate "run test Issuing CA 1" that issued its certificate (it sends other certificates instead)',
    );
  });
});

describe('a server that resets every connection', () => {
  it('reports a connection failure, not a certificate problem', async () => {
    const endpoint = await startTlsEndpoint({
      host: '127.0.0.79',
      chain: pki.chain(await pki.leaf(['reset.test'])),
      behaviour: 'reset',
    });
    running.push(endpoint);
    const outcome = await definition.run(
      testContext(
        definition,
        { endpoints: [{ host: 'reset.test', addresses: ['127.0.0.79'], port: endpoint.port }] },
        { now: NOW },
      ),
    );
    // The reset races the connect callback: it lands either before TCP is reported established
    // (unreachable) or during the handshake. Either way it is never about the certificate.
    const codes = outcome.findings.map((finding) => `${finding.code}:${finding.severity}`);
    expect(codes).toHaveLength(1);
    expect(['endpoint.handshake-failed:critical', 'endpoint.unreachable:unknown']).toContain(codes[0]);
    expect(outcome.findings[0]?.message).toMatch(/closed the connection during the TLS handshake|ECONNRESET/);
  });
});
