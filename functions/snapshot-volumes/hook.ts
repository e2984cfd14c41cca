/**
 * The freeze hook as SSM sees it: the shell lines sent with AWS-RunShellScript for each phase, and
 * the one status line the scripts print back.
 */
import type { FreezeSpec } from './config.ts';
import { FREEZE_SCRIPT, THAW_SCRIPT } from './hook-scripts.ts';

/** Where the hook keeps its state on the instance: tmpfs, never a frozen file system. */
export const HOOK_STATE_DIR = '/run/watchkeeper';

/** A freeze mode that runs something on the instance. */
export type ActiveFreeze = Exclude<FreezeSpec, { mode: 'none' }>;

/** Quotes a value for a POSIX shell (values are validated as well; this is the second fence). */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function prelude(variables: Record<string, string>): string[] {
  return Object.entries(variables).map(([name, value]) => `${name}=${shellQuote(value)}`);
}

/** Seconds the instance stays quiesced at most: the watchdog undoes everything by then. */
export function watchdogSecondsOf(spec: ActiveFreeze): number {
  return spec.watchdogSeconds;
}

/** The `commands` parameter that quiesces the instance. */
export function freezeCommands(spec: ActiveFreeze, runId: string, stateDir = HOOK_STATE_DIR): string[] {
  const variables: Record<string, string> = {
    WK_RUN_ID: runId,
    WK_MOUNTS: spec.mode === 'commands' ? '' : spec.mountPoints.join(' '),
    WK_TIMEOUT: String(spec.watchdogSeconds),
    WK_MYSQL: spec.mode === 'mysql' ? '1' : '0',
    WK_STATE_DIR: stateDir,
  };
  if (spec.mode === 'commands') {
    // Base64: the user's text reaches the instance as data, never re-parsed by the prelude.
    variables['WK_PRE_B64'] = Buffer.from(spec.pre).toString('base64');
    variables['WK_POST_B64'] = Buffer.from(spec.post).toString('base64');
  }
  if (spec.mode === 'mysql') {
    variables['WK_MYSQL_LOCK_WAIT'] = String(spec.lockWaitSeconds);
    if (spec.defaultsFile !== undefined) variables['WK_MYSQL_DEFAULTS_FILE'] = spec.defaultsFile;
  }
  return [...prelude(variables), ...FREEZE_SCRIPT.split('\n')];
}

/** The `commands` parameter that thaws the instance. */
export function thawCommands(runId: string, stateDir = HOOK_STATE_DIR): string[] {
  return [...prelude({ WK_RUN_ID: runId, WK_STATE_DIR: stateDir }), ...THAW_SCRIPT.split('\n')];
}

/** The parsed `WATCHKEEPER key=value ...` line. */
export interface HookStatus {
  phase: string;
  status: string;
  fields: Record<string, string>;
}

/** The last status line in a command's output, or undefined when there is none (custom commands). */
export function parseHookStatus(stdout: string): HookStatus | undefined {
  const line = stdout
    .split('\n')
    .filter((candidate) => candidate.startsWith('WATCHKEEPER '))
    .at(-1);
  if (line === undefined) return undefined;
  const fields: Record<string, string> = {};
  for (const token of line.slice('WATCHKEEPER '.length).trim().split(/\s+/)) {
    const at = token.indexOf('=');
    if (at > 0) fields[token.slice(0, at)] = token.slice(at + 1);
  }
  return { phase: fields['phase'] ?? '', status: fields['status'] ?? '', fields };
}
