#!/bin/bash
# The live-auction scenarios of gavel-load, shared by bench/auction.sh and bench/ab.sh. Callers set
# DURATION (seconds of bidding) and SOAK_MIN (the soak's minutes) before sourcing.

# scenario_args NAME: the gavel-load options of a scenario.
scenario_args() {
    case $1 in
    seed) # issue 6: 20 auctions x 8 managers bidding as fast as the rules allow
        echo "--auctions 20 --managers 8 --strategy stress --competition EPL-2025 --roster-size 2" \
            "--bids-per-lot 25 --lot-seconds 60" ;;
    seed-20) # the same, each manager capped at 20 bids/s (the API's default per-user limit)
        echo "--auctions 20 --managers 8 --strategy stress --user-rate 20 --competition EPL-2025" \
            "--roster-size 2 --bids-per-lot 25 --lot-seconds 60" ;;
    seed-paced) # issue 13: the same rooms, each manager bidding about 1 s after being outbid
        echo "--auctions 20 --managers 8 --strategy paced --think-ms 1000 --think-jitter-ms 200" \
            "--seed 1 --duration $DURATION --competition EPL-2025 --roster-size 2" \
            "--bids-per-lot 25 --lot-seconds 60" ;;
    many) # 1,000 auctions x 10 managers = 10,000 WebSockets at 1,000 bids/s overall
        echo "--auctions 1000 --managers 10 --strategy rate --rate 1000 --duration $DURATION" \
            "--competition EPL-2025 --roster-size 3 --bids-per-lot 10 --lot-seconds 60" \
            "--connect-concurrency 256" ;;
    big) # 1 auction, 10 bidders, 2,000 spectators by the watch code, 10 bids/s
        echo "--auctions 1 --managers 10 --spectators 2000 --strategy rate --rate 10" \
            "--duration $DURATION --competition EPL-2025 --roster-size 3 --bids-per-lot 20" \
            "--lot-seconds 60" ;;
    throughput) # 100 auctions as fast as possible; every bid tops the highest one in flight
        echo "--auctions 100 --managers 8 --strategy pipeline --duration $DURATION" \
            "--competition UCL-2025 --roster-size 4 --bids-per-lot 200 --lot-seconds 600" ;;
    throughput-stress) # 100 auctions, plain stress (most bids lose the race)
        echo "--auctions 100 --managers 8 --strategy stress --duration $DURATION" \
            "--competition UCL-2025 --roster-size 4 --bids-per-lot 200 --lot-seconds 600" ;;
    signin-storm) # issue 13: 300 users through magic link -> verify -> WebSocket in 10 s
        echo "--signin-storm 300 --storm-seconds 10" ;;
    soak) # issue 13: 2,000 sockets at 500 bids/s for 30 minutes; 30 lots of ~80 s per auction
        echo "--auctions 200 --managers 10 --strategy rate --rate 500" \
            "--duration $((SOAK_MIN * 60)) --window-s $((SOAK_MIN * 2)) --compare-windows 5" \
            "--competition UCL-2025 --roster-size 3 --bids-per-lot 200 --lot-seconds 600" ;;
    *) echo "gavel bench: unknown scenario $1" >&2; return 1 ;;
    esac
}

# server_extra SCENARIO: server options a scenario needs beyond the common ones.
server_extra() {
    case $1 in
    # tokens must outlive the soak: WebSockets close with 4401 when theirs expires (15 min)
    soak) echo "--access-ttl-s $((SOAK_MIN * 60 + 900))" ;;
    esac
}

# store_args DATA: with BENCH_STORE set (a postgresql:// URI), --store on a fresh schema of that
# database named after DATA; without it nothing (SQLite in DATA).
store_args() {
    [ -n "${BENCH_STORE:-}" ] || return 0
    local schema sep='?'
    schema=b_$(echo "$1" | md5sum | cut -c1-20)
    psql -qX -v ON_ERROR_STOP=1 "$BENCH_STORE" -c "CREATE SCHEMA $schema" >/dev/null || return 1
    case $BENCH_STORE in *\?*) sep='&' ;; esac
    echo "--store $BENCH_STORE${sep}options=-csearch_path%3D$schema"
}

# scenario_server_args DATA SCENARIO: the server's options for a run of SCENARIO on DATA (a fresh
# directory). --rate-limit-scale 0 turns every limiter off, the sign-in ones included.
scenario_server_args() {
    echo "serve --listen 127.0.0.1:0 --data $1 --dev --rate-limit-scale 0 --access-log 0" \
        "--max-connections 30000 --log-level warn $(server_extra "$2") $(store_args "$1")"
}
