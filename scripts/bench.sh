#!/usr/bin/env bash
# Side-by-side benchmark of durastore against a real redis-server on this
# machine: throughput and latency with redis-benchmark in alternating
# rounds, memory per key, and restart time from the append-only file.
#
# Usage: scripts/bench.sh [options]
#
#   --persistence MODE   everysec (default), always or off, the same on both:
#                          everysec: redis --appendonly yes --appendfsync everysec --save ""
#                                    durastore --appendonly yes --appendfsync everysec
#                          always:   the same with --appendfsync always
#                          off:      redis --appendonly no --save ""; durastore --appendonly no
#   --rounds N           rounds per server, alternating servers (default 5)
#   --pipeline "P ..."   redis-benchmark -P values (default "1 16")
#   --clients N          redis-benchmark -c (default 50)
#   --requests N         redis-benchmark -n, requests per test (default 100000)
#   --tests LIST         redis-benchmark -t (default set,get,incr,mset)
#   --memory | --no-memory    memory per key (default on)
#   --restart | --no-restart  restart time (default on)
#   --keys N             keys for the memory and restart tests (default 1000000)
#   --restart-runs N     restarts per server, median reported (default 3)
#   --settle S           seconds to wait before reading RSS (default 2)
#   --quick              smoke test: 1 round, 20000 requests, 100000 keys,
#                        1 restart, 100000 expiring keys (explicit options
#                        still win)
#   --keep               keep the temporary directory (logs, raw rows)
#   --hitrate            instead of the above, compare cache hit rates: both
#                        servers with the same maxmemory and allkeys-lru (no
#                        persistence), the same Zipf-skewed cache-aside load
#                        (GET, SET on a miss) from scripts/hitrate, the hit
#                        rate after a warm-up printed for each
#   --hitrate-maxmemory M   maxmemory for --hitrate (default 64mb)
#   --hitrate-keys N     distinct keys (default 1000000)
#   --hitrate-requests N requests measured, after as many to warm up (default 2000000)
#   --hitrate-theta T    Zipf skew, YCSB's constant (default 0.99)
#   --hitrate-size B     value size (default 100)
#   --hitrate-policy P   maxmemory-policy (default allkeys-lru)
#   --expiry             instead of the above, measure a mass expiry: on a fresh
#                        server per round (persistence as --persistence), load
#                        N keys that all expire within one wall-clock second T
#                        (SET ... PXAT, uniform over [T, T+1s)) and 100000 live
#                        keys, run --clients connections (default 50) of GETs
#                        of the live keys, one request at a time, from T-3s to
#                        T+3s (scripts/expiryload); report the GETs' p99 before
#                        T, during [T, T+1s) and after, and the time until
#                        DBSIZE shows every expiring key gone; medians over
#                        --rounds (default 3 here), servers alternating
#   --expiry-keys N      keys expiring in the same second (default 1000000)
#
# The fixed parts: redis-benchmark -r 100000 -d 32, the benchmark keyspace
# (key:000000000000 ... key:000000099999) pre-filled on both servers before
# the first round so that GET hits from the start; memory keys key:%010d with
# 32-byte values, loaded with redis-cli --pipe.
#
# Results go to stdout (Markdown tables, ready for the README); progress goes
# to stderr. Needs redis-server, redis-benchmark, redis-cli (Redis 7) and go.
set -euo pipefail

cd "$(dirname "$0")/.."

CMDLINE="scripts/bench.sh"
if [ $# -gt 0 ]; then
	CMDLINE+="$(printf ' %q' "$@")"
fi

die() {
	echo "bench.sh: error: $*" >&2
	exit 1
}
progress() { echo "-- $*" >&2; }

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

# ---------------------------------------------------------------- options
PERSIST=everysec
ROUNDS=5
PIPELINES="1 16"
CLIENTS=50
REQUESTS=100000
TESTS=set,get,incr,mset
DO_MEMORY=1
DO_RESTART=1
KEYS=1000000
RESTART_RUNS=3
SETTLE=2
KEEP=0
QUICK=0
HITRATE=0
HR_MAXMEMORY=64mb
HR_KEYS=1000000
HR_REQUESTS=2000000
HR_THETA=0.99
HR_SIZE=100
HR_POLICY=allkeys-lru
EXPIRY=0
EX_KEYS=1000000
EX_TIMEOUT=900 # seconds, for one scripts/expiryload run
SRV_EXTRA=() # extra server arguments (--hitrate)
declare -A GIVEN=()

KEYSPACE=100000 # redis-benchmark -r
VALUE_SIZE=32   # redis-benchmark -d, and the memory test's values
MEM_TTL=100000  # EX seconds for the memory test with TTL
BENCH_TIMEOUT=1200

while [ $# -gt 0 ]; do
	opt=$1
	val=""
	has_val=0
	case $opt in
	--*=*)
		val=${opt#*=}
		opt=${opt%%=*}
		has_val=1
		;;
	esac
	case $opt in
	--persistence | --rounds | --pipeline | --clients | --requests | --tests | --keys | --restart-runs | --settle | \
		--hitrate-maxmemory | --hitrate-keys | --hitrate-requests | --hitrate-theta | --hitrate-size | --hitrate-policy | \
		--expiry-keys)
		if [ $has_val = 0 ]; then
			[ $# -ge 2 ] || die "$opt needs a value (see --help)"
			val=$2
			shift
		fi
		GIVEN[$opt]=1
		case $opt in
		--persistence) PERSIST=$val ;;
		--rounds) ROUNDS=$val ;;
		--pipeline) PIPELINES=$val ;;
		--clients) CLIENTS=$val ;;
		--requests) REQUESTS=$val ;;
		--tests) TESTS=$val ;;
		--keys) KEYS=$val ;;
		--restart-runs) RESTART_RUNS=$val ;;
		--settle) SETTLE=$val ;;
		--hitrate-maxmemory) HR_MAXMEMORY=$val ;;
		--hitrate-keys) HR_KEYS=$val ;;
		--hitrate-requests) HR_REQUESTS=$val ;;
		--hitrate-theta) HR_THETA=$val ;;
		--hitrate-size) HR_SIZE=$val ;;
		--hitrate-policy) HR_POLICY=$val ;;
		--expiry-keys) EX_KEYS=$val ;;
		esac
		;;
	--memory) DO_MEMORY=1 ;;
	--no-memory) DO_MEMORY=0 ;;
	--restart) DO_RESTART=1 ;;
	--no-restart) DO_RESTART=0 ;;
	--quick) QUICK=1 ;;
	--hitrate) HITRATE=1 ;;
	--expiry) EXPIRY=1 ;;
	--keep) KEEP=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done

if [ $QUICK = 1 ]; then
	[ -n "${GIVEN[--rounds]:-}" ] || ROUNDS=1
	[ -n "${GIVEN[--requests]:-}" ] || REQUESTS=20000
	[ -n "${GIVEN[--keys]:-}" ] || KEYS=100000
	[ -n "${GIVEN[--restart-runs]:-}" ] || RESTART_RUNS=1
	[ -n "${GIVEN[--expiry-keys]:-}" ] || EX_KEYS=100000
fi
if [ $EXPIRY = 1 ] && [ $QUICK = 0 ] && [ -z "${GIVEN[--rounds]:-}" ]; then
	ROUNDS=3
fi
[ $HITRATE = 0 ] || [ $EXPIRY = 0 ] || die "--hitrate and --expiry are separate runs; pick one"

is_posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
case $PERSIST in everysec | always | off) ;; *) die "--persistence must be everysec, always or off, not '$PERSIST'" ;; esac
for pair in "rounds:$ROUNDS" "clients:$CLIENTS" "requests:$REQUESTS" "keys:$KEYS" "restart-runs:$RESTART_RUNS" "expiry-keys:$EX_KEYS"; do
	is_posint "${pair#*:}" || die "--${pair%%:*} must be a positive integer, not '${pair#*:}'"
done
[[ $SETTLE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--settle must be a number of seconds, not '$SETTLE'"
[ -n "$PIPELINES" ] || die "--pipeline needs at least one value"
for p in $PIPELINES; do
	is_posint "$p" || die "--pipeline values must be positive integers, not '$p'"
done
[[ $TESTS =~ ^[a-z_]+(,[a-z_]+)*$ ]] || die "--tests must be a comma-separated list like set,get,incr,mset"

# ---------------------------------------------------------------- tools
missing=()
for tool in redis-server redis-benchmark redis-cli go timeout awk du git; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
	die "missing tools: ${missing[*]} (on Debian/Ubuntu: apt-get install redis-server redis-tools; Go from https://go.dev/dl/)"
fi
[ -r /proc/self/status ] || die "needs Linux /proc to read RSS"
REDIS_VERSION=$(redis-server --version)
case $REDIS_VERSION in
*"v=7."*) ;;
*) echo "bench.sh: warning: expected Redis 7, got: $REDIS_VERSION" >&2 ;;
esac

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/durastore-bench.XXXXXX")
PIDS=()    # servers we started and have not stopped
BGPID=""   # the redis-benchmark or load running now
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$BGPID" ]; then
		kill -TERM "$BGPID" 2>/dev/null || true
	fi
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	if [ $KEEP = 1 ]; then
		echo "bench.sh: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

START_SECS=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg) # before our own build adds to it

# ---------------------------------------------------------------- build
progress "building durastore and benchtool"
go build -o "$TMP/durastore" ./cmd/durastore || die "go build ./cmd/durastore failed"
go build -o "$TMP/benchtool" ./scripts/benchtool || die "go build ./scripts/benchtool failed"
if [ $HITRATE = 1 ]; then
	go build -o "$TMP/hitrate" ./scripts/hitrate || die "go build ./scripts/hitrate failed"
fi
if [ $EXPIRY = 1 ]; then
	go build -o "$TMP/expiryload" ./scripts/expiryload || die "go build ./scripts/expiryload failed"
fi
DURA=$TMP/durastore
BT=$TMP/benchtool

# ---------------------------------------------------------------- servers
SRV_PID=""
SRV_PORT=""
SRV_START_NS=""
SRV_LOG=""

# start_server NAME DIR MODE: launch redis or durastore on a free port with
# data in DIR and persistence MODE (everysec, always, off); sets SRV_PID,
# SRV_PORT, SRV_LOG and SRV_START_NS (launch time, Unix ns). Does not wait.
start_server() {
	local name=$1 dir=$2 mode=$3
	local -a cmd persist
	if [ "$mode" = off ]; then
		persist=(--appendonly no)
	else
		persist=(--appendonly yes --appendfsync "$mode")
	fi
	mkdir -p "$dir"
	SRV_PORT=$("$BT" freeport)
	SRV_LOG=$dir.log
	case $name in
	redis) cmd=(redis-server --port "$SRV_PORT" --bind 127.0.0.1 --dir "$dir" --save "" "${persist[@]}" ${SRV_EXTRA[@]+"${SRV_EXTRA[@]}"}) ;;
	durastore) cmd=("$DURA" --port "$SRV_PORT" --bind 127.0.0.1 --dir "$dir" --http-port 0 "${persist[@]}" ${SRV_EXTRA[@]+"${SRV_EXTRA[@]}"}) ;;
	*) die "unknown server $name" ;;
	esac
	echo "# $(printf '%q ' "${cmd[@]}")" >>"$SRV_LOG"
	SRV_START_NS=$(date +%s%N)
	"${cmd[@]}" >>"$SRV_LOG" 2>&1 &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
}

# wait_ready PORT PID [DBSIZE]: until PING answers (and DBSIZE matches);
# prints the seconds since the launch.
wait_ready() {
	local port=$1 pid=$2 dbsize=${3:--1}
	if ! "$BT" wait -port "$port" -pid "$pid" -dbsize "$dbsize" -since "$SRV_START_NS" -timeout 10m; then
		echo "---- last lines of $SRV_LOG:" >&2
		tail -n 20 "$SRV_LOG" >&2 || true
		die "server on port $port did not become ready"
	fi
}

# stop_server PID: SIGTERM (both servers shut down cleanly on it, flushing
# their append-only file) and wait for the process to exit.
stop_server() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		echo "bench.sh: warning: pid $pid did not exit within 60s of SIGTERM; killed" >&2
	fi
	wait "$pid" 2>/dev/null || true
	local -a keep=()
	local p
	for p in "${PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

# wait_bg MESSAGE SERVER_PID NAME FILE...: waits for the job in BGPID; if it
# failed, shows FILEs, checks the server (when SERVER_PID is given) is still
# alive and stops with MESSAGE.
wait_bg() {
	local msg=$1 pid=$2 name=$3
	shift 3
	if ! wait "$BGPID"; then
		BGPID=""
		cat "$@" >&2
		if [ -n "$pid" ]; then
			check_alive "$pid" "$name"
		fi
		die "$msg"
	fi
	BGPID=""
}

check_alive() { # PID NAME
	if ! kill -0 "$1" 2>/dev/null; then
		echo "---- last lines of $TMP/bench-$2.log:" >&2
		tail -n 20 "$TMP/bench-$2.log" >&2 || true
		die "$2 (pid $1) exited during the benchmark"
	fi
}

rss_bytes() { # PID
	awk '/^VmRSS:/ { printf "%d\n", $2 * 1024 }' "/proc/$1/status"
}

# load_keys PORT N TTL KEYFMT FILL: SET N keys through redis-cli --pipe and
# check that every reply came back without an error. Sets LOAD_TOOK.
LOAD_TOOK=""
load_keys() {
	local port=$1 n=$2 ttl=$3 keyfmt=$4 fill=$5
	local out=$TMP/pipe.out t0 t1
	t0=$(date +%s%N)
	"$BT" resp -n "$n" -ttl "$ttl" -keyfmt "$keyfmt" -size "$VALUE_SIZE" -fill "$fill" |
		redis-cli -h 127.0.0.1 -p "$port" --pipe >"$out" 2>&1 &
	BGPID=$!
	wait_bg "loading $n keys into port $port failed" "" "" "$out"
	t1=$(date +%s%N)
	if ! grep -q "^errors: 0, replies: $n\$" "$out"; then
		cat "$out" >&2
		die "loading $n keys into port $port: expected 'errors: 0, replies: $n'"
	fi
	LOAD_TOOK=$(awk -v ns=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.2f s (%.0f keys/s)", ns / 1e9, n / (ns / 1e9) }')
}

# ---------------------------------------------------------------- header
git_commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
	git_commit+=" (with uncommitted changes)"
fi
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_total=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
if [ "$PERSIST" = off ]; then
	redis_persist='--appendonly no --save ""'
	dura_persist='--appendonly no'
else
	redis_persist="--appendonly yes --appendfsync $PERSIST --save \"\""
	dura_persist="--appendonly yes --appendfsync $PERSIST"
fi

echo "# durastore vs redis-server"
echo
echo "- Command: \`$CMDLINE\`"
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- Machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, $mem_total RAM, $(uname -sr)"
echo "- Load average at start: $LOAD_START"
busy=$(awk -v n="$(nproc)" '{ if ($1 > n / 2) print $1 }' <<<"$LOAD_START")
if [ -n "$busy" ]; then
	echo "- Warning: the machine was busy at start (load average $busy on $(nproc) CPUs); other processes compete with both servers and the numbers are noisier than usual"
	echo "bench.sh: warning: load average $busy on $(nproc) CPUs: results will be noisy" >&2
fi
echo "- Redis: $REDIS_VERSION"
echo "- durastore: commit $git_commit, built with $(go env GOVERSION)"
if [ $HITRATE = 0 ]; then
	echo "- Persistence: $PERSIST (redis $redis_persist; durastore $dura_persist)"
fi
if [ $HITRATE = 0 ] && [ $EXPIRY = 0 ]; then
	echo "- redis-benchmark: -c $CLIENTS -r $KEYSPACE -d $VALUE_SIZE -n $REQUESTS -t $TESTS; -P in {${PIPELINES// /, }};" \
		"$ROUNDS round(s) per server, servers alternating, medians reported; keyspace pre-filled"
fi
echo

# ---------------------------------------------------------------- hit rate
if [ $HITRATE = 1 ]; then
	SRV_EXTRA=(--maxmemory "$HR_MAXMEMORY" --maxmemory-policy "$HR_POLICY")
	hr_flags=(-keys "$HR_KEYS" -requests "$HR_REQUESTS" -warmup "$HR_REQUESTS" -theta "$HR_THETA" -size "$HR_SIZE")
	echo "## Hit rate"
	echo
	echo "Cache-aside load from \`scripts/hitrate ${hr_flags[*]}\` (4 connections, 32 GETs per pipeline," \
		"SET on a miss; Zipf ranks over $HR_KEYS keys); both servers with \`--maxmemory $HR_MAXMEMORY" \
		"--maxmemory-policy $HR_POLICY\` and no persistence; hit rate measured by the client after a warm-up of" \
		"as many requests."
	echo
	echo "| server | hit rate | keys held | used_memory | evicted_keys | RSS |"
	echo "|---|---|---|---|---|---|"
	for name in redis durastore; do
		start_server "$name" "$TMP/hitrate-$name" off
		wait_ready "$SRV_PORT" "$SRV_PID" >/dev/null
		progress "hit rate, $name: pid $SRV_PID, port $SRV_PORT"
		line=$("$TMP/hitrate" -addr "127.0.0.1:$SRV_PORT" "${hr_flags[@]}") || {
			check_alive "$SRV_PID" "$name"
			die "scripts/hitrate against $name failed"
		}
		progress "hit rate, $name: $line"
		rss=$(rss_bytes "$SRV_PID")
		stop_server "$SRV_PID"
		rm -rf "$TMP/hitrate-$name"
		awk -v name="$name" -v rss="$rss" '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			printf "| %s | %.2f%% | %s | %s | %s | %s |\n", name, f["hit_rate"] * 100, f["keys"], f["used_memory"], f["evicted_keys"], rss
		}' <<<"$line"
	done
	echo
	echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg); total run time $((SECONDS - START_SECS)) s."
	exit 0
fi

# ---------------------------------------------------------------- mass expiry
if [ $EXPIRY = 1 ]; then
	EX_LEAD=3s
	EX_AFTER=2s
	ex_flags=(-keys "$EX_KEYS" -clients "$CLIENTS" -value "$VALUE_SIZE" -lead "$EX_LEAD" -after "$EX_AFTER")
	EXROWS=$TMP/expiry.txt
	: >"$EXROWS"
	for round in $(seq "$ROUNDS"); do
		if [ $((round % 2)) = 1 ]; then order="redis durastore"; else order="durastore redis"; fi
		for name in $order; do
			dir=$TMP/expiry-$name
			start_server "$name" "$dir" "$PERSIST"
			wait_ready "$SRV_PORT" "$SRV_PID" >/dev/null
			progress "expiry, round $round, $name: pid $SRV_PID, port $SRV_PORT; loading $EX_KEYS expiring keys"
			timeout "$EX_TIMEOUT" "$TMP/expiryload" -addr "127.0.0.1:$SRV_PORT" "${ex_flags[@]}" \
				>"$TMP/expiry.out" 2>"$TMP/expiry.err" &
			BGPID=$!
			wait_bg "scripts/expiryload against $name failed (or took over ${EX_TIMEOUT}s)" \
				"$SRV_PID" "$name" "$TMP/expiry.err" "$TMP/expiry.out"
			check_alive "$SRV_PID" "$name"
			stop_server "$SRV_PID"
			rm -rf "$dir"
			# One row per run: window lines' fields get the window's name
			# in front (before_p99_ms=...), the others their first word's.
			awk -v name="$name" -v round="$round" '
				BEGIN { printf "server=%s round=%s", name, round }
				{
					split($1, kv, "=")
					prefix = ($1 ~ /^window=/ ? kv[2] : $1) "_"
					for (i = 2; i <= NF; i++) printf " %s%s", prefix, $i
				}
				END { print "" }' "$TMP/expiry.out" >>"$EXROWS"
			tail -n 1 "$EXROWS" | awk '{
				for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
				printf "-- expiry, round %s, %s: loaded in %s s; p99 before %s ms, during %s ms, after %s ms; rps before %s, during %s; expiring keys gone after %s s (%s left)\n",
					f["round"], f["server"], f["load_exp_load_s"], f["before_p99_ms"], f["during_p99_ms"], f["after_p99_ms"],
					f["before_rps"], f["during_rps"], f["expiry_gone_s"], f["expiry_remaining"]
			}' >&2
			for field in before_p99_ms during_p99_ms after_p99_ms before_rps during_rps expiry_gone_s; do
				grep -q " $field=" <(tail -n 1 "$EXROWS") || {
					cat "$TMP/expiry.out" >&2
					die "scripts/expiryload against $name printed no $field"
				}
			done
		done
	done

	echo "## Mass expiry"
	echo
	echo "$EX_KEYS keys expiring within the same second T (SET ... PXAT, spread uniformly over [T, T+1s)) while" \
		"$CLIENTS clients GET 100000 other keys, one request in flight each, from T-$EX_LEAD to T+1s+$EX_AFTER" \
		"(\`scripts/expiryload ${ex_flags[*]}\`); a request counts in the window its start falls in. Persistence" \
		"$PERSIST; a fresh server per run; $ROUNDS round(s) per server, servers alternating, medians reported" \
		"(the ratio is the median of each run's during/before). Target: p99 during T no worse than 2x the p99 before."
	echo
	echo "| server | p99 before | p99 during | during/before | ≤ 2x | p99 after | rps before | rps during | expiring keys all gone after T |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk '
		function median(v, n,   i, j, t, a) {
			for (i = 1; i <= n; i++) a[i] = v[i]
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		{
			delete f
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			s = f["server"]; k = ++n[s]
			b[s, k] = f["before_p99_ms"]; d[s, k] = f["during_p99_ms"]; a[s, k] = f["after_p99_ms"]
			rb[s, k] = f["before_rps"]; rd[s, k] = f["during_rps"]
			r[s, k] = f["before_p99_ms"] > 0 ? f["during_p99_ms"] / f["before_p99_ms"] : 1e18
			g[s, k] = f["expiry_gone_s"] < 0 ? 1e18 : f["expiry_gone_s"]
			if (f["expiry_gone_s"] < 0 && f["expiry_remaining"] > left[s]) left[s] = f["expiry_remaining"]
		}
		function col(arr, s,   i, v) { for (i = 1; i <= n[s]; i++) v[i] = arr[s, i]; return median(v, n[s]) }
		END {
			split("redis durastore", order, " ")
			for (o = 1; o <= 2; o++) {
				s = order[o]
				if (!n[s]) continue
				ratio = col(r, s); gone = col(g, s)
				printf "| %s | %.2f ms | %.2f ms | %.2fx | %s | %.2f ms | %.0f | %.0f | %s |\n", s,
					col(b, s), col(d, s), ratio, (ratio <= 2 ? "yes" : "no"), col(a, s), col(rb, s), col(rd, s),
					(gone >= 1e18 ? sprintf("not within the wait (up to %d left)", left[s]) : sprintf("%.2f s", gone))
			}
		}' "$EXROWS"
	echo
	echo "Each run:"
	echo
	echo "| round | server | load s | p99 before | p99 during | p99 after | max during | rps before | rps during | left at T+1s | all gone after T |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	awk '{
		delete f
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "| %s | %s | %.1f | %.2f ms | %.2f ms | %.2f ms | %.1f ms | %.0f | %.0f | %s | %s |\n", f["round"], f["server"],
			f["load_exp_load_s"], f["before_p99_ms"], f["during_p99_ms"], f["after_p99_ms"], f["during_max_ms"],
			f["before_rps"], f["during_rps"], f["expiry_left_at_1s"],
			(f["expiry_gone_s"] < 0 ? sprintf("no (%s left)", f["expiry_remaining"]) : sprintf("%.2f s", f["expiry_gone_s"]))
	}' "$EXROWS"
	echo
	echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg); total run time $((SECONDS - START_SECS)) s."
	exit 0
fi

# ---------------------------------------------------------------- throughput
RAW=$TMP/bench.csv
ERRS=$TMP/bench-errors.txt
: >"$RAW"
: >"$ERRS"

progress "starting redis-server and durastore (persistence: $PERSIST)"
declare -A PID_OF PORT_OF TESTS_OF
for name in redis durastore; do
	start_server "$name" "$TMP/bench-$name" "$PERSIST"
	PID_OF[$name]=$SRV_PID
	PORT_OF[$name]=$SRV_PORT
	wait_ready "$SRV_PORT" "$SRV_PID" >/dev/null
	progress "$name: pid $SRV_PID, port $SRV_PORT"
done

for name in redis durastore; do
	supported=$("$BT" probe -port "${PORT_OF[$name]}" -tests "$TESTS" 2>"$TMP/probe.err") ||
		die "probing $name failed: $(cat "$TMP/probe.err")"
	if [ "$supported" != "$TESTS" ]; then
		echo "bench.sh: warning: $name does not support every test; skipped: $(tr '\n' ' ' <"$TMP/probe.err")" >&2
		echo "- Not run on $name (the command replies with an error): $(tr '\n' ' ' <"$TMP/probe.err")"
	fi
	[ -n "$supported" ] || die "$name supports none of the tests $TESTS"
	TESTS_OF[$name]=$supported
	load_keys "${PORT_OF[$name]}" "$KEYSPACE" 0 'key:%012d' x
	progress "$name: pre-filled the benchmark keyspace ($KEYSPACE keys) in $LOAD_TOOK"
done

# run_bench NAME PIPELINE ROUND: one redis-benchmark run, its CSV rows
# appended to $RAW with the server, pipeline and round in front.
run_bench() {
	local name=$1 p=$2 round=$3
	local out=$TMP/rb.out err=$TMP/rb.err ntests got nerr
	timeout "$BENCH_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "${PORT_OF[$name]}" -c "$CLIENTS" \
		-r "$KEYSPACE" -d "$VALUE_SIZE" -n "$REQUESTS" -P "$p" -t "${TESTS_OF[$name]}" --csv -e \
		>"$out" 2>"$err" &
	BGPID=$!
	wait_bg "redis-benchmark against $name failed (or took over ${BENCH_TIMEOUT}s)" \
		"${PID_OF[$name]}" "$name" "$err" "$out"
	check_alive "${PID_OF[$name]}" "$name"
	ntests=$(tr ',' '\n' <<<"${TESTS_OF[$name]}" | wc -l)
	got=$( (grep -c '^"' "$out" || true) | awk '{ print $1 - 1 }')
	if [ "$got" != "$ntests" ]; then
		cat "$err" "$out" >&2
		die "redis-benchmark against $name printed $got result rows, expected $ntests"
	fi
	grep '^"' "$out" | grep -v '^"test"' | sed "s/^/$name,$p,$round,/" >>"$RAW"
	nerr=$(grep -c '^Error from server' "$out" || true)
	if [ "$nerr" != 0 ]; then
		echo "$name -P $p round $round: $nerr error line(s), first: $(grep -m1 '^Error from server' "$out")" >>"$ERRS"
	fi
	awk -F'","' -v name="$name" -v p="$p" -v r="$round" '
		NR > 1 && /^"/ { gsub(/"/, "", $1); s = s sprintf(" %s=%.0f", $1, $2) }
		END { printf "-- round %s -P %s %-9s%s\n", r, p, name, s }' <(grep '^"' "$out") >&2
}

for round in $(seq "$ROUNDS"); do
	if [ $((round % 2)) = 1 ]; then order="redis durastore"; else order="durastore redis"; fi
	for p in $PIPELINES; do
		for name in $order; do
			run_bench "$name" "$p" "$round"
		done
	done
done
for name in redis durastore; do
	stop_server "${PID_OF[$name]}"
	rm -rf "$TMP/bench-$name"
done

# ---------------------------------------------------------------- memory
MEM=$TMP/memory.tsv
if [ $DO_MEMORY = 1 ]; then
	: >"$MEM"
	for ttl in 0 "$MEM_TTL"; do
		if [ "$ttl" = 0 ]; then kind="none"; else kind="EX $ttl"; fi
		for name in redis durastore; do
			dir=$TMP/mem-$name-$ttl
			start_server "$name" "$dir" "$PERSIST"
			wait_ready "$SRV_PORT" "$SRV_PID" >/dev/null
			sleep "$SETTLE"
			before=$(rss_bytes "$SRV_PID")
			load_keys "$SRV_PORT" "$KEYS" "$ttl" 'key:%010d' ''
			took=$LOAD_TOOK
			wait_ready "$SRV_PORT" "$SRV_PID" "$KEYS" >/dev/null
			sleep "$SETTLE"
			after=$(rss_bytes "$SRV_PID")
			printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$name" "$KEYS" "$before" "$after" >>"$MEM"
			progress "memory, TTL $kind, $name: loaded $KEYS keys in $took; RSS $before -> $after bytes" \
				"($(((after - before) / KEYS)) bytes/key)"
			stop_server "$SRV_PID"
			rm -rf "$dir"
		done
	done
fi

# ---------------------------------------------------------------- restart
RESTART=$TMP/restart.tsv
if [ $DO_RESTART = 1 ]; then
	: >"$RESTART"
	restart_mode=$PERSIST
	[ "$restart_mode" != off ] || restart_mode=everysec
	for name in redis durastore; do
		dir=$TMP/restart-$name
		start_server "$name" "$dir" "$restart_mode"
		wait_ready "$SRV_PORT" "$SRV_PID" >/dev/null
		load_keys "$SRV_PORT" "$KEYS" 0 'key:%010d' ''
		took=$LOAD_TOOK
		wait_ready "$SRV_PORT" "$SRV_PID" "$KEYS" >/dev/null
		stop_server "$SRV_PID"
		disk=$(du -sb "$dir" | cut -f1)
		progress "restart, $name: loaded $KEYS keys in $took, stopped; $disk bytes on disk"
		times=()
		for run in $(seq "$RESTART_RUNS"); do
			start_server "$name" "$dir" "$restart_mode"
			secs=$(wait_ready "$SRV_PORT" "$SRV_PID" "$KEYS")
			stop_server "$SRV_PID"
			times+=("$secs")
			progress "restart, $name: run $run: ready with $KEYS keys after $secs s"
		done
		median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
		printf '%s\t%s\t%s\t%s\n' "$name" "$KEYS" "$median" "$disk" >>"$RESTART"
		rm -rf "$dir"
	done
fi

# ---------------------------------------------------------------- report
report_args=(-bench "$RAW")
[ $DO_MEMORY = 0 ] || report_args+=(-memory "$MEM")
[ $DO_RESTART = 0 ] || report_args+=(-restart "$RESTART")
"$BT" report "${report_args[@]}"
if [ -s "$ERRS" ]; then
	echo "Error replies during the benchmark (redis-benchmark counts them as requests):"
	echo
	sed 's/^/- /' "$ERRS"
	echo
fi
if [ $DO_MEMORY = 1 ]; then
	echo "Memory: RSS (VmRSS) read ${SETTLE}s after start and ${SETTLE}s after loading; keys key:%010d, ${VALUE_SIZE}-byte values, persistence $PERSIST."
fi
if [ $DO_RESTART = 1 ]; then
	echo "Restart: keys loaded with appendonly yes, appendfsync $restart_mode; clean stop (SIGTERM); median of $RESTART_RUNS restart(s)."
fi
echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg); total run time $((SECONDS - START_SECS)) s."
