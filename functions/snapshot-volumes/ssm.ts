/**
 * Runs a shell command on one instance through SSM Run Command and waits for its outcome, with
 * what SSM does in practice: invocations invisible for a moment after SendCommand, throttling,
 * and two different timeouts (delivery and execution).
 */
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { CommandError, errorMessage, errorName, isThrottling } from '#shared/ec2/errors.ts';

/** What `runShellCommand` needs from its surroundings. */
export interface CommandRunnerDeps {
  ssm: SSMClient;
  sleep: (ms: number) => Promise<void>;
  /** Milliseconds clock for the wait budget. */
  clock: () => number;
}

/** One command for one instance. */
export interface ShellCommandRequest {
  instanceId: string;
  commands: string[];
  comment: string;
  /** Execution timeout on the instance (the document's `executionTimeout`). */
  executionTimeoutSeconds: number;
  /** How long to wait for a terminal status before giving up (and cancelling). */
  waitMs: number;
}

/** How a command ended, as far as we could see. */
export type ShellCommandOutcome =
  | {
      kind: 'finished';
      commandId: string;
      /** SSM's terminal Status: Success, Failed, TimedOut, Cancelled. */
      status: string;
      /** Finer detail: "Delivery Timed Out", "Execution Timed Out", "Undeliverable", "Terminated" ... */
      statusDetails: string;
      responseCode: number;
      stdout: string;
      stderr: string;
    }
  | { kind: 'wait-timeout'; commandId: string; lastStatus: string };

const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
// First poll soon (most hooks take well under a second), then back off gently.
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 2_000;

/** Sends `commands` with AWS-RunShellScript and polls until a terminal status or `waitMs`. */
export async function runShellCommand(
  deps: CommandRunnerDeps,
  request: ShellCommandRequest,
): Promise<ShellCommandOutcome> {
  const started = deps.clock();
  const commandId = await sendWithRetry(deps, request);
  let pause = FIRST_POLL_MS;
  let lastStatus = 'Sent';
  for (;;) {
    await deps.sleep(pause);
    pause = Math.min(MAX_POLL_MS, Math.round(pause * 1.5));
    let invocation: GetCommandInvocationCommandOutput | undefined;
    try {
      invocation = await deps.ssm.send(
        new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: request.instanceId }),
      );
    } catch (error) {
      // Right after SendCommand the invocation is not visible yet (eventual consistency).
      if (errorName(error) !== 'InvocationDoesNotExist' && !isThrottling(error)) {
        throw new CommandError(
          `GetCommandInvocation ${commandId} on ${request.instanceId}: ${errorMessage(error)}`,
          {
            cause: error,
            sent: true,
          },
        );
      }
      lastStatus = errorName(error) === 'InvocationDoesNotExist' ? 'NotVisibleYet' : 'Throttled';
    }
    if (invocation?.Status !== undefined) {
      lastStatus = invocation.Status;
      if (TERMINAL.has(invocation.Status)) {
        return {
          kind: 'finished',
          commandId,
          status: invocation.Status,
          statusDetails: invocation.StatusDetails ?? invocation.Status,
          responseCode: invocation.ResponseCode ?? -1,
          stdout: invocation.StandardOutputContent ?? '',
          stderr: invocation.StandardErrorContent ?? '',
        };
      }
    }
    if (deps.clock() - started >= request.waitMs) {
      await cancelQuietly(deps, commandId, request.instanceId);
      return { kind: 'wait-timeout', commandId, lastStatus };
    }
  }
}

async function sendWithRetry(deps: CommandRunnerDeps, request: ShellCommandRequest): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const sent = await deps.ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [request.instanceId],
          Comment: request.comment.slice(0, 100),
          Parameters: {
            commands: request.commands,
            executionTimeout: [String(request.executionTimeoutSeconds)],
          },
          // The delivery timeout (30 s is SSM's minimum): a command not started by then never runs.
          TimeoutSeconds: Math.max(30, Math.ceil(request.waitMs / 1000)),
        }),
      );
      const commandId = sent.Command?.CommandId;
      if (commandId === undefined)
        throw new CommandError(`SendCommand to ${request.instanceId} returned no command id`, {
          sent: false,
        });
      return commandId;
    } catch (error) {
      if (!isThrottling(error) || attempt >= 4) {
        if (error instanceof CommandError) throw error;
        throw new CommandError(`SendCommand to ${request.instanceId}: ${errorMessage(error)}`, {
          cause: error,
          sent: false,
        });
      }
      await deps.sleep(200 * 2 ** attempt);
    }
  }
}

// A freeze that is delivered after we gave up must not run: cancel it (the watchdog covers the
// case where it already started).
async function cancelQuietly(deps: CommandRunnerDeps, commandId: string, instanceId: string): Promise<void> {
  try {
    await deps.ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }));
  } catch {
    // Best effort: the command may have finished meanwhile, and the caller thaws regardless.
  }
}
