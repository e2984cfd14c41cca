/**
 * A loopback HTTP endpoint that speaks enough of the EC2 Query protocol for DescribeInstances and
 * DescribeInstanceStatus, with injectable throttling, so the real SDK (signing, XML parsing,
 * retries) runs against it through AWS_ENDPOINT_URL_EC2.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An instance as the fake endpoint reports it. */
export interface FakeInstance {
  id: string;
  name?: string;
  state: 'running' | 'stopped';
  systemStatus?: 'ok' | 'impaired' | 'insufficient-data' | 'not-applicable';
  instanceStatus?: 'ok' | 'impaired' | 'insufficient-data' | 'not-applicable';
  events?: Array<{ code: string; description: string; notBefore: string; notAfter?: string }>;
}

/** A running endpoint. */
export interface Ec2Endpoint {
  url: string;
  /** Actions received, in order (throttled attempts included). */
  calls: string[];
  close(): Promise<void>;
}

/** Starts the endpoint; the first `throttleFirst` requests get RequestLimitExceeded (HTTP 503). */
export async function startEc2Endpoint(instances: FakeInstance[], throttleFirst = 0): Promise<Ec2Endpoint> {
  const calls: string[] = [];
  let throttled = 0;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const params = new URLSearchParams(body);
      const action = params.get('Action') ?? 'unknown';
      const wanted = requestedIds(params);
      const selected = wanted ? instances.filter((instance) => wanted.has(instance.id)) : instances;
      calls.push(action);
      response.setHeader('content-type', 'text/xml');
      if (throttled < throttleFirst) {
        throttled += 1;
        response.statusCode = 503;
        response.end(
          '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>t</RequestID></Response>',
        );
        return;
      }
      const xmlns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';
      if (action === 'DescribeInstances') {
        const items = selected
          .map(
            (instance) =>
              `<item><instanceId>${instance.id}</instanceId><instanceState><code>${instance.state === 'running' ? 16 : 80}</code><name>${instance.state}</name></instanceState>${instance.name ? `<tagSet><item><key>Name</key><value>${instance.name}</value></item></tagSet>` : ''}</item>`,
          )
          .join('');
        response.end(
          `<DescribeInstancesResponse ${xmlns}><requestId>r</requestId><reservationSet><item><reservationId>r-1</reservationId><instancesSet>${items}</instancesSet></item></reservationSet></DescribeInstancesResponse>`,
        );
        return;
      }
      if (action === 'DescribeInstanceStatus') {
        const items = selected
          .map((instance) => {
            const events = (instance.events ?? [])
              .map(
                (event) =>
                  `<item><code>${event.code}</code><description>${event.description}</description><notBefore>${event.notBefore}</notBefore>${event.notAfter ? `<notAfter>${event.notAfter}</notAfter>` : ''}</item>`,
              )
              .join('');
            return `<item><instanceId>${instance.id}</instanceId><availabilityZone>eu-west-1a</availabilityZone><instanceState><code>${instance.state === 'running' ? 16 : 80}</code><name>${instance.state}</name></instanceState><systemStatus><status>${instance.systemStatus ?? 'ok'}</status></systemStatus><instanceStatus><status>${instance.instanceStatus ?? 'ok'}</status></instanceStatus>${events ? `<eventsSet>${events}</eventsSet>` : ''}</item>`;
          })
          .join('');
        response.end(
          `<DescribeInstanceStatusResponse ${xmlns}><requestId>s</requestId><instanceStatusSet>${items}</instanceStatusSet></DescribeInstanceStatusResponse>`,
        );
        return;
      }
      response.statusCode = 400;
      response.end(
        `<Response><Errors><Error><Code>InvalidAction</Code><Message>${action} is not served here</Message></Error></Errors><RequestID>x</RequestID></Response>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Ids named by `InstanceId.N` or an `instance-id` filter; undefined when the request names none. */
function requestedIds(params: URLSearchParams): Set<string> | undefined {
  const ids = new Set<string>();
  for (const [key, value] of params) {
    if (/^InstanceId\.\d+$/.test(key)) ids.add(value);
    const filter = /^Filter\.(\d+)\.Value\.\d+$/.exec(key);
    if (filter && params.get(`Filter.${filter[1]}.Name`) === 'instance-id') ids.add(value);
  }
  return ids.size > 0 ? ids : undefined;
}
