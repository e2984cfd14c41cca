/** Real-shaped Lambda invocation inputs for handler tests: a context and an EventBridge scheduled event. */
import type { Context } from 'aws-lambda';

/** A Lambda context for `watchkeeper-test-<job>` with a minute left. */
export function lambdaContext(job: string, requestId: string, remainingMs = 60_000): Context {
  const name = `watchkeeper-test-${job}`;
  return {
    awsRequestId: requestId,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
    memoryLimitInMB: '512',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The event EventBridge sends for a schedule; its id becomes the run id. */
export function scheduledEvent(id: string) {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: '2026-11-22T06:00:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:events:eu-west-1:123456789012:rule/watchkeeper'],
    detail: {},
  };
}
