import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  freezeCommands,
  parseHookStatus,
  shellQuote,
  thawCommands,
} from '#functions/snapshot-volumes/hook.ts';
import { FREEZE_SCRIPT, THAW_SCRIPT } from '#functions/snapshot-volumes/hook-scripts.ts';
import { staleHookScripts } from '#functions/snapshot-volumes/scripts/embed.ts';

describe('embedded hook scripts', () => {
  it('match the .sh files in the repository (run scripts/embed.ts after editing them)', async () => {
    expect(await staleHookScripts()).toEqual([]);
    expect(FREEZE_SCRIPT).toBe(
      readFileSync(new URL('../../functions/snapshot-volumes/scripts/freeze.sh', import.meta.url), 'utf8'),
    );
    expect(THAW_SCRIPT).toContain('phase=thaw');
  });
});

describe('freezeCommands', () => {
  it('sets the hook variables in a quoted prelude before the script', () => {
    const lines = freezeCommands(
      {
        mode: 'mysql',
        mountPoints: ['/var/lib/mysql', '/data'],
        watchdogSeconds: 45,
        lockWaitSeconds: 7,
        defaultsFile: '/root/.my.cnf',
      },
      'evt-1',
    );
    expect(lines.slice(0, 8)).toEqual([
      "WK_RUN_ID='evt-1'",
      "WK_MOUNTS='/var/lib/mysql /data'",
      "WK_TIMEOUT='45'",
      "WK_MYSQL='1'",
      "WK_STATE_DIR='/run/watchkeeper'",
      "WK_MYSQL_LOCK_WAIT='7'",
      "WK_MYSQL_DEFAULTS_FILE='/root/.my.cnf'",
      '# watchkeeper freeze hook (POSIX sh; run by SSM AWS-RunShellScript, or `sh freeze.sh` in tests).',
    ]);
  });

  it('passes custom commands to the hook as base64 data, never as shell text', () => {
    const pre = "systemctl stop app; echo 'x'";
    const spec = { mode: 'commands', pre, post: 'systemctl start app', watchdogSeconds: 30 } as const;
    const lines = freezeCommands(spec, 'r');
    expect(lines).toContain(`WK_PRE_B64='${Buffer.from(pre).toString('base64')}'`);
    expect(lines).toContain(`WK_POST_B64='${Buffer.from('systemctl start app').toString('base64')}'`);
    expect(lines).toContain("WK_MOUNTS=''");
    expect(lines.join('\n')).not.toContain('systemctl');
    expect(thawCommands('r').slice(0, 2)).toEqual(["WK_RUN_ID='r'", "WK_STATE_DIR='/run/watchkeeper'"]);
  });
});

describe('SSM payload', () => {
  it('contains no "{{", which SSM would read as a parameter reference', () => {
    const spec = { mode: 'commands', pre: 'echo {{x}}', post: 'true', watchdogSeconds: 30 } as const;
    for (const lines of [freezeCommands(spec, 'r'), thawCommands('r')])
      expect(lines.join('\n')).not.toContain('{{');
  });
});

describe('shellQuote', () => {
  it('keeps a single quote from ending the quoted word', () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});

describe('parseHookStatus', () => {
  it('reads the last status line among other output', () => {
    const status = parseHookStatus(
      'noise\nWATCHKEEPER phase=freeze run=r status=frozen mounts=/a,/b frozenAt=17\nmore\n',
    );
    expect(status).toEqual({
      phase: 'freeze',
      status: 'frozen',
      fields: { phase: 'freeze', run: 'r', status: 'frozen', mounts: '/a,/b', frozenAt: '17' },
    });
  });

  it('returns undefined without a status line', () => {
    expect(parseHookStatus('done\n')).toBeUndefined();
  });
});
