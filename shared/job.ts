/**
 * What a job is to the rest of watchkeeper: a named config section, a schema for it, and a `run`
 * that turns a validated section into findings. Handlers, the CLI and tests all run jobs through
 * `runJob` (shared/runner.ts), so a job never deals with SNS, alert state or process exit codes.
 */
import type * as z from 'zod';
import type { GlobalSettings } from './config/global.ts';
import type { Finding } from './findings.ts';
import type { StateStore } from './state/store.ts';

/** Structural logger (Powertools Logger, the CLI's stderr logger and test spies all fit). */
export interface JobLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Time left for this run. Jobs stop starting new work once `reached()` and report `incomplete`. */
export interface Deadline {
  /** Milliseconds until the hard deadline (Lambda's remaining time, less a safety margin). */
  remainingMs(): number;
  /** True once fewer than `reserveMs` remain (default: the margin the runner reserves for reporting). */
  reached(reserveMs?: number): boolean;
  /** Aborted when the deadline is reached: pass it to SDK calls and sockets. */
  readonly signal: AbortSignal;
}

/** Where the job is running, for messages that depend on it (port 25 is blocked in Lambda). */
export interface RuntimeInfo {
  inLambda: boolean;
  region: string | undefined;
  accountId?: string;
}

/** Everything a job may use, passed in so the logic is testable without AWS. */
export interface JobContext<C> {
  job: string;
  /** EventBridge event id for scheduled runs (so retries reuse it), a fresh id otherwise. */
  runId: string;
  /** This job's validated section, with invocation overrides applied. */
  config: C;
  /** Settings shared by all jobs (resolver, region, notify). */
  global: GlobalSettings;
  /**
   * Every section of watchkeeper.yml as written, for a job that takes targets from another job's
   * section (check-blocklists reads the `dns` section's mail senders). Parse what you read.
   */
  sections: Readonly<Record<string, unknown>>;
  now: () => Date;
  deadline: Deadline;
  logger: JobLogger;
  /** Locks, checkpoints and other per-job state (DynamoDB in AWS, a file locally). */
  state: StateStore;
  /** Resolves `ssm:/path` references (cached per cold start). */
  resolveSecret: (reference: string) => Promise<string>;
  runtime: RuntimeInfo;
}

/** What a job returns; the runner adds timing, status and the common findings. */
export interface JobOutcome {
  findings: Finding[];
  stats: Record<string, number>;
  /** Set when the deadline stopped the run early: what was not reached. Becomes `job.incomplete`. */
  incomplete?: { message: string; data?: Record<string, unknown> };
}

/** A job: its name (function and CLI name), its config section and its logic. */
export interface JobDefinition<C = unknown> {
  /** Function and CLI name, e.g. `check-certificates`. */
  name: string;
  /** Key of its section in watchkeeper.yml, e.g. `certificates`. */
  section: string;
  /** One line for `watchkeeper list` and the README. */
  description: string;
  /** zod schema of the section (defaults filled in by parsing). */
  schema: z.ZodType<C>;
  /** Whether `npm run demo` can run it without an AWS account. */
  runsLocally: boolean;
  /**
   * IAM statements the function needs beyond SNS publish and the state table (which every job
   * gets). Resources may use CloudFormation `${AWS::Region}` / `${AWS::AccountId}`. A test compares
   * these with the SDK commands the bundle really sends.
   */
  permissions?(section: C): IamStatement[];
  run(context: JobContext<C>): Promise<JobOutcome>;
}

/** A job of any section type (method syntax keeps JobDefinition<C> assignable to this). */
export type AnyJobDefinition = JobDefinition<unknown>;

/** One IAM policy statement (Allow). */
export interface IamStatement {
  actions: string[];
  resources: string[];
  /** IAM condition block, e.g. `{ StringEquals: { 'aws:ResourceTag/managed-by': 'watchkeeper' } }`. */
  conditions?: Record<string, unknown>;
}
