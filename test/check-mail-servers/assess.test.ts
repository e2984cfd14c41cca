import { describe, expect, it } from 'vitest';
import { assessConversation } from '#functions/check-mail-servers/assess.ts';
import type { Observation, ProbeTarget } from '#functions/check-mail-servers/conversation.ts';

const target = (port: number, mode: ProbeTarget['mode'] = 'mx'): ProbeTarget => ({
  host: 'mx.example.com',
  address: '192.0.2.25',
  port,
  mode,
  relayTest: true,
});
const settings = { slowBannerMs: 5_000, connectTimeoutMs: 10_000, replyTimeoutMs: 30_000, inLambda: false };
const unconnected = (kind: 'timeout' | 'connect' | 'tls'): Observation => ({
  connected: false,
  failure: { stage: 'connect', kind, message: `simulated ${kind}` },
  extensions: [],
  starttlsOffered: false,
  authBeforeTls: [],
  transcript: [],
});

describe('assessConversation', () => {
  it('explains a failed port 25 connection from Lambda as unknown, with the alternatives', () => {
    const [finding, ...rest] = assessConversation(target(25), unconnected('timeout'), undefined, {
      ...settings,
      inLambda: true,
    });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      code: 'smtp.port25-blocked',
      severity: 'unknown',
      target: 'mx.example.com:25',
    });
    expect(finding?.message).toMatch(/VPC with a NAT gateway/);
    expect(finding?.message).toMatch(/port 587/);
    expect(finding?.message).toMatch(/CLI/);
  });

  it('does not blame Lambda for other ports', () => {
    const [finding] = assessConversation(target(587, 'submission'), unconnected('connect'), undefined, {
      ...settings,
      inLambda: true,
    });
    expect(finding).toMatchObject({ code: 'smtp.unreachable', severity: 'critical' });
  });

  it('reports a connect timeout outside Lambda as unknown, a refusal as critical', () => {
    expect(assessConversation(target(25), unconnected('timeout'), undefined, settings)[0]).toMatchObject({
      code: 'smtp.unreachable',
      severity: 'unknown',
    });
    expect(assessConversation(target(25), unconnected('connect'), undefined, settings)[0]).toMatchObject({
      code: 'smtp.unreachable',
      severity: 'critical',
    });
  });

  it('reports a failed implicit TLS handshake on 465 as starttls-failed', () => {
    expect(
      assessConversation(target(465, 'smtps'), unconnected('tls'), undefined, settings)[0],
    ).toMatchObject({
      code: 'smtp.starttls-failed',
      severity: 'critical',
    });
  });

  it('never reports ok next to an unknown', () => {
    const observation: Observation = {
      connected: true,
      greeting: { code: 220, lines: ['mx.example.com ESMTP'], domain: 'mx.example.com', elapsedMs: 10 },
      ehloDomain: 'mx.example.com',
      heloOnly: false,
      extensions: ['STARTTLS'],
      starttlsOffered: true,
      authBeforeTls: [],
      tls: { implicit: false, protocol: 'TLSv1.3' },
      relay: { verdict: 'inconclusive', decidedBy: 'MAIL', reply: '553 5.1.8 Sender address rejected' },
      transcript: [],
    };
    const findings = assessConversation(
      target(25),
      observation,
      { status: 'names', names: ['mx.example.com'] },
      settings,
    );
    expect(findings.map((finding) => finding.code)).toEqual(['smtp.relay-inconclusive']);
    expect(findings[0]?.message).toMatch(/set relaySender/);
  });
});
