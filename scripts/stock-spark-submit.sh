#!/usr/bin/env bash
# `spark-submit` for the stand-in stock Spark (docs/cluster.md): what a Spark distribution's
# bin/spark-submit does, on Spark's own jars. Spark's launcher (org.apache.spark.launcher.Main, as
# bin/spark-class runs it) turns spark-submit's arguments into the driver's command line, applying
# --driver-memory and --driver-java-options in client mode; that command is then run in place of this
# script. So the recipe's command runs as written, with `scripts/stock-spark-submit.sh` for `spark-submit`.
#
#   SPARK_HOME=<a directory with an empty RELEASE file and jars/> scripts/stock-spark-submit.sh [spark-submit args]
#
# scripts/cluster.sh makes such a SPARK_HOME (<cluster dir>/spark-home) from stock-spark/target/classpath.txt.
set -euo pipefail
[[ -n "${SPARK_HOME:-}" && -f "$SPARK_HOME/RELEASE" && -d "$SPARK_HOME/jars" ]] \
  || { echo "error: SPARK_HOME must be a directory with a RELEASE file and jars/ (got '${SPARK_HOME:-}')" >&2; exit 2; }
export SPARK_SCALA_VERSION="${SPARK_SCALA_VERSION:-2.13}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# The launcher prints lines for the user, then a NUL and a newline, then the command with NUL after
# each argument; spark-class appends the launcher's exit code.
cmd=() delim=$'\n' started=false
while IFS= read -d "$delim" -r arg; do
  if $started; then cmd+=("$arg")
  elif [[ -z "$arg" ]]; then delim='' started=true   # the NUL line (bash reads NUL as nothing)
  else echo "$arg"; fi
done < <("$JAVA" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main org.apache.spark.deploy.SparkSubmit "$@"; printf '%d\0' $?)
(( ${#cmd[@]} > 0 )) || { echo "error: Spark's launcher printed no command" >&2; exit 1; }
status="${cmd[${#cmd[@]}-1]}"
(( status == 0 )) || exit "$status"
unset 'cmd[${#cmd[@]}-1]'
exec "${cmd[@]}"
