#!/usr/bin/env bash
# Load test: drives SIPp against a freshly started switch, one step at a
# time, and prints one table row per step with its pass/fail against the
# pass line (under 0.1% failed calls, retransmissions under 1%; for media
# also >= 99.9% of the expected packets sent, pacing p99 <= 5 ms and
# machine CPU <= 80%). docs/PERFORMANCE.md reports what it measured.
#
# Usage: scripts/load.sh [flags] [signalling|media|baseline|pacer|bridge|lua|all]
#
#   signalling  answer + hangup through the dialplan (extension 7000), no
#               RTP; one step per rate of the ladder
#   media       answer, a 20 s tone, hangup (extension 7001) while the
#               caller streams RTP too (SIPp rtp_stream); one step per
#               concurrency
#   sipgo       scripts/load/baresipgo (the least a sipgo program does for
#               the signalling scenario: 100, 200 with SDP, BYE after the
#               ACK, through sipgo's dialog cache) at the same rates: the
#               SIP library's own floor for the switch's CPU per call
#   baseline    SIPp's built-in uac against its built-in uas at the same
#               rates: the tool's own ceiling on this machine
#   pacer       scripts/load/barepacer at the same concurrencies: the
#               least a Go program needs to pace that many streams
#   bridge      bridged calls: SIPp caller -> switch (extension 7002,
#               bridge to sofia/internal/7002@ the SIPp callee) -> SIPp
#               callee that answers at once, and the same scenarios caller
#               -> callee directly, step by step: a calls/s ladder (SDP,
#               no RTP, calls held --bridge-hold) and a concurrency ladder
#               (RTP both ways, --bridge-len calls); the caller hangs up.
#               Pass: no failed call at all, retransmissions under 1%, and
#               with RTP >= 99.5% of the packets due at each SIPp and
#               >= 99.9% of the audio the switch accepted relayed
#   lua         every call in a Lua IVR (extension 7003, lua_ivr.lua): answer,
#               playAndGetDigits (SIPp presses 2 by SIP INFO), a variable
#               read and write, a tone to --tone seconds, hangup, while
#               the caller streams RTP; one step per --lua-conc
#   all         baseline, sipgo, signalling, pacer and media (default; not
#               bridge or lua)
#
# Flags (each also an environment variable):
#   --step SECONDS   LOAD_STEP    length of a step's call generation (60)
#   --rates LIST     LOAD_RATES   calls/s ladder (500,1000,1500,2000,2500,3000)
#   --conc LIST      LOAD_CONC    media concurrencies (500,1000,1500)
#   --tone SECONDS   LOAD_TONE    media call length: the tone played (20)
#   --out DIR        LOAD_OUT     where every step's files go (a new temp dir)
#   --no-profile     LOAD_PROFILE=0  skip the 10 s CPU and allocation profiles
#                    of the top step of each ladder
#   --linger DUR     LOAD_LINGER  switch --sip-linger (2s; sipgo's default is 32s)
#   --bin PATH       LOAD_BIN     a switchboard binary to test instead of building one
#   --priority MODE  LOAD_PRIORITY  the switch's --priority (auto, realtime,
#                    normal, low); unset, the switch's default (auto)
#   --bridge-rates LIST  LOAD_BRIDGE_RATES  bridge calls/s ladder
#                        (300,450,600,750,900,1050; "" skips it)
#   --bridge-conc LIST   LOAD_BRIDGE_CONC   bridged-call concurrencies
#                        (100,250,500,750,1000,1250,1500; "" skips it)
#   --bridge-len SECONDS LOAD_BRIDGE_LEN    bridge concurrency call length, RTP both ways (20)
#   --bridge-hold MS     LOAD_BRIDGE_HOLD   bridge calls/s ladder call length, no RTP (1000)
#   --lua-conc LIST  LOAD_LUA_CONC  Lua IVR concurrencies (500)
#   LOAD_SIP_PORT (5080), LOAD_UAC_PORT (5090), LOAD_UAS_PORT (5100),
#   LOAD_DEBUG_PORT (6070), for bridge LOAD_UAC_MEDIA_PORT (7000) and
#   LOAD_UAS_MEDIA_PORT (7100), the SIPps' RTP, and for lua
#   LOAD_LUA_MEDIA_PORT (7200), SIPp's RTP: loopback ports used.
#   LOAD_MAX_RSS_MB (4096): a step ends early, failed, when the switch's
#   RSS passes it.
#
# Every process is bounded by a timeout and runs on 127.0.0.1 only; the
# script stops what it started on exit, also on Ctrl-C. It needs sipp
# (sip-tester, built with RTP streaming), jq, curl, awk and go.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

STEP=${LOAD_STEP:-60}
RATES=${LOAD_RATES:-500,1000,1500,2000,2500,3000}
CONC=${LOAD_CONC:-500,1000,1500}
TONE=${LOAD_TONE:-20}
OUT=${LOAD_OUT:-}
BIN=${LOAD_BIN:-}
PRIORITY=${LOAD_PRIORITY:-}
PROFILE=${LOAD_PROFILE:-1}
LINGER=${LOAD_LINGER:-2s}
SIP_PORT=${LOAD_SIP_PORT:-5080}
UAC_PORT=${LOAD_UAC_PORT:-5090}
UAS_PORT=${LOAD_UAS_PORT:-5100}
DEBUG_PORT=${LOAD_DEBUG_PORT:-6070}
MAX_RSS_MB=${LOAD_MAX_RSS_MB:-4096}
MODE=all
while [ $# -gt 0 ]; do
	case $1 in
	--step) STEP=$2; shift 2 ;;
	--rates) RATES=$2; shift 2 ;;
	--conc) CONC=$2; shift 2 ;;
	--tone) TONE=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--linger) LINGER=$2; shift 2 ;;
	--bin) BIN=$2; shift 2 ;;
	--no-profile) PROFILE=0; shift ;;
	--bridge-rates) BRIDGE_RATES=$2; shift 2 ;;
	--bridge-conc) BRIDGE_CONC=$2; shift 2 ;;
	--bridge-len) BRIDGE_LEN=$2; shift 2 ;;
	--bridge-hold) BRIDGE_HOLD=$2; shift 2 ;;
	--lua-conc) LUA_CONC=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	--priority) PRIORITY=$2; shift 2 ;;
	signalling | media | baseline | sipgo | pacer | bridge | lua | all) MODE=$1; shift ;;
	*) echo "load.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
done
for v in STEP TONE MAX_RSS_MB SIP_PORT UAC_PORT UAS_PORT DEBUG_PORT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "load.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[[ $RATES =~ ^[0-9]+(,[0-9]+)*$ && $CONC =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "load.sh: --rates and --conc are comma-separated integers" >&2; exit 2; }
for tool in sipp jq curl awk go timeout; do
	command -v "$tool" >/dev/null || { echo "load.sh: $tool is not installed (sipp comes with the sip-tester package)" >&2; exit 2; }
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOADDIR=$ROOT/scripts/load
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/switchboard-load.XXXXXX)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
IFS=, read -r -a RATE_LIST <<<"$RATES"
IFS=, read -r -a CONC_LIST <<<"$CONC"

# --- processes we started, stopped on exit ------------------------------
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
		kill -KILL "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
forget() { # forget PID: it has ended
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# --- measurements --------------------------------------------------------
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }       # utime+stime
# machine: "ticks ns", the CPU time of every process (with what their reaped
# children used) and the clock. /proc/stat is not used: in this kind of VM
# its tick-sampled busy time misses ticks, while per-process times are
# the scheduler's exact runtimes.
machine() {
	local t
	t=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '{sub(/^.*\) /, ""); s += $12+$13+$14+$15} END{printf "%d", s}')
	echo "$t $(date +%s%N)"
}
status_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
busy_pct() { # busy_pct "$(machine)" "$(machine)": percent of all CPUs busy in between
	awk -v a="$1" -v b="$2" -v hz="$HZ" -v n="$NCPU" 'BEGIN{split(a,x," "); split(b,y," "); dt=(y[2]-x[2])/1e9;
		printf "%.1f", (dt>0 ? 100*(y[1]-x[1])/hz/(dt*n) : 0)}'
}
pct_of_core() { awk -v d="$1" -v s="$2" -v hz="$HZ" 'BEGIN{printf "%.1f", (s>0 ? 100*d/hz/s : 0)}'; }
vars() { curl -s --max-time 5 "http://127.0.0.1:$DEBUG_PORT/debug/vars"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

# stat_field FILE NAME: NAME's value in the last row of a SIPp -trace_stat file.
stat_field() {
	awk -F';' -v n="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==n) c=i; next} {v=$c} END{print ((c && v!="") ? v : 0)}' "$1"
}
# retrans FILE: "retransmissions messages" summed over a -trace_counts file's last row.
retrans() {
	awk -F';' 'NR==1{for(i=1;i<=NF;i++) h[i]=$i; next} {for(i in h) v[i]=$i}
		END{r=0; m=0; for(i in h){ if(h[i] ~ /_Retrans$/) r+=v[i]; else if(h[i] ~ /_(Sent|Recv)$/) m+=v[i] } print r, m}' "$1"
}
# rtt_pcts FILE...: "p50 p99 max" (ms) of the response times of -trace_rtt files.
rtt_pcts() {
	cat "$@" 2>/dev/null | awk -F';' 'NR>1 && $3==1 && $2 ~ /^[0-9.]+$/ {print $2}' | sort -n |
		awk '{v[NR]=$1} END{if(NR==0){print "- - -"; exit} p=int(0.5*NR+0.999); q=int(0.99*NR+0.999); print v[p], v[q], v[NR]}'
}
# gen_rate FILE: the rate SIPp kept up while placing calls: the median of
# its per-second CallRate(P) over the seconds it created calls, less the
# first and the last (partial) ones.
gen_rate() {
	awk -F';' 'NR==1{for(i=1;i<=NF;i++){if($i=="CallRate(P)") r=i; if($i=="OutgoingCall(P)") o=i}; next}
		$o>0 {v[++n]=$r} END{lo=1; hi=n; if(n>=3){lo=2; hi=n-1} for(i=lo;i<=hi;i++) print v[i]}' "$1" |
		sort -n | awk '{v[NR]=$1} END{printf "%.0f", (NR ? v[int((NR+1)/2)] : 0)}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if(b+0==0) print "-"; else printf "%.2f", a/b}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN{if(b+0==0) print "0.000"; else printf "%.3f", 100*a/b}'; }

# wait_exit PID LIMIT_S SAMPLEVAR: waits for PID (ending it after LIMIT_S),
# keeping its last CPU ticks in SAMPLEVAR. While the switch runs, PID is
# also ended when the switch's RSS passes MAX_RSS_MB (RSS_STOPPED=1).
RSS_STOPPED=0
wait_exit() {
	local pid=$1 limit=$2 t0 last
	t0=$(date +%s)
	last=$(proc_ticks "$pid")
	RSS_STOPPED=0
	while kill -0 "$pid" 2>/dev/null; do
		local t
		t=$(proc_ticks "$pid")
		[ "$t" = 0 ] || last=$t
		if [ -n "$SB_PID" ] && [ "$RSS_STOPPED" = 0 ] && [ "$(status_kb "$SB_PID" VmRSS)" -gt $((MAX_RSS_MB * 1024)) ]; then
			echo "load.sh: the switch passed ${MAX_RSS_MB} MB RSS; ending this step" >&2
			RSS_STOPPED=1
			kill -TERM "$pid" 2>/dev/null || true
		fi
		if [ $(($(date +%s) - t0)) -gt "$limit" ]; then
			echo "load.sh: pid $pid ran past ${limit}s; stopping it" >&2
			kill -TERM "$pid" 2>/dev/null || true
			sleep 2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.5
	done
	wait "$pid" 2>/dev/null || true
	forget "$pid"
	printf -v "$3" '%s' "$last"
}

# --- the switch ------------------------------------------------------------
SB=$OUT/switchboard
CONF=$OUT/conf
SB_PID=
BUILT_FROM=
build() {
	if [ -n "$BIN" ]; then
		[ -x "$BIN" ] || { echo "load.sh: --bin $BIN is not an executable" >&2; exit 2; }
		cp "$BIN" "$SB"
		BUILT_FROM="given binary $BIN ($("$SB" version 2>&1 | sed -n 1p))"
	else
		echo "# building switchboard into $OUT" >&2
		(cd "$ROOT" && go build -o "$SB" ./cmd/switchboard)
		BUILT_FROM="built from $ROOT at commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')"
	fi
	(cd "$ROOT" && go build -o "$OUT/barepacer" ./scripts/load/barepacer)
	(cd "$ROOT" && go build -o "$OUT/baresipgo" ./scripts/load/baresipgo)
}
make_conf() {
	rm -rf "$CONF"
	cp -r "$ROOT/conf/default" "$CONF"
	# The admission limits become globals so that --set can raise them.
	sed -i -e 's|name="max-sessions" value="[0-9]*"|name="max-sessions" value="$${load_max_sessions}"|' \
		-e 's|name="sessions-per-second" value="[0-9]*"|name="sessions-per-second" value="$${load_sessions_per_second}"|' \
		"$CONF/autoload_configs/switch.conf.xml"
	grep -q 'load_max_sessions' "$CONF/autoload_configs/switch.conf.xml" || { echo "load.sh: cannot rewrite switch.conf.xml" >&2; exit 1; }
	cat >"$CONF/dialplan/default/00_load.xml" <<EOF
<include>
  <!-- Written by scripts/load.sh. -->
  <extension name="load_signalling">
    <condition field="destination_number" expression="^7000\$">
      <action application="answer"/>
      <action application="hangup"/>
    </condition>
  </extension>
  <extension name="load_media">
    <condition field="destination_number" expression="^7001\$">
      <action application="answer"/>
      <action application="playback" data="tone_stream://%(${TONE}000,0,440)"/>
      <action application="hangup"/>
    </condition>
  </extension>
</include>
EOF
	"$SB" check --conf "$CONF" "${SB_SETS[@]}" >"$OUT/check.txt" 2>&1 || { cat "$OUT/check.txt" >&2; exit 1; }
}
SB_SETS=(--set load_max_sessions=100000 --set load_sessions_per_second=100000
	--set internal_sip_port="$SIP_PORT" --set internal_sip_ip=127.0.0.1)
SB_CMD=()
start_switch() { # start_switch DIR
	SB_CMD=("$SB" run --conf "$CONF" "${SB_SETS[@]}" --debug-addr "127.0.0.1:$DEBUG_PORT"
		--log-level warn --sip-linger "$LINGER" --shutdown-timeout 5s ${PRIORITY:+--priority "$PRIORITY"})
	"${SB_CMD[@]}" >"$1/switch.log" 2>&1 &
	SB_PID=$!
	PIDS+=("$SB_PID")
	local i
	for i in $(seq 1 50); do
		if vars >/dev/null 2>&1; then return 0; fi
		kill -0 "$SB_PID" 2>/dev/null || break
		sleep 0.2
	done
	echo "load.sh: the switch did not start; see $1/switch.log" >&2
	cat "$1/switch.log" >&2
	exit 1
}
stop_switch() {
	[ -n "$SB_PID" ] || return 0
	kill -TERM "$SB_PID" 2>/dev/null || true
	local i
	for i in $(seq 1 40); do kill -0 "$SB_PID" 2>/dev/null || break; sleep 0.25; done
	kill -KILL "$SB_PID" 2>/dev/null || true
	wait "$SB_PID" 2>/dev/null || true
	forget "$SB_PID"
	SB_PID=
}
# wait_idle: up to 15 s for the switch to have no session left; prints the count.
wait_idle() {
	local n=0 i
	for i in $(seq 1 30); do
		n=$(vars | jq -r '.sessions // 0' 2>/dev/null || echo '?')
		[ "$n" = 0 ] && break
		sleep 0.5
	done
	echo "$n"
}
# profile DIR DELAY SECONDS: a CPU profile of the switch, in the background.
PROF_PID=
profile() {
	local dir=$1 delay=$2 secs=$3
	(sleep "$delay" &&
		curl -s --max-time $((secs + 20)) -o "$dir/allocs.pprof" "http://127.0.0.1:$DEBUG_PORT/debug/pprof/allocs?seconds=$secs" &
		sleep "$delay" && curl -s --max-time $((secs + 20)) -o "$dir/cpu.pprof" \
		"http://127.0.0.1:$DEBUG_PORT/debug/pprof/profile?seconds=$secs"; wait) &
	PROF_PID=$!
	PIDS+=("$PROF_PID")
}
profile_done() {
	local dir=$1
	[ -n "$PROF_PID" ] || return 0
	wait "$PROF_PID" 2>/dev/null || true
	forget "$PROF_PID"
	PROF_PID=
	if [ -s "$dir/cpu.pprof" ]; then
		(cd "$ROOT" && go tool pprof -top -nodecount=45 "$SB" "$dir/cpu.pprof") >"$dir/pprof-top.txt" 2>&1 || true
		(cd "$ROOT" && go tool pprof -top -cum -nodecount=45 "$SB" "$dir/cpu.pprof") >"$dir/pprof-cum.txt" 2>&1 || true
		echo "#   profile: $dir/pprof-top.txt" >&2
	fi
	if [ -s "$dir/allocs.pprof" ]; then
		(cd "$ROOT" && go tool pprof -top -sample_index=alloc_space -nodecount=30 "$SB" "$dir/allocs.pprof") >"$dir/allocs-space.txt" 2>&1 || true
		(cd "$ROOT" && go tool pprof -top -cum -sample_index=alloc_objects -nodecount=45 "$SB" "$dir/allocs.pprof") >"$dir/allocs-objects-cum.txt" 2>&1 || true
	fi
}

SIPP_COMMON=(-i 127.0.0.1 -mi 127.0.0.1 -nostdin -trace_stat -stf stat.csv -fd 1 -trace_counts
	-trace_rtt -rtt_freq 200 -trace_err -max_recv_loops 5000 -max_sched_loops 5000)

RESULTS=$OUT/results.txt
row() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
header() {
	{
		echo
		echo "## $1"
		echo "$2"
	} | tee -a "$RESULTS"
}

# --- signalling and baseline steps -----------------------------------------
# sig_row DIR RATE CPU_TICKS(switch or uas) SIPP_CPU_PCT MACHINE_PCT RSS_KB HWM_KB LEFT [VARS0 VARS1]
# VARS0 and VARS1, the switch's /debug/vars before and after, give its
# allocations per call.
sig_row() {
	local dir=$1 rate=$2 ticks=$3 sippct=$4 mach=$5 rss=$6 hwm=$7 left=$8 v0=${9:-} v1=${10:-}
	local ok failed r m rpct fpct cps p50 p99 mx cpu_us pass
	ok=$(stat_field "$dir/stat.csv" 'SuccessfulCall(C)')
	failed=$(stat_field "$dir/stat.csv" 'FailedCall(C)')
	read -r r m <<<"$(retrans "$dir"/*_counts.csv)"
	rpct=$(pct "$r" "$m")
	fpct=$(pct "$failed" $((ok + failed)))
	cps=$(gen_rate "$dir/stat.csv")
	read -r p50 p99 mx <<<"$(rtt_pcts "$dir"/*_rtt.csv)"
	cpu_us=$(awk -v t="$ticks" -v hz="$HZ" -v n="$ok" 'BEGIN{printf "%.0f", (n>0 ? 1e6*t/hz/n : 0)}')
	local allocs=- kb=- gcs=-
	if [ -n "$v0" ] && [ -n "$v1" ] && [ "$ok" -gt 0 ]; then
		read -r allocs kb gcs <<<"$(jq -n -r --argjson a "$v0" --argjson b "$v1" --argjson n "$ok" \
			'[(($b.memstats.Mallocs - $a.memstats.Mallocs) / $n | round),
			  (($b.memstats.TotalAlloc - $a.memstats.TotalAlloc) / $n / 1024 | round),
			  ($b.memstats.NumGC - $a.memstats.NumGC)] | @tsv' 2>/dev/null || echo '- - -')"
	fi
	pass=FAIL
	if [ "$ok" -gt 0 ] && awk -v f="$fpct" -v r="$rpct" 'BEGIN{exit !(f<0.1 && r<1)}'; then pass=pass; fi
	# A rate SIPp could not generate is not a rate reached.
	awk -v c="$cps" -v r="$rate" 'BEGIN{exit !(c < 0.95*r)}' && pass="$pass(slow:$cps)"
	[ "$left" = 0 ] || pass="$pass(left:$left)"
	[ "$RSS_STOPPED" = 0 ] || pass="FAIL(stopped at ${MAX_RSS_MB} MB RSS)"
	row "$(printf '| %5s | %7s | %6s | %7s | %6s | %3s / %3s / %4s | %6s | %5s / %4s / %3s | %5s | %5s | %6s / %6s | %s |' \
		"$rate" "$ok" "$fpct" "$rpct" "$cps" "$p50" "$p99" "$mx" "$cpu_us" "$allocs" "$kb" "$gcs" "$sippct" "$mach" \
		"$((rss / 1024))" "$((hwm / 1024))" "$pass")"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$CUR_MODE" "$rate" "$ok" "$failed" "$fpct" "$rpct" \
		"$cps" "$p50" "$p99" "$mx" "$cpu_us" "$sippct" "$mach" "$hwm" "$pass" >>"$OUT/results.tsv"
}
SIG_HEAD='| cps | calls ok | fail % | retr % | got cps | INVITE→200 p50/p99/max ms | CPU µs/call | allocs / KB / GCs | SIPp %core | machine % | RSS/HWM MB | pass |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'

signalling_step() {
	local rate=$1 top=$2 dir=$OUT/signalling-$1
	mkdir -p "$dir"
	start_switch "$dir"
	local calls=$((rate * STEP)) c0 m0 t0 c1 m1 dur sipp_ticks
	[ "$PROFILE" = 1 ] && [ "$top" = 1 ] && profile "$dir" $((STEP > 15 ? 5 : 1)) $((STEP > 15 ? 10 : STEP - 2 > 1 ? STEP - 2 : 1))
	local v0 v1
	v0=$(vars) || v0=
	c0=$(proc_ticks "$SB_PID")
	m0=$(machine)
	t0=$(now)
	(cd "$dir" && exec sipp "127.0.0.1:$SIP_PORT" -sf "$LOADDIR/sig_uac.xml" -s 7000 -p "$UAC_PORT" -mp 7000 \
		-r "$rate" -m "$calls" -l $((rate * 6)) -timeout $((STEP + 60))s "${SIPP_COMMON[@]}" >sipp.out 2>&1) &
	local sp=$!
	PIDS+=("$sp")
	wait_exit "$sp" $((STEP + 75)) sipp_ticks
	dur=$(elapsed "$t0")
	c1=$(proc_ticks "$SB_PID")
	m1=$(machine)
	v1=$(vars) || v1=
	profile_done "$dir"
	local left hwm rss
	left=$(wait_idle)
	rss=$(status_kb "$SB_PID" VmRSS)
	hwm=$(status_kb "$SB_PID" VmHWM)
	vars >"$dir/vars.json" || true
	stop_switch
	sig_row "$dir" "$rate" $((c1 - c0)) "$(pct_of_core "$sipp_ticks" "$dur")" "$(busy_pct "$m0" "$m1")" "$rss" "$hwm" "$left" "$v0" "$v1"
}

# wait_udp PORT PID LOG: until PID has bound UDP PORT (5 s at most); a
# PID that exits meanwhile ends the run with its LOG.
wait_udp() {
	local i
	for i in $(seq 1 50); do
		grep -q ":$(printf '%04X' "$1") " /proc/net/udp 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || { cat "$3" >&2; exit 1; }
		sleep 0.1
	done
}
# uas_step DIR RATE UAS_PID PORT UAC_ARGS...: SIPp's uac (UAC_ARGS name
# its scenario) at RATE against a UAS already listening on PORT; the
# row's CPU, RSS are the UAS's. The UAS is stopped after.
uas_step() {
	local dir=$1 rate=$2 uas=$3 port=$4
	shift 4
	local calls=$((rate * STEP)) u0 u1 m0 m1 t0 dur uac_ticks rss hwm
	u0=$(proc_ticks "$uas")
	m0=$(machine)
	t0=$(now)
	(cd "$dir" && exec sipp "127.0.0.1:$port" "$@" -s 7000 -p "$UAC_PORT" -mp 7000 \
		-r "$rate" -m "$calls" -l $((rate * 6)) -timeout $((STEP + 60))s "${SIPP_COMMON[@]}" >sipp.out 2>&1) &
	local uac=$!
	PIDS+=("$uac")
	wait_exit "$uac" $((STEP + 75)) uac_ticks
	dur=$(elapsed "$t0")
	u1=$(proc_ticks "$uas")
	m1=$(machine)
	rss=$(status_kb "$uas" VmRSS)
	hwm=$(status_kb "$uas" VmHWM)
	kill -TERM "$uas" 2>/dev/null || true
	wait "$uas" 2>/dev/null || true
	forget "$uas"
	sig_row "$dir" "$rate" $((u1 - u0)) "$(pct_of_core "$uac_ticks" "$dur")" "$(busy_pct "$m0" "$m1")" "$rss" "$hwm" 0
}
baseline_step() {
	local rate=$1 dir=$OUT/baseline-$1
	mkdir -p "$dir/uas"
	(cd "$dir/uas" && exec sipp -sn uas -p "$UAS_PORT" -i 127.0.0.1 -mi 127.0.0.1 -nostdin \
		-timeout $((STEP + 90))s -max_recv_loops 5000 -max_sched_loops 5000 >sipp.out 2>&1) &
	local uas=$!
	PIDS+=("$uas")
	wait_udp "$UAS_PORT" "$uas" "$dir/uas/sipp.out"
	uas_step "$dir" "$rate" "$uas" "$UAS_PORT" -sn uac -d 0
}
# sipgo_step RATE: the signalling scenario against scripts/load/baresipgo.
sipgo_step() {
	local rate=$1 dir=$OUT/sipgo-$1
	mkdir -p "$dir"
	"$OUT/baresipgo" -addr "127.0.0.1:$SIP_PORT" -linger "$LINGER" >"$dir/baresipgo.out" 2>&1 &
	local bare=$!
	PIDS+=("$bare")
	wait_udp "$SIP_PORT" "$bare" "$dir/baresipgo.out"
	uas_step "$dir" "$rate" "$bare" "$SIP_PORT" -sf "$LOADDIR/sig_uac.xml"
}

# --- media steps ----------------------------------------------------------------
MEDIA_HEAD='| calls | calls ok | fail % | retr % | peak sessions | sent / expected pkts | sent % | rcvd % | send p99 | wake p99 | skips | underruns | switch %core | SIPp %core | machine % | RSS/HWM MB | pass |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'

media_step() {
	local conc=$1 top=$2 dir=$OUT/media-$1
	mkdir -p "$dir"
	# Caller audio: one second of mu-law silence, looped by SIPp.
	head -c 8000 /dev/zero | tr '\0' '\377' >"$dir/caller.ulaw"
	local rate=$(((conc + TONE - 1) / TONE))
	local calls=$((rate * STEP))
	# Steady state: from the first hangups (TONE s, plus 2 s) to the end of generation.
	local w0=$((TONE + 2)) w1=$STEP steady=yes
	if [ "$w1" -le $((w0 + 2)) ]; then w0=0; w1=$STEP; steady=no; fi
	start_switch "$dir"
	[ "$PROFILE" = 1 ] && [ "$top" = 1 ] && profile "$dir" "$w0" $((w1 - w0 > 12 ? 10 : (w1 - w0 > 3 ? w1 - w0 - 2 : 1)))
	local t0 c0 c1 m0 m1 sessions=0 sipp_ticks
	t0=$(now)
	(cd "$dir" && exec sipp "127.0.0.1:$SIP_PORT" -sf "$LOADDIR/media_uac.xml" -s 7001 -p "$UAC_PORT" \
		-r "$rate" -m "$calls" -l $((rate * (TONE + 6))) -timeout $((STEP + TONE + 90))s \
		-rtp_threadtasks 50 "${SIPP_COMMON[@]}" >sipp.out 2>&1) &
	local sp=$!
	PIDS+=("$sp")
	local s0 s1
	sleep "$w0"
	c0=$(proc_ticks "$SB_PID")
	s0=$(proc_ticks "$sp")
	m0=$(machine)
	sleep $((w1 - w0))
	c1=$(proc_ticks "$SB_PID")
	s1=$(proc_ticks "$sp")
	m1=$(machine)
	local v
	v=$(vars) || v='{}'
	sessions=$(jq -r '.sessions // 0' <<<"$v")
	wait_exit "$sp" $((STEP + TONE + 100)) sipp_ticks
	profile_done "$dir"
	local left rss hwm
	left=$(wait_idle)
	rss=$(status_kb "$SB_PID" VmRSS)
	hwm=$(status_kb "$SB_PID" VmHWM)
	vars >"$dir/vars.json" || echo '{}' >"$dir/vars.json"
	stop_switch

	local ok failed r m fpct rpct sent recvd expected sentpct recvpct p99 wake skips under pass swpct mach
	ok=$(stat_field "$dir/stat.csv" 'SuccessfulCall(C)')
	failed=$(stat_field "$dir/stat.csv" 'FailedCall(C)')
	read -r r m <<<"$(retrans "$dir"/*_counts.csv)"
	rpct=$(pct "$r" "$m")
	fpct=$(pct "$failed" $((ok + failed)))
	sent=$(jq -r '.media.Packets.Sent // 0' "$dir/vars.json")
	recvd=$(jq -r '.media.Packets.Accepted // 0' "$dir/vars.json")
	expected=$((ok * TONE * 50))
	sentpct=$(pct "$sent" "$expected")
	recvpct=$(pct "$recvd" "$expected")
	p99=$(jq -r '(.media.SendLateness.P99 // 0) / 1e6' "$dir/vars.json")
	wake=$(jq -r '(.media.WakeLateness.P99 // 0) / 1e6' "$dir/vars.json")
	skips=$(jq -r '.media.PacerSkips // 0' "$dir/vars.json")
	under=$(jq -r '.media.Packets.Underruns // 0' "$dir/vars.json")
	swpct=$(pct_of_core $((c1 - c0)) $((w1 - w0)))
	local sippct
	sippct=$(pct_of_core $((s1 - s0)) $((w1 - w0)))
	mach=$(busy_pct "$m0" "$m1")
	pass=FAIL
	if [ "$ok" -gt 0 ] && awk -v f="$fpct" -v r="$rpct" -v s="$sentpct" -v p="$p99" -v c="$mach" \
		'BEGIN{exit !(f<0.1 && r<1 && s>=99.9 && p<=5 && c<=80)}'; then pass=pass; fi
	[ "$steady" = yes ] || pass="$pass(no steady state: --step <= --tone+4)"
	[ "$RSS_STOPPED" = 0 ] || pass="FAIL(stopped at ${MAX_RSS_MB} MB RSS)"
	[ "$left" = 0 ] || pass="$pass(left:$left)"
	row "$(printf '| %5s | %6s | %6s | %6s | %5s | %s / %s | %7s | %7s | %s ms | %s ms | %s | %s | %5s | %5s | %5s | %s / %s | %s |' \
		"$conc" "$ok" "$fpct" "$rpct" "$sessions" "$sent" "$expected" "$sentpct" "$recvpct" "$p99" "$wake" \
		"$skips" "$under" "$swpct" "$sippct" "$mach" "$((rss / 1024))" "$((hwm / 1024))" "$pass")"
	printf 'media\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$conc" "$ok" "$failed" "$fpct" "$rpct" \
		"$sessions" "$sent" "$expected" "$sentpct" "$p99" "$skips" "$swpct" "$mach" "$hwm" "$pass" >>"$OUT/results.tsv"
}

PACER_HEAD='| streams | sent / expected | sent % | rcvd % | send p99 (engine buckets) | exact p99 | max | %core | µs CPU per stream-second |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
pacer_step() {
	local n=$1 dir=$OUT/pacer-$1 secs=$((STEP < TONE ? STEP : TONE))
	mkdir -p "$dir"
	timeout $((secs + 30)) "$OUT/barepacer" -streams "$n" -duration "${secs}s" -json >"$dir/result.json" 2>"$dir/stderr.txt" || true
	if ! jq -e . "$dir/result.json" >/dev/null 2>&1; then
		row "| $n | barepacer failed: $(head -c 200 "$dir/stderr.txt") |"
		return
	fi
	row "$(jq -r '"| \(.streams) | \(.sent) / \(.expected) | \(.sent_pct*1000|round/1000) | \(100*.received/.expected*1000|round/1000) | \(.p99_us/1000) ms | \(.p99_exact_us/1000) ms | \(.max_us/1000) ms | \(.cpu_pct_core*10|round/10) | \(.cpu_us_per_stream_s*10|round/10) |"' "$dir/result.json")"
	jq -r '"pacer\t\(.streams)\t\(.cpu_pct_core)\t\(.p99_us/1000)"' "$dir/result.json" >>"$OUT/results.tsv"
}

# --- bridged calls ----------------------------------------------------------------
# SIPp caller -> switch (extension 7002: bridge to sofia/internal/7002@the
# SIPp callee) -> SIPp callee, and the same scenarios caller -> callee
# directly (the tool's own ceiling), step by step in the same run.
BRIDGE_EXT=7002
# br_udp_drops PORT: datagrams the kernel dropped at 127.0.0.1:PORT because the
# socket's buffer was full. SIPp (3.6) never reads its rtp_stream socket, so
# once the buffer has filled this counts every RTP packet that reached it.
br_udp_drops() {
	awk -v p="$(printf ':%04X' "$1")" '$2 == "0100007F" p {d += $NF} END{printf "%d", d}' /proc/net/udp
}
bridge_conf() { # the bridge extension, beside make_conf's 00_load.xml
	cat >"$CONF/dialplan/default/00_load_bridge.xml" <<XML
<include>
  <!-- Written by scripts/load.sh bridge. No ringback variable is set and
       the callee answers at once, so the caller hears no ringback, early
       media or anything but the callee. -->
  <extension name="load_bridge">
    <condition field="destination_number" expression="^${BRIDGE_EXT}\$">
      <action application="set" data="hangup_after_bridge=true"/>
      <action application="bridge" data="sofia/internal/\${destination_number}@127.0.0.1:${UAS_PORT}"/>
    </condition>
  </extension>
</include>
XML
	"$SB" check --conf "$CONF" "${SB_SETS[@]}" >"$OUT/check.txt" 2>&1 || { cat "$OUT/check.txt" >&2; exit 1; }
}
BR_SIPP_UAS=(-i 127.0.0.1 -mi 127.0.0.1 -nostdin -trace_stat -stf stat.csv -fd 1 -trace_counts -trace_err
	-max_recv_loops 5000 -max_sched_loops 5000)
BR_UAS=
# bridge_uas_start DIR SCENARIO LIMIT_S: the SIPp callee, in DIR/uas.
bridge_uas_start() {
	mkdir -p "$1/uas"
	head -c 8000 /dev/zero | tr '\0' '\377' >"$1/uas/callee.ulaw"
	(cd "$1/uas" && exec sipp -sf "$LOADDIR/$2" -p "$UAS_PORT" -mp "$BRIDGE_UAS_MP" -timeout "$3s" \
		-rtp_threadtasks 50 "${BR_SIPP_UAS[@]}" >sipp.out 2>&1) &
	BR_UAS=$!
	PIDS+=("$BR_UAS")
	sleep 0.5
	kill -0 "$BR_UAS" 2>/dev/null || { echo "load.sh: the SIPp callee did not start:" >&2; cat "$1/uas/sipp.out" >&2; exit 1; }
}
# bridge_uas_stop: asks the callee to end once its calls have (SIGUSR1), up
# to 15 s, so that its last statistics are written.
bridge_uas_stop() {
	[ -n "$BR_UAS" ] || return 0
	kill -USR1 "$BR_UAS" 2>/dev/null || true
	local i
	for i in $(seq 1 30); do kill -0 "$BR_UAS" 2>/dev/null || break; sleep 0.5; done
	kill -TERM "$BR_UAS" 2>/dev/null || true
	wait "$BR_UAS" 2>/dev/null || true
	forget "$BR_UAS"
	BR_UAS=
}
# bridge_uac DIR SCENARIO TARGET RATE CALLS LENGTH_MS: the SIPp caller, in
# DIR/uac, in the background; its pid in BR_UAC.
BR_UAC=
bridge_uac() {
	mkdir -p "$1/uac"
	head -c 8000 /dev/zero | tr '\0' '\377' >"$1/uac/caller.ulaw"
	local len_s=$((($6 + 999) / 1000))
	(cd "$1/uac" && exec sipp "$3" -sf "$LOADDIR/$2" -s "$BRIDGE_EXT" -p "$UAC_PORT" -mp "$BRIDGE_UAC_MP" -d "$6" \
		-r "$4" -m "$5" -l $(($4 * (len_s + 6))) -timeout $((STEP + len_s + 60))s -rtp_threadtasks 50 \
		"${SIPP_COMMON[@]}" >sipp.out 2>&1) &
	BR_UAC=$!
	PIDS+=("$BR_UAC")
}
# bridge_calls DIR: "ok failed retr% fail%" of a step, both SIPps' counts:
# a call is failed when either side counts it failed; retransmissions are
# both sides' over both sides' messages.
bridge_calls() {
	local ok f1 f2 r1 m1 r2 m2
	ok=$(stat_field "$1/uac/stat.csv" 'SuccessfulCall(C)')
	f1=$(stat_field "$1/uac/stat.csv" 'FailedCall(C)')
	f2=$(stat_field "$1/uas/stat.csv" 'FailedCall(C)')
	read -r r1 m1 <<<"$(retrans "$1"/uac/*_counts.csv)"
	read -r r2 m2 <<<"$(retrans "$1"/uas/*_counts.csv)"
	echo "$ok $((f1 + f2)) $(pct $((r1 + r2)) $((m1 + m2))) $(pct $((f1 + f2)) $((ok + f1)))"
}
br_us_per() { awk -v t="$1" -v hz="$HZ" -v n="$2" 'BEGIN{if(n>0) printf "%.0f", 1e6*t/hz/n; else print "-"}'; }

BRIDGE_RATE_HEAD='| via | cps | calls ok | failed | retr % | got cps | INVITE→200 p50/p99/max ms | switch CPU µs/call | allocs / KB per call | switch %core | SIPp µs/call (uac+uas) | SIPp %core uac / uas | machine % | RSS/HWM MB | pass |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'

# bridge_rate_step RATE TOP VIA: one step of the calls/s ladder, through
# the switch (VIA=switch) or caller to callee directly (VIA=direct). The
# calls carry SDP but no RTP; each is held --bridge-hold ms, then the
# caller hangs up.
bridge_rate_step() {
	local rate=$1 top=$2 via=$3 dir target
	dir=$OUT/bridge-cps-$via-$rate
	mkdir -p "$dir"
	target=127.0.0.1:$UAS_PORT
	if [ "$via" = switch ]; then
		target=127.0.0.1:$SIP_PORT
		start_switch "$dir"
		[ "$PROFILE" = 1 ] && [ "$top" = 1 ] && profile "$dir" $((STEP > 15 ? 5 : 1)) $((STEP > 15 ? 10 : STEP - 2 > 1 ? STEP - 2 : 1))
	fi
	local hold_s=$(((BRIDGE_HOLD + 999) / 1000))
	bridge_uas_start "$dir" bridge_sig_uas.xml $((STEP + hold_s + 120))
	local v0= v1= c0=0 c1=0 u0 u1 m0 m1 t0 dur uac_ticks
	[ -z "$SB_PID" ] || { v0=$(vars) || v0=; c0=$(proc_ticks "$SB_PID"); }
	u0=$(proc_ticks "$BR_UAS")
	m0=$(machine)
	t0=$(now)
	bridge_uac "$dir" bridge_sig_uac.xml "$target" "$rate" $((rate * STEP)) "$BRIDGE_HOLD"
	wait_exit "$BR_UAC" $((STEP + hold_s + 75)) uac_ticks
	dur=$(elapsed "$t0")
	[ -z "$SB_PID" ] || { c1=$(proc_ticks "$SB_PID"); v1=$(vars) || v1=; }
	u1=$(proc_ticks "$BR_UAS")
	m1=$(machine)
	profile_done "$dir"
	local left=0 rss=0 hwm=0
	if [ -n "$SB_PID" ]; then
		left=$(wait_idle)
		rss=$(status_kb "$SB_PID" VmRSS)
		hwm=$(status_kb "$SB_PID" VmHWM)
		vars >"$dir/vars.json" || true
	fi
	bridge_uas_stop
	[ -z "$SB_PID" ] || stop_switch

	local ok failed rpct fpct cps p50 p99 mx sw_us=- allocs=- kb=- swpct=- sipp_us pass
	read -r ok failed rpct fpct <<<"$(bridge_calls "$dir")"
	cps=$(gen_rate "$dir/uac/stat.csv")
	read -r p50 p99 mx <<<"$(rtt_pcts "$dir"/uac/*_rtt.csv)"
	sipp_us=$(br_us_per $((uac_ticks + u1 - u0)) "$ok")
	if [ "$via" = switch ]; then
		sw_us=$(br_us_per $((c1 - c0)) "$ok")
		swpct=$(pct_of_core $((c1 - c0)) "$dur")
		if [ -n "$v0" ] && [ -n "$v1" ] && [ "$ok" -gt 0 ]; then
			read -r allocs kb <<<"$(jq -n -r --argjson a "$v0" --argjson b "$v1" --argjson n "$ok" \
				'[(($b.memstats.Mallocs - $a.memstats.Mallocs) / $n | round),
				  (($b.memstats.TotalAlloc - $a.memstats.TotalAlloc) / $n / 1024 | round)] | @tsv' 2>/dev/null || echo '- -')"
		fi
	fi
	pass=FAIL
	if [ "$ok" -gt 0 ] && [ "$failed" = 0 ] && awk -v r="$rpct" 'BEGIN{exit !(r<1)}'; then pass=pass; fi
	awk -v c="$cps" -v r="$rate" 'BEGIN{exit !(c < 0.95*r)}' && pass="$pass(slow:$cps)"
	[ "$left" = 0 ] || pass="$pass(left:$left)"
	[ "$RSS_STOPPED" = 0 ] || pass="FAIL(stopped at ${MAX_RSS_MB} MB RSS)"
	row "$(printf '| %s | %5s | %7s | %s | %6s | %5s | %s / %s / %s | %s | %s / %s | %s | %s | %s / %s | %s | %s / %s | %s |' \
		"$via" "$rate" "$ok" "$failed" "$rpct" "$cps" "$p50" "$p99" "$mx" "$sw_us" "$allocs" "$kb" "$swpct" "$sipp_us" \
		"$(pct_of_core "$uac_ticks" "$dur")" "$(pct_of_core $((u1 - u0)) "$dur")" "$(busy_pct "$m0" "$m1")" \
		"$((rss / 1024))" "$((hwm / 1024))" "$pass")"
	printf 'bridge-cps-%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$via" "$rate" "$ok" "$failed" "$fpct" "$rpct" \
		"$cps" "$p50" "$p99" "$mx" "$sw_us" "$sipp_us" "$(busy_pct "$m0" "$m1")" "$hwm" "$pass" >>"$OUT/results.tsv"
}

BRIDGE_CONC_HEAD='| via | calls | calls ok | failed | retr % | bridged | to callee % | to caller % | switch rcvd % | relayed % of rcvd | relay dropped | wake p99 | skips | switch %core | switch µs per call-second | SIPp %core uac / uas | machine % | RSS/HWM MB | pass |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'

# bridge_conc_step CONC TOP VIA: one step of the concurrency ladder: calls
# of --bridge-len seconds at CONC÷LEN calls/s for --step seconds, both
# SIPps streaming RTP from answer to BYE, so CONC calls are up from second
# LEN to the end of the step. The figures are over that steady state.
bridge_conc_step() {
	local conc=$1 top=$2 via=$3 dir target
	dir=$OUT/bridge-conc-$via-$conc
	mkdir -p "$dir"
	local rate=$(((conc + BRIDGE_LEN - 1) / BRIDGE_LEN))
	local w0=$((BRIDGE_LEN + 2)) w1=$STEP steady=yes
	if [ "$w1" -le $((w0 + 2)) ]; then w0=2; w1=$STEP; steady=no; fi
	target=127.0.0.1:$UAS_PORT
	if [ "$via" = switch ]; then
		target=127.0.0.1:$SIP_PORT
		start_switch "$dir"
		[ "$PROFILE" = 1 ] && [ "$top" = 1 ] && profile "$dir" "$w0" $((w1 - w0 > 12 ? 10 : (w1 - w0 > 3 ? w1 - w0 - 2 : 1)))
	fi
	bridge_uas_start "$dir" bridge_uas.xml $((STEP + BRIDGE_LEN + 120))
	local t0 ta tb win c0=0 c1=0 a0 a1 b0 b1 m0 m1 v0='{}' v1='{}' dc0 dc1 ds0 ds1 uac_ticks
	t0=$(now)
	bridge_uac "$dir" bridge_uac.xml "$target" "$rate" $((rate * STEP)) $((BRIDGE_LEN * 1000))
	sleep "$w0"
	[ -z "$SB_PID" ] || { c0=$(proc_ticks "$SB_PID"); v0=$(vars) || v0='{}'; }
	a0=$(proc_ticks "$BR_UAC")
	b0=$(proc_ticks "$BR_UAS")
	dc0=$(br_udp_drops "$BRIDGE_UAC_MP")
	ds0=$(br_udp_drops "$BRIDGE_UAS_MP")
	m0=$(machine)
	ta=$(now)
	sleep $((w1 - w0))
	[ -z "$SB_PID" ] || { c1=$(proc_ticks "$SB_PID"); v1=$(vars) || v1='{}'; }
	a1=$(proc_ticks "$BR_UAC")
	b1=$(proc_ticks "$BR_UAS")
	dc1=$(br_udp_drops "$BRIDGE_UAC_MP")
	ds1=$(br_udp_drops "$BRIDGE_UAS_MP")
	m1=$(machine)
	tb=$(now)
	win=$(awk -v a="$ta" -v b="$tb" 'BEGIN{printf "%.3f", b-a}')
	wait_exit "$BR_UAC" $((STEP + BRIDGE_LEN + 100)) uac_ticks
	profile_done "$dir"
	local left=0 rss=0 hwm=0
	if [ -n "$SB_PID" ]; then
		left=$(wait_idle)
		rss=$(status_kb "$SB_PID" VmRSS)
		hwm=$(status_kb "$SB_PID" VmHWM)
		vars >"$dir/vars.json" || echo '{}' >"$dir/vars.json"
	fi
	bridge_uas_stop
	[ -z "$SB_PID" ] || stop_switch
	printf '%s\n' "$v0" >"$dir/vars-w0.json"
	printf '%s\n' "$v1" >"$dir/vars-w1.json"

	local ok failed rpct fpct expected to_uas to_uac rcvd=- relayed=- rdrop=- wake=- skips=- bridged=- swpct=- swus=- pass fwd=100
	read -r ok failed rpct fpct <<<"$(bridge_calls "$dir")"
	# Each direction: every call up streams 50 packets a second.
	expected=$(awk -v r="$rate" -v l="$BRIDGE_LEN" -v w="$win" 'BEGIN{printf "%.0f", r*l*50*w}')
	to_uas=$(pct $((ds1 - ds0)) "$expected")
	to_uac=$(pct $((dc1 - dc0)) "$expected")
	if [ "$via" = switch ]; then
		local d
		d=$(jq -n -r --argjson a "$v0" --argjson b "$v1" \
			'[($b.media.Packets.AudioIn - $a.media.Packets.AudioIn), ($b.media.Packets.Relayed - $a.media.Packets.Relayed),
			  ($b.media.Packets.RelayDropped - $a.media.Packets.RelayDropped), ($b.media.WakeLateness.P99 / 1e6),
			  ($b.media.PacerSkips - $a.media.PacerSkips), (($a.sessions + $b.sessions) / 4 | round)] | @tsv' 2>/dev/null || echo '- - - - - -')
		read -r rcvd relayed rdrop wake skips bridged <<<"$d"
		fwd=$(pct "$relayed" "$rcvd")
		relayed=$fwd
		rcvd=$(pct "$rcvd" $((2 * expected)))
		wake="$wake ms"
		swpct=$(pct_of_core $((c1 - c0)) "$win")
		swus=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v n="$((rate * BRIDGE_LEN))" -v w="$win" 'BEGIN{printf "%.0f", 1e6*t/hz/(n*w)}')
	fi
	# Pass: no failed call, retransmissions under 1%, each SIPp reached by
	# >= 99.5% of the packets due to it (what calls are up at a given moment
	# wavers around RATE x LEN, hence not 99.9), and through the switch
	# >= 99.9% of the audio it accepted relayed.
	pass=FAIL
	if [ "$ok" -gt 0 ] && [ "$failed" = 0 ] && awk -v r="$rpct" -v a="$to_uas" -v b="$to_uac" -v f="$fwd" \
		'BEGIN{exit !(r<1 && a>=99.5 && b>=99.5 && f>=99.9)}'; then pass=pass; fi
	[ "$steady" = yes ] || pass="$pass(no steady state: --step <= --bridge-len+4)"
	[ "$left" = 0 ] || pass="$pass(left:$left)"
	[ "$RSS_STOPPED" = 0 ] || pass="FAIL(stopped at ${MAX_RSS_MB} MB RSS)"
	row "$(printf '| %s | %5s | %6s | %s | %6s | %s | %7s | %7s | %7s | %7s | %s | %s | %s | %s | %s | %s / %s | %s | %s / %s | %s |' \
		"$via" "$conc" "$ok" "$failed" "$rpct" "$bridged" "$to_uas" "$to_uac" "$rcvd" "$relayed" "$rdrop" "$wake" "$skips" \
		"$swpct" "$swus" "$(pct_of_core $((a1 - a0)) "$win")" "$(pct_of_core $((b1 - b0)) "$win")" "$(busy_pct "$m0" "$m1")" \
		"$((rss / 1024))" "$((hwm / 1024))" "$pass")"
	printf 'bridge-conc-%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$via" "$conc" "$ok" "$failed" "$fpct" "$rpct" \
		"$to_uas" "$to_uac" "$relayed" "$skips" "$swpct" "$swus" "$(busy_pct "$m0" "$m1")" "$hwm" "$pass" >>"$OUT/results.tsv"
}

# --- Lua IVR ---------------------------------------------------------------------
# Every call runs scripts/load/lua_ivr.lua (extension 7003) for --tone
# seconds while SIPp streams RTP to it, as in the media steps; the pass
# line adds no skipped pacer period and no underrun (a paced packet
# missing), i.e. no missed media deadline, and every IVR getting its
# digit.
LUA_EXT=7003
lua_conf() { # the IVR's extension and script, beside make_conf's 00_load.xml
	cp "$LOADDIR/lua_ivr.lua" "$CONF/scripts/load_ivr.lua"
	cat >"$CONF/dialplan/default/00_load_lua.xml" <<XML
<include>
  <!-- Written by scripts/load.sh lua. -->
  <extension name="load_lua_ivr">
    <condition field="destination_number" expression="^${LUA_EXT}\$">
      <action application="lua" data="load_ivr.lua ${TONE}"/>
    </condition>
  </extension>
</include>
XML
	"$SB" check --conf "$CONF" "${SB_SETS[@]}" >"$OUT/check.txt" 2>&1 || { cat "$OUT/check.txt" >&2; exit 1; }
}

LUA_HEAD='| calls | calls ok | fail % | retr % | IVR errors | peak sessions | sent / expected pkts | sent % | rcvd % | send p99 | wake p99 | skips | underruns | switch %core | switch µs per call-second | SIPp %core | machine % | RSS/HWM MB | pass |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'

# lua_step CONC TOP: CONC÷TONE calls/s for --step seconds, each call TONE
# seconds in the IVR, so CONC calls are up from second TONE to the end of
# generation; CPU over that steady state.
lua_step() {
	local conc=$1 top=$2 dir=$OUT/lua-$1
	mkdir -p "$dir"
	head -c 8000 /dev/zero | tr '\0' '\377' >"$dir/caller.ulaw"
	local rate=$(((conc + TONE - 1) / TONE))
	local calls=$((rate * STEP))
	local w0=$((TONE + 2)) w1=$STEP steady=yes
	if [ "$w1" -le $((w0 + 2)) ]; then w0=0; w1=$STEP; steady=no; fi
	start_switch "$dir"
	[ "$PROFILE" = 1 ] && [ "$top" = 1 ] && profile "$dir" "$w0" $((w1 - w0 > 12 ? 10 : (w1 - w0 > 3 ? w1 - w0 - 2 : 1)))
	local c0 c1 m0 m1 s0 s1 sessions=0 sipp_ticks v
	(cd "$dir" && exec sipp "127.0.0.1:$SIP_PORT" -sf "$LOADDIR/lua_uac.xml" -s "$LUA_EXT" -p "$UAC_PORT" -mp "$LUA_MP" \
		-r "$rate" -m "$calls" -l $((rate * (TONE + 6))) -timeout $((STEP + TONE + 90))s \
		-rtp_threadtasks 50 "${SIPP_COMMON[@]}" >sipp.out 2>&1) &
	local sp=$!
	PIDS+=("$sp")
	sleep "$w0"
	c0=$(proc_ticks "$SB_PID")
	s0=$(proc_ticks "$sp")
	m0=$(machine)
	sleep $((w1 - w0))
	c1=$(proc_ticks "$SB_PID")
	s1=$(proc_ticks "$sp")
	m1=$(machine)
	v=$(vars) || v='{}'
	sessions=$(jq -r '.sessions // 0' <<<"$v")
	wait_exit "$sp" $((STEP + TONE + 100)) sipp_ticks
	profile_done "$dir"
	local left rss hwm
	left=$(wait_idle)
	rss=$(status_kb "$SB_PID" VmRSS)
	hwm=$(status_kb "$SB_PID" VmHWM)
	vars >"$dir/vars.json" || echo '{}' >"$dir/vars.json"
	stop_switch

	local ok failed r m fpct rpct ivrerr sent recvd expected sentpct recvpct p99 wake skips under pass swpct swus sippct mach
	ok=$(stat_field "$dir/stat.csv" 'SuccessfulCall(C)')
	failed=$(stat_field "$dir/stat.csv" 'FailedCall(C)')
	read -r r m <<<"$(retrans "$dir"/*_counts.csv)"
	rpct=$(pct "$r" "$m")
	fpct=$(pct "$failed" $((ok + failed)))
	ivrerr=$(grep -c 'load_ivr:' "$dir/switch.log" || true)
	sent=$(jq -r '.media.Packets.Sent // 0' "$dir/vars.json")
	recvd=$(jq -r '.media.Packets.Accepted // 0' "$dir/vars.json")
	expected=$((ok * TONE * 50))
	sentpct=$(pct "$sent" "$expected")
	recvpct=$(pct "$recvd" "$expected")
	p99=$(jq -r '(.media.SendLateness.P99 // 0) / 1e6' "$dir/vars.json")
	wake=$(jq -r '(.media.WakeLateness.P99 // 0) / 1e6' "$dir/vars.json")
	skips=$(jq -r '.media.PacerSkips // 0' "$dir/vars.json")
	under=$(jq -r '.media.Packets.Underruns // 0' "$dir/vars.json")
	swpct=$(pct_of_core $((c1 - c0)) $((w1 - w0)))
	swus=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v n=$((rate * TONE)) -v w=$((w1 - w0)) 'BEGIN{printf "%.0f", (n*w>0 ? 1e6*t/hz/(n*w) : 0)}')
	sippct=$(pct_of_core $((s1 - s0)) $((w1 - w0)))
	mach=$(busy_pct "$m0" "$m1")
	pass=FAIL
	if [ "$ok" -gt 0 ] && [ "$ivrerr" = 0 ] && [ "$skips" = 0 ] && [ "$under" = 0 ] && awk -v f="$fpct" -v r="$rpct" -v s="$sentpct" -v p="$p99" -v c="$mach" \
		'BEGIN{exit !(f<0.1 && r<1 && s>=99 && p<=5 && c<=80)}'; then pass=pass; fi
	[ "$steady" = yes ] || pass="$pass(no steady state: --step <= --tone+4)"
	[ "$RSS_STOPPED" = 0 ] || pass="FAIL(stopped at ${MAX_RSS_MB} MB RSS)"
	[ "$left" = 0 ] || pass="$pass(left:$left)"
	row "$(printf '| %5s | %6s | %6s | %6s | %s | %5s | %s / %s | %7s | %7s | %s ms | %s ms | %s | %s | %5s | %s | %5s | %5s | %s / %s | %s |' \
		"$conc" "$ok" "$fpct" "$rpct" "$ivrerr" "$sessions" "$sent" "$expected" "$sentpct" "$recvpct" "$p99" "$wake" \
		"$skips" "$under" "$swpct" "$swus" "$sippct" "$mach" "$((rss / 1024))" "$((hwm / 1024))" "$pass")"
	printf 'lua\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$conc" "$ok" "$failed" "$fpct" "$rpct" \
		"$sessions" "$sent" "$expected" "$sentpct" "$p99" "$skips" "$swpct" "$mach" "$hwm" "$pass" >>"$OUT/results.tsv"
}

# --- run ------------------------------------------------------------------------
build
make_conf
{
	echo "# scripts/load.sh $MODE: $(date -u +%Y-%m-%dT%H:%M:%SZ); switch $BUILT_FROM"
	echo "# $NCPU CPUs: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo); $(go version | cut -d' ' -f3); $(sipp -v 2>&1 | awk '/SIPp v/{print $2}')"
	echo "# step ${STEP}s, rates $RATES, media calls $CONC (tone ${TONE}s), --sip-linger $LINGER, --priority ${PRIORITY:-default (auto)}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# files: $OUT"
} | tee "$RESULTS"
: >"$OUT/results.tsv"

run_baseline() {
	CUR_MODE=baseline
	header "baseline: SIPp uac -> SIPp uas (built-in scenarios); CPU µs/call is the uas's" "$SIG_HEAD"
	local r
	for r in "${RATE_LIST[@]}"; do baseline_step "$r"; done
}
run_sipgo() {
	CUR_MODE=sipgo
	header "sipgo floor: SIPp uac -> scripts/load/baresipgo, the same scenario (7000); CPU µs/call is baresipgo's" "$SIG_HEAD"
	local r
	for r in "${RATE_LIST[@]}"; do sipgo_step "$r"; done
}
run_signalling() {
	CUR_MODE=signalling
	header "signalling: SIPp uac -> switch, answer + hangup (7000); CPU µs/call is the switch's" "$SIG_HEAD"
	local i n=${#RATE_LIST[@]}
	for i in "${!RATE_LIST[@]}"; do signalling_step "${RATE_LIST[$i]}" $((i == n - 1 ? 1 : 0)); done
}
run_pacer() {
	header "bare Go pacer (scripts/load/barepacer, one goroutine, one ticker, 10 slots)" "$PACER_HEAD"
	local c
	for c in "${CONC_LIST[@]}"; do pacer_step "$c"; done
}
run_media() {
	header "media: SIPp uac with rtp_stream -> switch, answer + ${TONE}s tone + hangup (7001); CPU over the steady state" "$MEDIA_HEAD"
	local i n=${#CONC_LIST[@]}
	for i in "${!CONC_LIST[@]}"; do media_step "${CONC_LIST[$i]}" $((i == n - 1 ? 1 : 0)); done
}

run_lua() {
	LUA_CONC=${LUA_CONC-${LOAD_LUA_CONC-500}}
	LUA_MP=${LOAD_LUA_MEDIA_PORT:-7200}
	[[ $LUA_CONC =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "load.sh: --lua-conc is comma-separated integers" >&2; exit 2; }
	[[ $LUA_MP =~ ^[1-9][0-9]*$ ]] || { echo "load.sh: LOAD_LUA_MEDIA_PORT must be a port, not '$LUA_MP'" >&2; exit 2; }
	lua_conf
	header "lua: SIPp uac with rtp_stream -> switch, a Lua IVR of ${TONE} s per call (answer, playAndGetDigits, a variable, a tone, hangup; $LUA_EXT); CPU over the steady state; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" "$LUA_HEAD"
	local list i n
	IFS=, read -r -a list <<<"$LUA_CONC"
	n=${#list[@]}
	for i in "${!list[@]}"; do lua_step "${list[$i]}" $((i == n - 1 ? 1 : 0)); done
}

run_bridge() {
	BRIDGE_RATES=${BRIDGE_RATES-${LOAD_BRIDGE_RATES-300,450,600,750,900,1050}}
	BRIDGE_CONC=${BRIDGE_CONC-${LOAD_BRIDGE_CONC-100,250,500,750,1000,1250,1500}}
	BRIDGE_LEN=${BRIDGE_LEN:-${LOAD_BRIDGE_LEN:-20}}
	BRIDGE_HOLD=${BRIDGE_HOLD:-${LOAD_BRIDGE_HOLD:-1000}}
	BRIDGE_UAC_MP=${LOAD_UAC_MEDIA_PORT:-7000}
	BRIDGE_UAS_MP=${LOAD_UAS_MEDIA_PORT:-7100}
	local v
	for v in BRIDGE_LEN BRIDGE_UAC_MP BRIDGE_UAS_MP; do
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "load.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
	done
	[[ $BRIDGE_HOLD =~ ^[0-9]+$ ]] || { echo "load.sh: --bridge-hold must be milliseconds, not '$BRIDGE_HOLD'" >&2; exit 2; }
	[[ $BRIDGE_RATES =~ ^([0-9]+(,[0-9]+)*)?$ && $BRIDGE_CONC =~ ^([0-9]+(,[0-9]+)*)?$ ]] ||
		{ echo "load.sh: --bridge-rates and --bridge-conc are comma-separated integers" >&2; exit 2; }
	bridge_conf
	local r c i n list
	if [ -n "$BRIDGE_RATES" ]; then
		header "bridge calls/s: SIPp caller -> switch (bridge, $BRIDGE_EXT) -> SIPp callee, and caller -> callee directly; SDP, no RTP, calls held ${BRIDGE_HOLD} ms, the caller hangs up; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" "$BRIDGE_RATE_HEAD"
		IFS=, read -r -a list <<<"$BRIDGE_RATES"
		n=${#list[@]}
		for i in "${!list[@]}"; do
			r=${list[$i]}
			bridge_rate_step "$r" 0 direct
			bridge_rate_step "$r" $((i == n - 1 ? 1 : 0)) switch
		done
	fi
	if [ -n "$BRIDGE_CONC" ]; then
		header "bridge concurrency: the same, RTP both ways (50 packets/s each way per call), calls of ${BRIDGE_LEN} s, the caller hangs up; over the steady state; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" "$BRIDGE_CONC_HEAD"
		IFS=, read -r -a list <<<"$BRIDGE_CONC"
		n=${#list[@]}
		for i in "${!list[@]}"; do
			c=${list[$i]}
			bridge_conc_step "$c" 0 direct
			bridge_conc_step "$c" $((i == n - 1 ? 1 : 0)) switch
		done
	fi
}

case $MODE in
signalling) run_signalling ;;
baseline) run_baseline ;;
sipgo) run_sipgo ;;
media) run_media ;;
pacer) run_pacer ;;
bridge) run_bridge ;;
lua) run_lua ;;
all)
	run_baseline
	run_sipgo
	run_signalling
	run_pacer
	run_media
	;;
esac

# --- ratios ---------------------------------------------------------------------------
top_pass() { awk -F'\t' -v m="$1" '$1==m && $15 == "pass" && $2>r {r=$2} END{print r+0}' "$OUT/results.tsv"; }
if [ "$MODE" = all ]; then
	{
		echo
		echo "## ratios"
		sb=$(top_pass signalling)
		ba=$(top_pass baseline)
		echo "- highest passing rate: switch $sb cps, SIPp uas $ba cps: $(ratio "$sb" "$ba")"
		awk -F'\t' '$1=="signalling"{s[$2]=$11} $1=="sipgo"{g[$2]=$11}
			END{for(r in s) if(r in g) printf "- %s cps: CPU per call switch %s µs / bare sipgo %s µs = %.2f\n", r, s[r], g[r], (g[r]>0? s[r]/g[r] : 0)}' \
			"$OUT/results.tsv" | sort -t' ' -k2 -n
		awk -F'\t' '$1=="signalling"{s[$2]=$11; p[$2]=$9} $1=="baseline"{b[$2]=$11; q[$2]=$9}
			END{for(r in s) if(r in b) printf "- %s cps: CPU per call switch %s µs / SIPp uas %s µs = %.2f; p99 INVITE→200 switch %s ms, SIPp uas %s ms\n", r, s[r], b[r], (b[r]>0? s[r]/b[r] : 0), p[r], q[r]}' \
			"$OUT/results.tsv" | sort -t' ' -k2 -n
		awk -F'\t' '$1=="media"{c[$2]=$13; p[$2]=$11} $1=="pacer"{bc[$2]=$3; bp[$2]=$4}
			END{for(n in c) if(n in bc) printf "- %s calls: switch %s %%core (send+receive, SIP, tone) / bare pacer %.1f %%core (send, and its in-process sink receives) = %.1f; send p99 switch %s ms / bare %s ms\n", n, c[n], bc[n], (bc[n]>0 ? c[n]/bc[n] : 0), p[n], bp[n]}' \
			"$OUT/results.tsv" | sort -t' ' -k2 -n
	} | tee -a "$RESULTS"
fi
echo "# done: $RESULTS" >&2
