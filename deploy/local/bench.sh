#!/usr/bin/env bash
# `make bench`: the analytics targets of issue 4 measured on this machine, with release builds
# and a large data set in ./.kaiku-bench/ (kept between runs: loading it is the slow part).
#
#   1. loads BENCH_RESPONSES responses (default 10 million) through response-intake with
#      `kaikuctl dataset`, once, while the projection is stopped;
#   2. drops the read models and times the projection replaying the whole stream (catch-up);
#   3. times every analytics query shape the system tests use (`kaikuctl bench-queries`);
#   4. measures the machine's raw limits with kaiku-load and the same payloads: acknowledged
#      JetStream publishes, and PostgreSQL batched inserts of the read model's rows;
#   5. drives intake with kaiku-load, after an unmeasured warm-up: streaming at saturation
#      (projection stopped), unary at BENCH_UNARY_RATE (latency and ack-to-visible freshness),
#      unary at saturation, each retrying with the same submission id as adapters do; checks
#      every run's record against the read models; samples each service's resident memory;
#   6. records each service's memory and the read models' size;
# and writes the figures into BENCHMARKS.md between the bench markers, each as a share of the
# raw limit measured in the same run.
#
# Settings: BENCH_RESPONSES, BENCH_STREAMS (concurrent submit streams, 8), BENCH_ITERATIONS
# (runs per query shape, 100), BENCH_CATCHUP=0 to skip the replay, BENCH_QUERIES=0 to keep the
# last query timing, BENCH_LOAD_SECONDS (each
# intake load phase, 30), BENCH_UNARY_RATE (2000), BENCH_RAW_EVENTS (200000). Needs the ports of `make up`:
# stop the development stack first (make down).
set -Eeuo pipefail

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export KAIKU_STATE_DIR="${KAIKU_BENCH_STATE_DIR:-${BENCH_ROOT}/.kaiku-bench}"
export KAIKU_PROFILE=release
# A log line per batch would cost more than the batch at these rates.
export RUST_LOG="${RUST_LOG:-warn}"
BENCH_RESPONSES="${BENCH_RESPONSES:-10000000}"
BENCH_STREAMS="${BENCH_STREAMS:-8}"
BENCH_ITERATIONS="${BENCH_ITERATIONS:-100}"
BENCH_CATCHUP="${BENCH_CATCHUP:-1}"
BENCH_LOAD_SECONDS="${BENCH_LOAD_SECONDS:-30}"
BENCH_UNARY_RATE="${BENCH_UNARY_RATE:-2000}"
BENCH_RAW_EVENTS="${BENCH_RAW_EVENTS:-200000}"

# The steps of `make up` (up.sh only runs its main when executed).
# shellcheck source-path=SCRIPTDIR source=up.sh
source "$(dirname "${BASH_SOURCE[0]}")/up.sh"

readonly DATASET_OUT="${STATE_DIR}/bench-dataset.out"
readonly REPORT="${STATE_DIR}/bench-report.md"
readonly LOAD_DIR="${STATE_DIR}/load"

# Settings for a 24 GiB machine holding tens of millions of rows; `make up` keeps the defaults.
# Catch-up writes ~50 MB of WAL a second: with the default max_wal_size a checkpoint started
# every 2.5 minutes and each one made every touched rollup page go to the WAL again in full.
tune_postgres() {
    log_step "tuning PostgreSQL for the bench (shared_buffers 2GB, max_wal_size 16GB, wal_compression lz4)"
    psql_local -d postgres -c "alter system set shared_buffers = '2GB'" \
        -c "alter system set max_wal_size = '16GB'" \
        -c "alter system set checkpoint_timeout = '30min'" \
        -c "alter system set wal_compression = 'lz4'" \
        -c "alter system set effective_cache_size = '12GB'" \
        -c "alter system set work_mem = '32MB'" \
        -c "select pg_reload_conf()" >/dev/null
    local pending
    pending="$(psql_local -d postgres -tA -c 'select count(*) from pg_settings where pending_restart')"
    if ((pending > 0)); then
        local pg_bin
        pg_bin="$(pg_bin_dir)"
        as_pg_user "${pg_bin}/pg_ctl" -D "${PG_DATA_DIR}" -l "$(log_file_for postgres)" -w -t 120 restart >/dev/null
        wait_for_port "${PG_PORT}" PostgreSQL 30
    fi
}

start_service() {
    local name="$1"
    local -a env_vars
    mapfile -t env_vars < <(service_env "${name}")
    start_detached "${name}" "$(log_file_for "${name}")" env "${env_vars[@]}" "${BIN_DIR}/${name}"
}

load_dataset_once() {
    if [[ -s "${DATASET_OUT}" ]]; then
        if grep -qx "responses=${BENCH_RESPONSES}" "${DATASET_OUT}"; then
            log_step "data set already loaded: $(grep -c '^survey_id=' "${DATASET_OUT}") surveys, ${BENCH_RESPONSES} responses"
            return 0
        fi
        die "${STATE_DIR} holds a data set of another size; delete it (rm -rf ${STATE_DIR}) or set BENCH_RESPONSES=$(sed -n 's/^responses=//p' "${DATASET_OUT}")"
    fi
    log_step "loading ${BENCH_RESPONSES} responses through response-intake (${BENCH_STREAMS} streams; projection stopped)"
    stop_processes 10 projection
    kaikuctl_local dataset --responses "${BENCH_RESPONSES}" --streams "${BENCH_STREAMS}" --seed 1 \
        >"${DATASET_OUT}.partial" 2>"$(log_file_for kaikuctl-dataset)"
    mv -f -- "${DATASET_OUT}.partial" "${DATASET_OUT}"
    cat -- "${DATASET_OUT}"
}

responses_checkpoint() {
    psql_local -d "${PG_DATABASE}" -tA -c \
        "select coalesce(max(last_sequence), 0) from projection_checkpoint where stream = 'KAIKU_RESPONSES'"
}

# Replays the whole response stream into empty read models and samples the checkpoint every
# 10 s: the overall rate and the slowest 10-s window.
measure_catch_up() {
    local target
    target="$(sed -n 's/^sequence=//p' "${DATASET_OUT}")"
    [[ "${target}" =~ ^[0-9]+$ ]] || die "no sequence= line in ${DATASET_OUT}"
    log_step "replaying ${target} events into empty read models (projection catch-up)"
    stop_processes 10 analytics projection
    psql_local -d "${PG_DATABASE}" -c "drop schema public cascade" -c "create schema public"
    migrate_read_models
    local samples="${STATE_DIR}/catch-up-samples.tsv"
    : >"${samples}"
    local started now checkpoint
    started="$(date +%s.%N)"
    # The database's clock, for the exact duration: the last batch stamps its checkpoint row.
    psql_local -d "${PG_DATABASE}" -tA -c "select extract(epoch from clock_timestamp())" \
        >"${STATE_DIR}/catch-up-started"
    start_service projection
    while :; do
        sleep 10
        is_running projection || die "the projection exited during catch-up; see $(log_file_for projection)"
        now="$(date +%s.%N)"
        checkpoint="$(responses_checkpoint)"
        printf '%s\t%s\n' "$(awk -v a="${now}" -v b="${started}" 'BEGIN { printf "%.1f", a - b }')" "${checkpoint}" | tee -a "${samples}"
        ((checkpoint >= target)) && break
    done
    # From the projection's start to the commit of its last batch, both on the database's
    # clock; includes the projection's start-up. Kept now: the intake load moves the checkpoint.
    psql_local -d "${PG_DATABASE}" -tA -c "
        select round(last_sequence / (extract(epoch from updated_at) - $(<"${STATE_DIR}/catch-up-started")))
        from projection_checkpoint where stream = 'KAIKU_RESPONSES'" >"${STATE_DIR}/catch-up-rate"
    psql_local -d "${PG_DATABASE}" -tA -c "
        select format('- exact: %s events from the projection''s start to its last commit in %s s: %s responses/s',
                      last_sequence, round(d, 1), round(last_sequence / d))
        from (select last_sequence,
                     extract(epoch from updated_at) - $(<"${STATE_DIR}/catch-up-started") as d
              from projection_checkpoint where stream = 'KAIKU_RESPONSES') t" >"${STATE_DIR}/catch-up-exact"
    start_service analytics
    wait_until_ready
}

catch_up_figures() {
    local samples="${STATE_DIR}/catch-up-samples.tsv"
    [[ -s "${samples}" ]] || return 0
    [[ -s "${STATE_DIR}/catch-up-exact" ]] && cat -- "${STATE_DIR}/catch-up-exact"
    awk -F'\t' '
        { t[NR] = $1; c[NR] = $2 }
        END {
            # The last sample includes idle time after the checkpoint reached the end.
            printf "- events replayed: %d in about %.0f s (sampled every 10 s)\n", c[NR], t[NR]
            printf "- overall rate: %.0f responses/s (to the first sample at the end of the stream)\n", c[NR] / t[NR]
            slowest = -1; fastest = 0
            for (i = 2; i < NR; i++) {
                r = (c[i] - c[i-1]) / (t[i] - t[i-1])
                if (slowest < 0 || r < slowest) slowest = r
                if (r > fastest) fastest = r
            }
            if (slowest >= 0) printf "- 10-s windows (excluding the last): slowest %.0f/s, fastest %.0f/s\n", slowest, fastest
        }' "${samples}"
}

service_memory() {
    local name pid
    for name in "${SERVICES[@]}"; do
        pid="$(running_pid "${name}")" || continue
        awk -v name="${name}" '/^VmHWM/ { peak = $2 } /^VmRSS/ { rss = $2 }
            END { printf "| %s | %.0f | %.0f |\n", name, rss / 1024, peak / 1024 }' "/proc/${pid}/status"
    done
}

read_model_sizes() {
    psql_local -d "${PG_DATABASE}" -tA -F ' | ' -c "
        select '| ' || relname, pg_size_pretty(pg_total_relation_size(c.oid)),
               to_char(c.reltuples::bigint, 'FM999,999,999,999') || ' |'
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r' and c.reltuples > 0
        order by pg_total_relation_size(c.oid) desc"
}

kaiku_load_local() { local_client "${BIN_DIR}/kaiku-load" "$@"; }

#   figure FILE KEY: the value of a key=value line of kaiku-load's output.
figure() { sed -n "s/^$2=//p" "$1" | head -n 1; }

# The raw limits, with the events intake writes and the rows the projection writes. The raw
# PostgreSQL figure uses the projection's batch size (50,000).
measure_raw_limits() {
    mkdir -p "${LOAD_DIR}"
    log_step "raw limit: ${BENCH_RAW_EVENTS} acknowledged JetStream publishes (kaiku-load raw-jetstream)"
    NATS_URL="${NATS_URL_LOCAL}" NATS_USER=admin NATS_PASSWORD="$(nats_password admin)" \
        "${BIN_DIR}/kaiku-load" raw-jetstream --count "${BENCH_RAW_EVENTS}" --in-flight 256 \
        | tee "${LOAD_DIR}/raw-jetstream.out"
    log_step "raw limit: 500000 rows in batched inserts (kaiku-load raw-postgres)"
    DATABASE_URL="${DATABASE_URL_LOCAL}" \
        "${BIN_DIR}/kaiku-load" raw-postgres --count 500000 --batch 50000 \
        | tee "${LOAD_DIR}/raw-postgres.out"
}

# Peak resident memory of each service while a command runs, into LOAD_DIR/memory-peaks.
with_memory_samples() {
    local samples="${LOAD_DIR}/memory-samples.tsv"
    (
        while :; do
            local name pid
            for name in "${SERVICES[@]}"; do
                pid="$(running_pid "${name}")" || continue
                awk -v name="${name}" '/^VmRSS/ { printf "%s\t%d\n", name, $2 }' "/proc/${pid}/status" 2>/dev/null || true
            done
            sleep 0.5
        done
    ) >>"${samples}" &
    local sampler=$!
    local status=0
    "$@" || status=$?
    kill "${sampler}" 2>/dev/null || true
    wait "${sampler}" 2>/dev/null || true
    return "${status}"
}

#   intake_phase PHASE KAIKU_LOAD_RUN_ARGS...: one load run against a survey of its own (so its
#   record can be checked exactly), output and record in LOAD_DIR/PHASE.*
intake_phase() {
    local phase="$1"
    shift
    kaiku_load_local setup --units 10 >"${LOAD_DIR}/${phase}.setup"
    log_step "intake load: ${phase} (kaiku-load run $*)"
    kaiku_load_local run --survey-id "$(figure "${LOAD_DIR}/${phase}.setup" survey_id)" \
        --units "$(figure "${LOAD_DIR}/${phase}.setup" units)" \
        --duration "${BENCH_LOAD_SECONDS}s" --retry-for 120s --record "${LOAD_DIR}/${phase}.record" "$@" \
        | tee "${LOAD_DIR}/${phase}.out"
    [[ "$(figure "${LOAD_DIR}/${phase}.out" refused)" == 0 ]] \
        || log_warn "${phase}: intake refused submissions (see ${LOAD_DIR}/${phase}.out)"
}

readonly LOAD_PHASES=(streaming-saturation "unary-${BENCH_UNARY_RATE}" unary-saturation)

# Intake alone first (streaming, projection stopped: what intake and JetStream take), then the
# whole system: unary at a fixed rate with freshness probes, and unary at saturation.
measure_intake() {
    : >"${LOAD_DIR}/memory-samples.tsv"
    # Not measured: after nats-server starts, the first publish to KAIKU_RESPONSES waits while
    # JetStream rebuilds the index of message ids inside the duplicate window (26.5 s and
    # 2.6 GB for 13.6 million ids here); the report shows how long.
    log_step "warm-up: the first submissions after the stack started (not measured)"
    kaiku_load_local setup --units 10 >"${LOAD_DIR}/warm-up.setup"
    kaiku_load_local run --survey-id "$(figure "${LOAD_DIR}/warm-up.setup" survey_id)" \
        --units "$(figure "${LOAD_DIR}/warm-up.setup" units)" --count 20 --workers 1 \
        --retry-for 300s | tee "${LOAD_DIR}/warm-up.out"
    stop_processes 10 projection
    with_memory_samples intake_phase streaming-saturation --mode streaming --workers 8 --window 256
    start_service projection
    wait_until_ready
    # The projection catches up with the streaming run's backlog before the whole-system runs
    # (verify waits for it): otherwise they would measure a catch-up, not steady load.
    verify_phase streaming-saturation
    with_memory_samples intake_phase "unary-${BENCH_UNARY_RATE}" --mode unary --rate "${BENCH_UNARY_RATE}" \
        --workers 64 --freshness-every 20ms
    with_memory_samples intake_phase unary-saturation --mode unary --workers 64
    verify_phase "unary-${BENCH_UNARY_RATE}"
    verify_phase unary-saturation
}

verify_phase() {
    log_step "checking the read models against the $1 record (kaiku-load verify)"
    DATABASE_URL="${DATABASE_URL_LOCAL}" kaiku_load_local verify --wait 600s \
        --record "${LOAD_DIR}/$1.record" | tee "${LOAD_DIR}/$1.verify"
}

#   ratio A B: A as a percentage of B.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "n/a" }'; }
#   below A B: "met" when A < B.
below() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? "met" : "missed" }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "met" : "missed" }'; }

#   freshness_cell OUT: "p50 / p99" of the freshness probes, with any that analytics did not
#   answer, or "-" for a run without probes.
freshness_cell() {
    local probes failed
    probes="$(figure "$1" freshness_count)"
    failed="$(figure "$1" freshness_failed)"
    if [[ "${probes:-0}" -eq 0 && "${failed:-0}" -eq 0 ]]; then
        printf -- '-'
    else
        printf '%s / %s (%s probes, %s unanswered)' "$(figure "$1" freshness_p50_ms)" \
            "$(figure "$1" freshness_p99_ms)" "${probes}" "${failed:-0}"
    fi
}

load_figures() {
    local raw_js raw_pg stream unary sat catch_up
    raw_js="$(figure "${LOAD_DIR}/raw-jetstream.out" raw_jetstream_per_s)"
    raw_pg="$(figure "${LOAD_DIR}/raw-postgres.out" raw_postgres_per_s)"
    stream="${LOAD_DIR}/streaming-saturation.out"
    unary="${LOAD_DIR}/unary-${BENCH_UNARY_RATE}.out"
    sat="${LOAD_DIR}/unary-saturation.out"
    catch_up="$(catch_up_rate)"
    printf '#### Raw limits (kaiku-load, same payloads)\n\n'
    printf '| raw limit | rate | latency p50 / p99 |\n|---|---:|---:|\n'
    printf '| JetStream acknowledged publish, 256 in flight, %s events | %.0f/s | %s / %s ms |\n' \
        "$(figure "${LOAD_DIR}/raw-jetstream.out" raw_jetstream_count)" "${raw_js}" \
        "$(figure "${LOAD_DIR}/raw-jetstream.out" raw_jetstream_ack_p50_ms)" \
        "$(figure "${LOAD_DIR}/raw-jetstream.out" raw_jetstream_ack_p99_ms)"
    printf '| PostgreSQL batched insert of response + open-text rows, 50,000 per transaction | %.0f/s | %s / %s ms per batch |\n\n' \
        "${raw_pg}" "$(figure "${LOAD_DIR}/raw-postgres.out" raw_postgres_batch_p50_ms)" \
        "$(figure "${LOAD_DIR}/raw-postgres.out" raw_postgres_batch_p99_ms)"
    printf '#### Intake under load (kaiku-load run, %s s each, records verified against the read models)\n\n' "${BENCH_LOAD_SECONDS}"
    printf 'streaming-saturation: 8 streams of 256 in flight, projection stopped (intake and JetStream alone). The unary runs: 64 workers, the whole system running (projection applying as answers arrive); the fixed-rate run probes freshness every 20 ms (acknowledgement to analytics answering with min_sequence).\n\n'

    printf '| run | acknowledged/s | share of raw JetStream | latency p50 / p99 (ms) | freshness p50 / p99 (ms) | refused | read models = record |\n|---|---:|---:|---:|---:|---:|---|\n'
    local phase out
    for phase in "${LOAD_PHASES[@]}"; do
        out="${LOAD_DIR}/${phase}.out"
        printf '| %s | %.0f | %s | %s / %s | %s | %s | %s |\n' "${phase}" \
            "$(figure "${out}" acknowledged_per_s)" "$(ratio "$(figure "${out}" acknowledged_per_s)" "${raw_js}")" \
            "$(figure "${out}" latency_p50_ms)" "$(figure "${out}" latency_p99_ms)" \
            "$(freshness_cell "${out}")" \
            "$(figure "${out}" refused)" \
            "$(if grep -qx 'exact=true' "${LOAD_DIR}/${phase}.verify" 2>/dev/null; then echo "exact ($(figure "${out}" acknowledged))"; else echo DIFFERS; fi)"
    done
    printf '\n#### Peak resident memory under the intake load (MiB, sampled every 0.5 s; the projection only during the unary runs)\n\n| service | peak resident | target < 100 MiB |\n|---|---:|---|\n'
    awk -F'\t' '{ if ($2 > peak[$1]) peak[$1] = $2 } END { for (s in peak) printf "| %s | %.0f | %s |\n", s, peak[s] / 1024, (peak[s] < 102400) ? "met" : "missed" }' \
        "${LOAD_DIR}/memory-samples.tsv" | sort
    printf '\n#### Targets of issue 7 in this run\n\n| target | measured | |\n|---|---|---|\n'
    printf '| streaming intake >= 50 %% of raw JetStream publish | %s (%.0f of %.0f/s) | %s |\n' \
        "$(ratio "$(figure "${stream}" acknowledged_per_s)" "${raw_js}")" "$(figure "${stream}" acknowledged_per_s)" "${raw_js}" \
        "$(at_least "$(figure "${stream}" acknowledged_per_s)" "$(awk -v r="${raw_js}" 'BEGIN { print r / 2 }')")"
    printf '| unary p99 < 20 ms at %s/s | %s ms (%.0f/s acknowledged) | %s |\n' "${BENCH_UNARY_RATE}" \
        "$(figure "${unary}" latency_p99_ms)" "$(figure "${unary}" acknowledged_per_s)" "$(below "$(figure "${unary}" latency_p99_ms)" 20)"
    printf '| ack-to-visible freshness p99 < 1 s at %s/s | %s ms | %s |\n' "${BENCH_UNARY_RATE}" \
        "$(figure "${unary}" freshness_p99_ms)" "$(below "$(figure "${unary}" freshness_p99_ms)" 1000)"
    printf '| projection catch-up >= 50 %% of raw PostgreSQL insert | %s (%s of %.0f/s) | %s |\n' \
        "$(ratio "${catch_up:-0}" "${raw_pg}")" "${catch_up:-not measured}" "${raw_pg}" \
        "$(at_least "${catch_up:-0}" "$(awk -v r="${raw_pg}" 'BEGIN { print r / 2 }')")"
    printf '\nWarm-up before the runs: the first of 20 submissions after the stack started waited %s ms (nats-server rebuilding the duplicate-window index of KAIKU_RESPONSES, %s messages).\n' \
        "$(figure "${LOAD_DIR}/warm-up.out" latency_max_ms)" "$(figure "${LOAD_DIR}/warm-up.out" max_sequence)"
    printf '\nUnary saturation: %.0f/s acknowledged (%s of raw JetStream), p99 %s ms.\n\n' \
        "$(figure "${sat}" acknowledged_per_s)" "$(ratio "$(figure "${sat}" acknowledged_per_s)" "${raw_js}")" "$(figure "${sat}" latency_p99_ms)"
}

# The catch-up rate of the last replay (database clock), saved by measure_catch_up.
catch_up_rate() {
    [[ -s "${STATE_DIR}/catch-up-rate" ]] && cat -- "${STATE_DIR}/catch-up-rate"
    return 0
}

write_report() {
    local surveys=("$@")
    {
        printf '### Run of %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
        printf 'Machine: %s cores (%s), %s GiB memory, %s; nats-server %s, PostgreSQL %s, %s.\n\n' \
            "$(nproc)" "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)" \
            "$(free -g | awk '/^Mem:/ { print $2 }')" "$(uname -sr)" \
            "$("$(nats_server_bin)" --version | sed 's/^nats-server: //')" \
            "$(psql_local -d postgres -tA -c 'show server_version' | cut -d' ' -f1)" \
            "$(rustc --version | cut -d' ' -f1-2)"
        # shellcheck disable=SC2016 # backticks are Markdown here
        printf 'Data set: `kaikuctl dataset --responses %s --streams %s --seed 1` (surveys %s).\n\n' \
            "${BENCH_RESPONSES}" "${BENCH_STREAMS}" "${surveys[*]}"
        printf '#### Loading through response-intake (streaming submit, projection stopped)\n\n'
        awk -F= '/^responses=/ { n = $2 } /^seconds=/ { s = $2 }
            END { printf "- %d responses in %.0f s: %.0f responses/s\n\n", n, s, n / s }' "${DATASET_OUT}"
        load_figures
        printf '#### Projection catch-up (replay of the whole stream into empty read models)\n\n'
        catch_up_figures
        printf '\n#### Analytics query latency (sequential calls over gRPC, after VACUUM ANALYZE)\n\n'
        cat -- "${STATE_DIR}/bench-queries.md"
        printf '\n#### Memory after the run (MiB)\n\n| service | resident | peak resident |\n|---|---:|---:|\n'
        service_memory
        printf '\n#### Read model size\n\n| table | size | rows |\n|---|---:|---:|\n'
        read_model_sizes
    } >"${REPORT}"
    # Replace what is between the markers in BENCHMARKS.md with this run.
    local benchmarks="${KAIKU_ROOT}/BENCHMARKS.md"
    awk -v report="${REPORT}" '
        /<!-- bench:begin -->/ { print; while ((getline line < report) > 0) print line; skip = 1; next }
        /<!-- bench:end -->/ { skip = 0 }
        !skip { print }' "${benchmarks}" >"${benchmarks}.new"
    mv -f -- "${benchmarks}.new" "${benchmarks}"
    log_step "figures written to BENCHMARKS.md (and ${REPORT})"
}

bench_main() {
    POSTGRES_STARTED_HOOK=tune_postgres start_stack
    load_dataset_once
    if [[ "${BENCH_CATCHUP}" == 1 ]]; then
        measure_catch_up
    else
        is_running projection || start_service projection
        wait_until_ready
    fi
    log_step "VACUUM ANALYZE of the read models, then CHECKPOINT"
    psql_local -d "${PG_DATABASE}" -c "vacuum analyze"
    # The replay leaves gigabytes of dirty pages for the next checkpoint; written while the
    # load runs, they stalled JetStream's disk writes (acknowledgements timed out after 5 s on
    # this one shared disk). Measured from a quiet disk instead.
    psql_local -d "${PG_DATABASE}" -c "checkpoint"
    sync
    local -a surveys
    mapfile -t surveys < <(sed -n 's/^survey_id=//p' "${DATASET_OUT}")
    local -a survey_args=()
    local survey
    for survey in "${surveys[@]}"; do survey_args+=(--survey "${survey}"); done
    if [[ "${BENCH_QUERIES:-1}" == 1 || ! -s "${STATE_DIR}/bench-queries.md" ]]; then
        log_step "timing the analytics queries (${BENCH_ITERATIONS} runs per shape)"
        kaikuctl_local bench-queries "${survey_args[@]}" --iterations "${BENCH_ITERATIONS}" \
            | tee "${STATE_DIR}/bench-queries.md"
    else
        log_step "query timing skipped (BENCH_QUERIES=0): the report keeps the last run's"
    fi
    measure_raw_limits
    measure_intake
    write_report "${surveys[@]}"
    log_step "the bench stack keeps running; stop it with: KAIKU_STATE_DIR=${STATE_DIR} ./deploy/local/down.sh"
}

bench_main "$@"
