/**
 * A loopback HTTP endpoint that answers SNS Publish (AWS Query protocol) like SNS does, recording
 * each message, so a bundled handler can publish for real through AWS_ENDPOINT_URL_SNS.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A received Publish call, decoded from the form body. */
export type PublishedMessage = Record<string, string>;

/** A running endpoint. */
export interface SnsEndpoint {
  url: string;
  published: PublishedMessage[];
  close(): Promise<void>;
}

/** Starts the endpoint on an ephemeral loopback port. */
export async function startSnsEndpoint(): Promise<SnsEndpoint> {
  const published: PublishedMessage[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      response.setHeader('content-type', 'text/xml');
      if (params['Action'] !== 'Publish') {
        response.statusCode = 400;
        response.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only Publish</Message></Error><RequestId>x</RequestId></ErrorResponse>',
        );
        return;
      }
      published.push(params);
      response.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>msg-${published.length}</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    published,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
