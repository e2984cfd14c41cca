# watchkeeper thaw hook (POSIX sh; run by SSM AWS-RunShellScript, or `sh thaw.sh` in tests).
# Inputs: WK_RUN_ID (the run that froze), WK_STATE_DIR (as for freeze.sh).
# Thaws what the run froze, runs the post command, then disarms the watchdog (only once everything
# is thawed, so a failed thaw still has the watchdog behind it), releases the MySQL lock, and
# reports whether the watchdog had already fired. Prints one line starting with "WATCHKEEPER " and exits 0 thawed or nothing to
# thaw, 1 a file system could not be thawed, 2 refused, 3 the freeze belongs to another run.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
STATE=${WK_STATE_DIR:-/run/watchkeeper}
RUN=${WK_RUN_ID:-}

say() { echo "WATCHKEEPER phase=thaw run=$RUN $*"; }

case "$RUN" in '' | *[!A-Za-z0-9._:-]*) RUN=invalid; say status=refused reason=bad-run-id; exit 2 ;; esac
case "$STATE" in /*) ;; *) say status=refused reason=bad-state-dir; exit 2 ;; esac
case "$STATE" in *[!A-Za-z0-9._/-]*) say status=refused reason=bad-state-dir; exit 2 ;; esac

# A thaw that finds nothing may have overtaken its own freeze (delivered late, after the caller
# gave up): note the run so that freeze refuses to start.
remember_early_thaw() {
  mkdir -p "$STATE" && chmod 700 "$STATE" || return 0
  echo "$RUN" >>"$STATE/thawed-early"
  tail -n 50 "$STATE/thawed-early" >"$STATE/thawed-early.new" && mv "$STATE/thawed-early.new" "$STATE/thawed-early"
}

if [ ! -f "$STATE/run" ]; then
  remember_early_thaw
  say status=not-frozen watchdog=none
  exit 0
fi
exec 9>"$STATE/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w 10 9 || { say status=busy reason=hook-running; exit 3; }
fi
# Re-read under the lock: a concurrent thaw may have finished meanwhile.
if [ ! -f "$STATE/run" ]; then
  remember_early_thaw
  say status=not-frozen watchdog=none
  exit 0
fi
owner=$(cat "$STATE/run")
if [ "$owner" != "$RUN" ]; then
  say "status=busy heldBy=$owner"
  exit 3
fi

if command -v fsfreeze >/dev/null 2>&1; then FSFREEZE=fsfreeze; else FSFREEZE=xfs_freeze; fi
thawed=''
already=''
failed=''
for m in $(cat "$STATE/frozen" 2>/dev/null); do
  if err=$("$FSFREEZE" -u "$m" 2>&1); then
    thawed="$thawed,$m"
  else
    # EINVAL: the file system is not frozen (the watchdog or an operator thawed it first).
    case "$err" in
      *nvalid*) already="$already,$m" ;;
      *) failed="$failed,$m" ;;
    esac
  fi
done

if [ -n "$failed" ]; then
  say "status=failed reason=thaw-error mounts=${failed#,} watchdogAt=$(($(cat "$STATE/frozen-at" 2>/dev/null || date +%s) + $(cat "$STATE/timeout" 2>/dev/null || echo 0)))"
  exit 1
fi

post=none
if [ -f "$STATE/post.sh" ]; then
  # Run once (moved first): the watchdog does not repeat a post command that may not be idempotent.
  mv "$STATE/post.sh" "$STATE/post.running"
  if sh "$STATE/post.running" </dev/null 1>&2; then post=ok; else post=failed; fi
fi

watchdog=disarmed
firedAt=''
if [ -f "$STATE/watchdog-fired" ]; then
  watchdog=fired
  firedAt=" firedAt=$(cat "$STATE/watchdog-fired")"
fi
rm -f "$STATE/armed"
pid=$(cat "$STATE/watchdog.pid" 2>/dev/null)
[ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null

mysql=none
if [ "$(cat "$STATE/mysql-mode" 2>/dev/null)" = held ]; then
  : >"$STATE/release"
  i=0
  while [ ! -f "$STATE/holder.done" ] && [ "$i" -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
  if [ -f "$STATE/holder.done" ]; then mysql=released; else mysql=release-timeout; fi
fi

rm -f "$STATE/run" "$STATE/mounts" "$STATE/frozen" "$STATE/release" "$STATE/watchdog-fired" \
  "$STATE/watchdog.pid" "$STATE/holder.done" "$STATE/mysql.out" "$STATE/mysql-mode" "$STATE/frozen-at" "$STATE/timeout" \
  "$STATE/pre.sh" "$STATE/post.sh" "$STATE/post.running" "$STATE/pre-started"
if [ "$post" = failed ]; then
  say "status=failed reason=post-command-failed thawed=${thawed#,} watchdog=$watchdog$firedAt mysql=$mysql"
  exit 1
fi
say "status=thawed thawed=${thawed#,} alreadyThawed=${already#,} watchdog=$watchdog$firedAt mysql=$mysql post=$post"
exit 0
