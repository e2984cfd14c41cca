# watchkeeper freeze hook (POSIX sh; run by SSM AWS-RunShellScript, or `sh freeze.sh` in tests).
# Inputs (shell variables set by the caller's prelude, or the environment):
#   WK_RUN_ID       run id (EventBridge event id); a retry with the same id is not a second freeze
#   WK_MOUNTS       space-separated data mount points to freeze (may be empty for a lock-only hook)
#   WK_TIMEOUT      watchdog seconds: everything is thawed and unlocked by then, whatever happens
#   WK_MYSQL        1 to hold FLUSH TABLES WITH READ LOCK across the freeze
#   WK_MYSQL_DEFAULTS_FILE  option file with the client's credentials/socket (optional)
#   WK_MYSQL_LOCK_WAIT      seconds to wait for the lock (lock_wait_timeout), default 10
#   WK_STATE_DIR    where the hook keeps its state (must not be on a frozen file system)
#   WK_PRE_B64 / WK_POST_B64  custom commands (base64): pre runs after the watchdog is armed and
#                   the lock taken, before the file systems freeze; post runs at thaw or by the watchdog
# Prints exactly one line starting with "WATCHKEEPER " and exits 0 frozen, 1 failed, 2 refused,
# 3 another run holds the freeze, 4 a file system was already frozen by someone else.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
STATE=${WK_STATE_DIR:-/run/watchkeeper}
RUN=${WK_RUN_ID:-}
MOUNTS=${WK_MOUNTS:-}
TIMEOUT=${WK_TIMEOUT:-30}
MYSQL=${WK_MYSQL:-0}
LOCK_WAIT=${WK_MYSQL_LOCK_WAIT:-10}
DEFAULTS=${WK_MYSQL_DEFAULTS_FILE:-}
PRE_B64=${WK_PRE_B64:-}
POST_B64=${WK_POST_B64:-}

say() { echo "WATCHKEEPER phase=freeze run=$RUN $*"; }
refuse() { say "status=refused $*"; exit 2; }

# Validate everything before touching anything: these values end up in a root shell.
case "$RUN" in '' | *[!A-Za-z0-9._:-]*) RUN=invalid; refuse reason=bad-run-id ;; esac
case "$TIMEOUT" in '' | *[!0-9]*) refuse reason=bad-timeout ;; esac
[ "$TIMEOUT" -ge 1 ] && [ "$TIMEOUT" -le 3600 ] || refuse reason=bad-timeout
case "$LOCK_WAIT" in '' | *[!0-9]*) refuse reason=bad-lock-wait ;; esac
case "$MYSQL" in 0 | 1) ;; *) refuse reason=bad-mysql-flag ;; esac
case "$STATE" in /*) ;; *) refuse reason=bad-state-dir ;; esac
case "$STATE" in *[!A-Za-z0-9._/-]*) refuse reason=bad-state-dir ;; esac
if [ -n "$DEFAULTS" ]; then
  case "$DEFAULTS" in /*) ;; *) refuse reason=bad-defaults-file ;; esac
  case "$DEFAULTS" in *[!A-Za-z0-9._/-]*) refuse reason=bad-defaults-file ;; esac
  [ -r "$DEFAULTS" ] || refuse reason=defaults-file-unreadable
fi
case "$PRE_B64$POST_B64" in *[!A-Za-z0-9+/=]*) refuse reason=bad-command-encoding ;; esac
if [ -n "$PRE_B64$POST_B64" ]; then command -v base64 >/dev/null 2>&1 || refuse reason=no-base64; fi
[ -n "$MOUNTS" ] || [ "$MYSQL" = 1 ] || [ -n "$PRE_B64" ] || refuse reason=nothing-to-freeze

seen=' '
index=0
for m in $MOUNTS; do
  index=$((index + 1))
  case "$m" in *[!A-Za-z0-9._/-]*) refuse reason=bad-mount-string index=$index ;; esac
  case "$m" in /*) ;; *) refuse reason=mount-not-absolute index=$index ;; esac
  # The root and boot file systems hold the shell, the SSM agent and this script's state: freezing
  # them can leave nobody able to thaw.
  case "$m" in / | /boot | /boot/* | /usr | /var | /var/log | /var/lib | /etc | /tmp | /run | /proc | /sys | /dev | /home)
    refuse reason=system-mount mount=$m ;;
  esac
  case "$m" in */ | *//* | */./* | */../* | */. | */..) refuse reason=mount-not-normalised index=$index ;; esac
  for protected in "$STATE" /var/lib/amazon/ssm /var/log/amazon/ssm /usr/bin; do
    case "$protected/" in "$m"/*) refuse reason=holds-agent-or-state mount=$m ;; esac
  done
  case "$seen" in *" $m "*) refuse reason=duplicate-mount mount=$m ;; esac
  seen="$seen$m "
  awk -v m="$m" '$2 == m { found = 1 } END { exit !found }' /proc/self/mounts || refuse reason=not-mounted mount=$m
done

if command -v fsfreeze >/dev/null 2>&1; then FSFREEZE=fsfreeze
elif command -v xfs_freeze >/dev/null 2>&1; then FSFREEZE=xfs_freeze
elif [ -n "$MOUNTS" ]; then refuse reason=no-fsfreeze
fi
if [ "$MYSQL" = 1 ]; then
  command -v mysql >/dev/null 2>&1 || refuse reason=no-mysql-client
fi

mkdir -p "$STATE" || refuse reason=state-dir-unwritable
chmod 700 "$STATE"
# One hook at a time per instance; the orchestrator also holds a lock, this guards manual runs.
exec 9>"$STATE/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w 10 9 || { say status=busy reason=hook-running; exit 3; }
fi

if grep -qxF "$RUN" "$STATE/thawed-early" 2>/dev/null; then
  # This run's thaw already came and went: the caller gave up on this freeze; do not start it now.
  say status=refused reason=thawed-before-freeze
  exit 2
fi
if [ -f "$STATE/armed" ]; then
  holder=$(cat "$STATE/armed")
  if [ "$holder" = "$RUN" ]; then
    say "status=frozen reused=1 mounts=$(tr ' ' ',' <"$STATE/mounts") mysql=$(cat "$STATE/mysql-mode") watchdogSeconds=$(cat "$STATE/timeout") frozenAt=$(cat "$STATE/frozen-at")"
    exit 0
  fi
  say "status=busy heldBy=$holder"
  exit 3
fi
# No armed watchdog: whatever is left belongs to a finished or watchdog-thawed run.
rm -f "$STATE/run" "$STATE/mounts" "$STATE/frozen" "$STATE/release" "$STATE/watchdog-fired" \
  "$STATE/watchdog.pid" "$STATE/holder.done" "$STATE/mysql.out" "$STATE/mysql-mode" "$STATE/frozen-at" "$STATE/timeout" \
  "$STATE/pre.sh" "$STATE/post.sh" "$STATE/post.running" "$STATE/pre-started"

if [ -n "$PRE_B64" ]; then printf '%s' "$PRE_B64" | base64 -d >"$STATE/pre.sh" || refuse reason=bad-command-encoding; fi
if [ -n "$POST_B64" ]; then printf '%s' "$POST_B64" | base64 -d >"$STATE/post.sh" || refuse reason=bad-command-encoding; fi
echo "$RUN" >"$STATE/run"
echo "$MOUNTS" >"$STATE/mounts"
echo "$TIMEOUT" >"$STATE/timeout"
: >"$STATE/frozen"
if [ "$MYSQL" = 1 ]; then echo held >"$STATE/mysql-mode"; else echo none >"$STATE/mysql-mode"; fi
echo "$RUN" >"$STATE/armed"

# The watchdog is armed before anything is frozen or locked, in its own session (setsid) so that
# the agent ending this command's process group does not take it down. It thaws only what this run
# froze (the "frozen" list), releases the lock, runs the post command once, and leaves a note for
# the thaw to report.
WATCHDOG='
sleep "$1"
state=$2; run=$3; fz=$4
[ "$(cat "$state/armed" 2>/dev/null)" = "$run" ] || exit 0
for m in $(cat "$state/frozen"); do "$fz" -u "$m" >/dev/null 2>&1; done
: >"$state/release"
if [ -f "$state/post.sh" ]; then mv "$state/post.sh" "$state/post.running" && sh "$state/post.running" </dev/null >/dev/null 2>&1; fi
date +%s >"$state/watchdog-fired"
rm -f "$state/armed"
'
setsid sh -c "$WATCHDOG" wk-watchdog "$TIMEOUT" "$STATE" "$RUN" "${FSFREEZE:-true}" </dev/null >/dev/null 2>&1 9>&- &
echo $! >"$STATE/watchdog.pid"

undo() {
  for f in $(cat "$STATE/frozen"); do "$FSFREEZE" -u "$f" >/dev/null 2>&1; done
  : >"$STATE/release"
  rm -f "$STATE/armed"
  pid=$(cat "$STATE/watchdog.pid" 2>/dev/null)
  [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null
  # A pre command that started may have done half its work: its post command undoes it, once.
  if [ -f "$STATE/pre-started" ] && [ -f "$STATE/post.sh" ]; then
    mv "$STATE/post.sh" "$STATE/post.running" && sh "$STATE/post.running" </dev/null 1>&2
  fi
}

if [ "$MYSQL" = 1 ]; then
  # FLUSH TABLES WITH READ LOCK lasts only as long as its session: a detached client keeps the
  # session open, reading from a loop that ends on the release note or at the watchdog timeout.
  HOLDER='
state=$1; limit=$(( $2 * 5 )); wait=$3; defaults=$4
set -- --unbuffered --batch --skip-column-names
[ -n "$defaults" ] && set -- --defaults-extra-file="$defaults" "$@"
{
  printf "SET SESSION lock_wait_timeout = %s;\nFLUSH TABLES WITH READ LOCK;\nSELECT CONCAT(\"WK_\", \"LOCKED\");\n" "$wait"
  i=0
  while [ ! -e "$state/release" ] && [ "$i" -lt "$limit" ]; do sleep 0.2; i=$((i + 1)); done
  printf "UNLOCK TABLES;\n"
} | mysql "$@" >"$state/mysql.out" 2>&1
echo $? >"$state/holder.done"
'
  setsid sh -c "$HOLDER" wk-mysql-lock "$STATE" "$TIMEOUT" "$LOCK_WAIT" "$DEFAULTS" </dev/null >/dev/null 2>&1 9>&- &
  waited=0
  limit=$(((LOCK_WAIT + 5) * 5))
  until grep -q '^WK_LOCKED$' "$STATE/mysql.out" 2>/dev/null; do
    if grep -q '^ERROR' "$STATE/mysql.out" 2>/dev/null || [ -f "$STATE/holder.done" ] || [ "$waited" -ge "$limit" ]; then
      undo
      code=$(sed -n 's/^ERROR \([0-9]*\).*/\1/p' "$STATE/mysql.out" 2>/dev/null | head -n 1)
      say "status=failed reason=mysql-lock-failed mysqlError=${code:-none}"
      exit 1
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
fi

if [ -f "$STATE/pre.sh" ]; then
  : >"$STATE/pre-started"
  # The command's own output goes to stderr: stdout carries only the status line.
  if ! sh "$STATE/pre.sh" </dev/null 1>&2; then
    undo
    say status=failed reason=pre-command-failed
    exit 1
  fi
fi

sync
for m in $MOUNTS; do
  if err=$("$FSFREEZE" -f "$m" 2>&1); then
    echo "$m" >>"$STATE/frozen"
  else
    undo
    case "$err" in
      *busy*) say "status=already-frozen mount=$m"; exit 4 ;;
      *) say "status=failed reason=freeze-error mount=$m"; exit 1 ;;
    esac
  fi
done
date +%s >"$STATE/frozen-at"
pre=none
[ -f "$STATE/pre-started" ] && pre=ok
say "status=frozen reused=0 mounts=$(echo "$MOUNTS" | tr ' ' ',') mysql=$(cat "$STATE/mysql-mode") pre=$pre watchdogSeconds=$TIMEOUT frozenAt=$(cat "$STATE/frozen-at")"
exit 0
