#!/usr/bin/env bash
# A Spark standalone cluster on this machine (loopback only), so the cluster path can be tried before
# there is a cluster: one master and N workers, each a background JVM started from the project's Maven
# class path (no Spark download). `./dk cluster ...` calls this with the class path file of its build.
#
#   scripts/cluster.sh start  [--workers N] [--cores C] [--memory M] [--port P] [--webui-port W]
#                             [--classpath FILE] [--dir DIR] [--user NAME]
#   scripts/cluster.sh status [--dir DIR]
#   scripts/cluster.sh stop   [--dir DIR]
#
# --classpath (or DK_CLASSPATH_FILE): a file holding one class path line (mvn dependency:build-classpath);
#   its jars become the cluster's SPARK_HOME/jars, i.e. what every executor has on its class path.
#   The project's own jars (darkknowledge/...) are left out on purpose: the driver ships its own code
#   with every application, so a long-lived cluster never runs a stale copy.
# --dir (or DK_CLUSTER_DIR; default ~/.cache/dark-knowledge/cluster): SPARK_HOME, pid files, logs and the
#   workers' directories. Run with the master at spark://127.0.0.1:P (default 7077); web UIs on
#   127.0.0.1:W (master, default 8089) and W+i (worker i).
# --user NAME (as root): the workers and their executors run as the unprivileged user NAME, each with a
#   HOME and a work directory of its own under DIR/workers/, an environment holding only what Spark needs,
#   and a SPARK_HOME whose jars are copies (not links into a Maven repository): machines that share no file
#   system with the driver, as on a real cluster. DIR must be reachable by NAME (not under a 0700 directory).
# Workers need SPARK_HOME = a directory with an empty RELEASE file and jars/, and SPARK_SCALA_VERSION=2.13,
# or every executor fails with "Cannot find any build directories".
set -euo pipefail

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "cluster: error: $*" >&2; exit 2; }

cmd="${1:-}"; [[ -n "$cmd" ]] && shift || true
WORKERS=2 CORES=1 MEMORY=1g PORT=7077 WEBUI=8089
CP_FILE="${DK_CLASSPATH_FILE:-}"
AS_USER=""
DIR="${DK_CLUSTER_DIR:-$HOME/.cache/dark-knowledge/cluster}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workers) WORKERS="${2:?--workers needs a number}"; shift 2 ;;
    --cores) CORES="${2:?--cores needs a number}"; shift 2 ;;
    --memory) MEMORY="${2:?--memory needs a size such as 1g}"; shift 2 ;;
    --port) PORT="${2:?--port needs a number}"; shift 2 ;;
    --webui-port) WEBUI="${2:?--webui-port needs a number}"; shift 2 ;;
    --classpath) CP_FILE="${2:?--classpath needs a file}"; shift 2 ;;
    --dir) DIR="${2:?--dir needs a directory}"; shift 2 ;;
    --user) AS_USER="${2:?--user needs a user name}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || die "--workers: expected a positive integer, got '$WORKERS'"
[[ "$CORES" =~ ^[1-9][0-9]*$ ]] || die "--cores: expected a positive integer, got '$CORES'"
[[ "$MEMORY" =~ ^[1-9][0-9]*[mMgG]$ ]] || die "--memory: expected a size such as 1g or 768m, got '$MEMORY'"
[[ "$PORT" =~ ^[0-9]+$ && "$WEBUI" =~ ^[0-9]+$ ]] || die "--port and --webui-port must be numbers"

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
java_major() { "$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'; }
# Spark's --add-opens on Java 17+, our usual native-access flags; small heaps: these JVMs only schedule.
FLAGS=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
       --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
       --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
       --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Djava.awt.headless=true
       --add-modules=jdk.incubator.vector -Xmx512m -Dspark.port.maxRetries=0 -Dspark.master.rest.enabled=false)
export SPARK_HOME="$DIR/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1

alive() { # pid file -> true when it names a live Spark daemon
  local f="$1" pid
  [[ -f "$f" ]] || return 1
  pid=$(cat "$f")
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'org.apache.spark.deploy'
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
master_url() { cat "$DIR/master.url" 2>/dev/null || echo "spark://127.0.0.1:$PORT"; }
alive_workers() { # from the master's JSON status page; without curl, the workers it registered
  local ui; ui=$(cat "$DIR/master.webui" 2>/dev/null || echo "$WEBUI")
  if command -v curl >/dev/null; then
    curl -fsS --max-time 2 "http://127.0.0.1:$ui/json/" 2>/dev/null | grep -o '"aliveworkers" *: *[0-9]*' | grep -o '[0-9]*$' || echo 0
  else
    grep -c "Registering worker" "$DIR/logs/master.log" 2>/dev/null || echo 0
  fi
}

start() {
  if alive "$DIR/pids/master.pid"; then
    echo "error: a cluster is already running here: $(master_url) (master pid $(cat "$DIR/pids/master.pid"), $(alive_workers) worker(s)); stop it first with: cluster stop" >&2
    exit 1
  fi
  local major; major=$(java_major || true)
  [[ "$major" =~ ^[0-9]+$ ]] && (( major >= 25 )) || die "$JAVA is Java '${major:-?}'; the cluster needs Java 25+ (set JAVA_HOME, as ./dk does)"
  [[ -n "$CP_FILE" ]] || die "no class path: pass --classpath FILE or set DK_CLASSPATH_FILE (a file written by mvn dependency:build-classpath)"
  [[ -f "$CP_FILE" ]] || die "class path file not found: $CP_FILE"
  port_open "$PORT" && die "port 127.0.0.1:$PORT is in use by another process; choose --port"
  port_open "$WEBUI" && die "port 127.0.0.1:$WEBUI (master web UI) is in use; choose --webui-port"
  mkdir -p "$DIR/pids" "$DIR/logs" "$DIR/work"
  if [[ -n "$AS_USER" ]]; then
    # root writes logs, jars and pid files here and runs the master from it: the directory must be root's
    # own and writable by nobody else (in /tmp another user could have made it first)
    local owner mode
    owner=$(stat -c %u "$DIR") mode=$(stat -c %a "$DIR")
    [[ "$owner" == 0 && ! -L "$DIR" ]] || die "--user: $DIR must be a directory owned by root (owner uid $owner)"
    (( (8#$mode & 8#022) == 0 )) || die "--user: $DIR must not be writable by group or others (mode $mode)"
  fi
  # Workers left from a cluster whose master died would be unreachable once their pid files are replaced.
  for f in "$DIR"/pids/worker-*.pid; do
    if alive "$f"; then kill "$(cat "$f")" 2>/dev/null || true; fi
  done
  local uid="" gid=""
  if [[ -n "$AS_USER" ]]; then
    (( EUID == 0 )) || die "--user $AS_USER: starting workers as another user needs root"
    uid=$(id -u "$AS_USER" 2>/dev/null) || die "--user: no such user '$AS_USER' (create it: useradd --system $AS_USER)"
    gid=$(id -g "$AS_USER")
    (( uid != 0 )) || die "--user: '$AS_USER' is root; name an unprivileged user"
    command -v setpriv >/dev/null || die "--user needs setpriv (util-linux)"
    chmod 755 "$DIR"
  fi
  rm -rf "$SPARK_HOME"; mkdir -p "$SPARK_HOME/jars"; : >"$SPARK_HOME/RELEASE"
  local n=0 entry
  IFS=":" read -r -a entries <"$CP_FILE" || true  # one line, often without a final newline
  for entry in "${entries[@]}"; do
    [[ "$entry" == *.jar && -f "$entry" && "$entry" != */darkknowledge/* ]] || continue
    if [[ -n "$AS_USER" ]]; then
      # a copy (a hard link where the file system allows): the workers never read the Maven repository
      ln -f "$entry" "$SPARK_HOME/jars/$(basename "$entry")" 2>/dev/null || cp "$entry" "$SPARK_HOME/jars/"
      chmod a+r "$SPARK_HOME/jars/$(basename "$entry")"
    else
      ln -sf "$entry" "$SPARK_HOME/jars/$(basename "$entry")"
    fi
    n=$((n + 1))
  done
  chmod -R a+rX "$SPARK_HOME"
  ls "$SPARK_HOME"/jars/spark-core_2.13-*.jar >/dev/null 2>&1 || die "$CP_FILE has no spark-core_2.13 jar: build the class path of a module that depends on darkknowledge:spark"
  local cp="$SPARK_HOME/jars/*"
  nohup "$JAVA" "${FLAGS[@]}" -cp "$cp" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$PORT" --webui-port "$WEBUI" >"$DIR/logs/master.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/master.pid"
  echo "spark://127.0.0.1:$PORT" >"$DIR/master.url"; echo "$WEBUI" >"$DIR/master.webui"
  for _ in $(seq 1 120); do port_open "$PORT" && break; alive "$DIR/pids/master.pid" || break; sleep 0.5; done
  port_open "$PORT" || { stop >/dev/null 2>&1 || true; die "the master did not come up on 127.0.0.1:$PORT (log: $DIR/logs/master.log)"; }
  for i in $(seq 1 "$WORKERS"); do
    if [[ -n "$AS_USER" ]]; then
      local home="$DIR/workers/worker-$i/home" work="$DIR/workers/worker-$i/work"
      mkdir -p "$home" "$work" "$DIR/workers/worker-$i/tmp"
      chmod 755 "$DIR/workers"; chown -R "$uid:$gid" "$DIR/workers/worker-$i"; chmod 700 "$DIR/workers/worker-$i"
      # nohup, env and setpriv each exec the next: the pid file names the worker's JVM
      (cd "$work" || exit 1
       nohup env -i PATH=/usr/bin:/bin HOME="$home" USER="$AS_USER" LANG=C.UTF-8 JAVA_HOME="${JAVA_HOME:-}" \
        SPARK_HOME="$SPARK_HOME" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1 \
        setpriv --reuid="$uid" --regid="$gid" --clear-groups \
        "$JAVA" "${FLAGS[@]}" -Djava.io.tmpdir="$DIR/workers/worker-$i/tmp" -cp "$cp" org.apache.spark.deploy.worker.Worker \
        "spark://127.0.0.1:$PORT" --host 127.0.0.1 --cores "$CORES" --memory "$MEMORY" --webui-port $((WEBUI + i)) \
        --work-dir "$work" >"$DIR/logs/worker-$i.log" 2>&1 </dev/null &
       echo $! >"$DIR/pids/worker-$i.pid")
    else
      mkdir -p "$DIR/work/worker-$i"
      nohup "$JAVA" "${FLAGS[@]}" -cp "$cp" org.apache.spark.deploy.worker.Worker "spark://127.0.0.1:$PORT" \
        --host 127.0.0.1 --cores "$CORES" --memory "$MEMORY" --webui-port $((WEBUI + i)) \
        --work-dir "$DIR/work/worker-$i" >"$DIR/logs/worker-$i.log" 2>&1 </dev/null &
      echo $! >"$DIR/pids/worker-$i.pid"
    fi
  done
  for _ in $(seq 1 120); do (( $(alive_workers) >= WORKERS )) && break; sleep 0.5; done
  local up; up=$(alive_workers)
  if (( up < WORKERS )); then
    echo "cluster: warning: only $up of $WORKERS workers registered within 60 s (logs: $DIR/logs/)" >&2
  fi
  echo "cluster: started $(master_url) with $up worker(s) x $CORES core(s), $MEMORY each ($n jars in $SPARK_HOME/jars)${AS_USER:+, workers as user $AS_USER}"
  echo "cluster: master web UI http://127.0.0.1:$WEBUI ; run with --set engine.kind=spark --set engine.master=$(master_url) --set engine.workers=$WORKERS --set engine.executorCores=$CORES"
}

status() {
  if ! alive "$DIR/pids/master.pid"; then
    echo "cluster: not running (state in $DIR)"; exit 3
  fi
  echo "cluster: master $(master_url) pid $(cat "$DIR/pids/master.pid"), web UI http://127.0.0.1:$(cat "$DIR/master.webui")"
  local f
  for f in "$DIR"/pids/worker-*.pid; do
    [[ -f "$f" ]] || continue
    if alive "$f"; then echo "cluster: $(basename "$f" .pid) pid $(cat "$f") running"; else echo "cluster: $(basename "$f" .pid) not running"; fi
  done
  echo "cluster: $(alive_workers) worker(s) registered with the master"
}

stop() {
  local f pid kids=() stopped=0
  for f in "$DIR"/pids/worker-*.pid "$DIR/pids/master.pid"; do
    [[ -f "$f" ]] || continue
    if alive "$f"; then
      pid=$(cat "$f")
      # a worker's executors are its children; a TERMed worker kills them, a KILLed one may not
      kids+=($(cat /proc/"$pid"/task/*/children 2>/dev/null || true))
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      stopped=$((stopped + 1))
    fi
    rm -f "$f"
  done
  # a left-over executor only: by now its pid may have been reused by an unrelated process
  for pid in "${kids[@]}"; do
    tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -q 'org\.apache\.spark' && kill -KILL "$pid" 2>/dev/null || true
  done
  echo "cluster: stopped $stopped process(es)"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  ""|-h|--help|help) usage ;;
  *) die "unknown command '$cmd' (start, stop or status)" ;;
esac
