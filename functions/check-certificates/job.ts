/**
 * check-certificates: resolve every endpoint to all its addresses, probe each one (STARTTLS where
 * configured) with SNI = the host name, classify what was served against a path built here, and
 * report per endpoint; optionally list ACM certificates that will not renew.
 */

import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { mapBounded } from '#shared/concurrency.ts';
import { DnsClient } from '#shared/dns/client.ts';
import type { Finding } from '#shared/findings.ts';
import type { JobContext, JobDefinition, JobOutcome } from '#shared/job.ts';
import { acmClient, acmFindings, listAcmCertificates } from './acm.ts';
import { type AddressAssessment, assessProbe } from './assess.ts';
import { httpIssuerFetcher, loadTrustStore } from './chain.ts';
import {
  type CertificatesSection,
  certificatesSchema,
  DEFAULT_PORTS,
  type EndpointConfig,
  thresholdsFor,
} from './config.ts';
import { type ProbeTarget, probeAddress } from './probe.ts';
import { endpointFindings, JOB } from './report.ts';
import { type Resolution, resolveAddresses } from './resolve.ts';
import { servedChainAmbiguous } from './served-chain.ts';

interface PreparedEndpoint {
  config: EndpointConfig;
  target: string;
  port: number;
  servername: string | undefined;
  expectedName: string;
  clientCertificate: X509Certificate | undefined;
}

function targetOf(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function defaultEhloName(): string {
  // Lambda's host name is an IP address or a bare label; EHLO wants a domain (or a [literal]).
  const name = hostname();
  return name.includes('.') && isIP(name) === 0 ? name : 'watchkeeper.invalid';
}

async function prepare(endpoint: EndpointConfig, index: number): Promise<PreparedEndpoint> {
  const port = endpoint.port ?? DEFAULT_PORTS[endpoint.protocol];
  const host = endpoint.host.replace(/\.$/, '');
  const servername = endpoint.servername?.replace(/\.$/, '') ?? (isIP(host) === 0 ? host : undefined);
  let clientCertificate: X509Certificate | undefined;
  if (endpoint.clientCertificateFile !== undefined) {
    const file = endpoint.clientCertificateFile;
    try {
      clientCertificate = new X509Certificate(await readFile(file));
    } catch (error) {
      throw new Error(
        `certificates.endpoints.${index}.clientCertificateFile "${file}" is not a readable PEM certificate: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return {
    config: endpoint,
    target: targetOf(host, port),
    port,
    servername,
    expectedName: servername ?? host,
    clientCertificate,
  };
}

function resolutionFindings(endpoint: PreparedEndpoint, resolution: Resolution): Finding[] {
  const base = { job: JOB, target: endpoint.target, code: 'dns.lookup-failed' };
  if (resolution.status === 'no-address') {
    return [
      {
        ...base,
        severity: 'critical',
        message: `${endpoint.config.host} has no address in DNS (${resolution.detail}), so clients cannot reach ${endpoint.target}.`,
        data: { detail: resolution.detail },
      },
    ];
  }
  if (resolution.status === 'failed') {
    return [
      {
        ...base,
        severity: 'unknown',
        message: `The addresses of ${endpoint.config.host} could not be resolved (${resolution.detail}), so its certificate was not checked.`,
        data: { detail: resolution.detail },
      },
    ];
  }
  return resolution.partialFailures.map((failure) => ({
    ...base,
    subject: failure.type,
    severity: 'unknown' as const,
    message: `The ${failure.type} lookup for ${endpoint.config.host} failed (${failure.detail}); only the other address family was checked.`,
    data: { recordType: failure.type, detail: failure.detail },
  }));
}

/** Runs the whole check for a validated section. */
export async function runCertificates(ctx: JobContext<CertificatesSection>): Promise<JobOutcome> {
  const section = ctx.config;
  const now = ctx.now();
  const trust = await loadTrustStore({
    systemRoots: section.systemRoots,
    ...(section.caFile ? { caFiles: section.caFile } : {}),
  });
  const dns = new DnsClient({
    servers: section.resolver ?? ctx.global.resolver,
    timeoutMs: Math.min(5_000, section.timeoutSeconds * 1000),
  });
  const timeoutMs = section.timeoutSeconds * 1000;
  const fetchIssuer = section.fetchMissingIssuers
    ? httpIssuerFetcher(timeoutMs, ctx.deadline.signal)
    : undefined;
  const ehloName = section.ehloName ?? defaultEhloName();
  const endpoints = await Promise.all(section.endpoints.map(prepare));

  const resolved = await mapBounded(
    endpoints,
    section.concurrency,
    async (endpoint) => ({
      endpoint,
      resolution: await resolveAddresses(
        dns,
        endpoint.config.host,
        endpoint.config.addresses,
        section.addressFamilies,
      ),
    }),
    ctx.deadline,
  );

  const probes = resolved.results.flatMap(({ endpoint, resolution }) =>
    resolution.status === 'ok' ? resolution.addresses.map((address) => ({ endpoint, address })) : [],
  );
  let wireChainProbes = 0;
  const probed = await mapBounded(
    probes,
    section.concurrency,
    async ({ endpoint, address }) => {
      const target: ProbeTarget = {
        address,
        port: endpoint.port,
        protocol: endpoint.config.protocol,
        servername: endpoint.servername,
        domain: endpoint.expectedName,
        ehloName,
        timeoutMs,
        signal: ctx.deadline.signal,
      };
      let result = await probeAddress(target);
      if (result.status === 'connected' && servedChainAmbiguous(result.served, now)) {
        // Node's issuer walk may have hidden a renewed CA certificate sent alongside the stale one.
        wireChainProbes += 1;
        const wire = await probeAddress({ ...target, wireChain: true });
        if (
          wire.status === 'connected' &&
          wire.served.length > result.served.length &&
          wire.served[0]?.fingerprint256 === result.served[0]?.fingerprint256
        ) {
          result = { ...result, served: wire.served };
        }
      }
      const assessment = await assessProbe(result, {
        now,
        thresholds: thresholdsFor(section, endpoint.config),
        trust,
        expectedName: endpoint.expectedName,
        protocol: endpoint.config.protocol,
        port: endpoint.port,
        inLambda: ctx.runtime.inLambda,
        timeoutSeconds: section.timeoutSeconds,
        failureSeverity: section.unreachableSeverity,
        ...(fetchIssuer ? { fetchIssuer } : {}),
        ...(endpoint.clientCertificate ? { clientCertificate: endpoint.clientCertificate } : {}),
      });
      return { endpoint, assessment };
    },
    ctx.deadline,
  );

  const byEndpoint = new Map<PreparedEndpoint, AddressAssessment[]>();
  for (const { endpoint, assessment } of probed.results) {
    const list = byEndpoint.get(endpoint) ?? [];
    list.push(assessment);
    byEndpoint.set(endpoint, list);
  }
  const findings: Finding[] = [];
  for (const { endpoint, resolution } of resolved.results) {
    const assessments = byEndpoint.get(endpoint) ?? [];
    if (resolution.status === 'ok' && assessments.length === 0) continue; // none reached before the deadline
    findings.push(
      ...endpointFindings({
        target: endpoint.target,
        servername: endpoint.servername,
        protocol: endpoint.config.protocol,
        assessments,
        resolutionFindings: resolutionFindings(endpoint, resolution),
      }),
    );
  }

  let acmCertificates: number | undefined;
  if (section.acm) {
    const summaries = await listAcmCertificates(acmClient(), ctx.deadline.signal);
    acmCertificates = summaries.length;
    findings.push(...acmFindings(summaries, thresholdsFor(section, {}), now));
  }
  const stats: Record<string, number> = {
    endpoints: endpoints.length,
    addresses: probes.length,
    handshakes: probed.results.filter(({ assessment }) => assessment.leaf).length,
    probeFailures: probed.results.filter(({ assessment }) => !assessment.leaf && !assessment.aborted).length,
    dnsQueries: dns.stats.queries,
    wireChainProbes,
    ...(acmCertificates === undefined ? {} : { acmCertificates }),
  };

  const unreachedEndpoints = resolved.notStarted.map((endpoint) => endpoint.target);
  const unreachedAddresses = [
    ...probed.notStarted.map(({ endpoint, address }) => `${endpoint.target} at ${address}`),
    ...probed.results
      .filter(({ assessment }) => assessment.aborted)
      .map(({ endpoint, assessment }) => `${endpoint.target} at ${assessment.address}`),
  ];
  const outcome: JobOutcome = { findings, stats };
  if (unreachedEndpoints.length > 0 || unreachedAddresses.length > 0) {
    outcome.incomplete = {
      message: `The deadline stopped the run before ${unreachedEndpoints.length} endpoint(s) were resolved and ${unreachedAddresses.length} address(es) were probed.`,
      data: { endpoints: unreachedEndpoints, addresses: unreachedAddresses },
    };
  }
  return outcome;
}

/** The check-certificates job. */
export const definition: JobDefinition<CertificatesSection> = {
  name: JOB,
  section: 'certificates',
  description:
    'TLS certificate expiry and health of endpoints: every resolved IP, STARTTLS protocols, chain, host name',
  schema: certificatesSchema,
  runsLocally: true,
  permissions: (section) => (section.acm ? [{ actions: ['acm:ListCertificates'], resources: ['*'] }] : []),
  run: runCertificates,
};
