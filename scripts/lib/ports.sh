# Sourced by the start scripts: a loopback port for a service of the test run.
#
# free_port BASE prints BASE, or the first port after it (within 100) that nothing listens on. The bases lie below
# Linux's ephemeral range (32768-60999 by default): a port inside it can be held for a while by a client socket of
# an earlier run (a benchmark's, say), and the service then fails to bind ("Address already in use"), or fails to bind
# again when a test restarts it.
free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
    if [ "$port" -ge $(($1 + 100)) ]; then
      echo "no free port in $1-$((port - 1))" >&2
      return 1
    fi
  done
  echo "$port"
}
