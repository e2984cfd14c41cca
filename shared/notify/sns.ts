/** Publishing to the SNS topic (the stack's topic in AWS, `notify.topicArn` from the CLI). */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { awsClient } from '../aws.ts';
import type { SnsMessage } from './message.ts';
import type { Publisher } from './notify.ts';

/** Failure to publish, naming the topic. */
export class PublishError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PublishError';
  }
}

/** A publisher that sends to `topicArn`. */
export function snsPublisher(topicArn: string): Publisher {
  return {
    async publish(message: SnsMessage) {
      try {
        const output = await awsClient(SNSClient).send(
          new PublishCommand({ TopicArn: topicArn, ...message }),
        );
        return { messageId: output.MessageId };
      } catch (error) {
        throw new PublishError(`could not publish to ${topicArn}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
  };
}
