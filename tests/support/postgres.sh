# tests/support/postgres.sh — a throwaway PostgreSQL 15 cluster on loopback, for tests and benchmarks.
#
#   . tests/support/postgres.sh
#   pg_start || exit 1          # initdb in a temp dir, TLS on (self-signed CA), 127.0.0.1:<free port>
#   pg_createdb NAME            # a database owned by the test role
#   url=$(pg_url NAME)          # postgresql://cc:...@127.0.0.1:PORT/NAME?sslmode=verify-full&sslrootcert=...
#   pg_psql NAME -c 'SQL'       # psql as the superuser, over the cluster's Unix socket
#   pg_stop                     # stop by PID and remove everything (also registered by the caller's trap)
#
# The cluster listens only on 127.0.0.1 and on a socket in its own directory.  It serves TLS with a
# certificate for 127.0.0.1/localhost signed by a CA made here, so clients use the signer's default
# sslmode=verify-full with sslrootcert=$PG_DIR/ca.crt.  The role `cc` logs in with a password
# (scram-sha-256) over TCP; the superuser `postgres` only over the socket.  initdb refuses to run as
# root, so as root the server runs as the `postgres` user (runuser), with its directory chowned.
#
# Sets: PG_DIR, PG_PORT, PG_SOCK, PG_PID, PG_BIN, PG_CA.  Needs postgresql-15 and openssl
# (scripts/install-deps.sh --test).  Returns non-zero with a message on stderr if anything fails.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=""
PG_PORT=""
PG_PID=""
PG_SOCK=""
PG_CA=""
PG_PASSWORD=cc-test-password

_pg_as() { # runs a command as the cluster's owner
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
    if [ ! -x "$PG_BIN/initdb" ]; then
        echo "postgres.sh: no $PG_BIN/initdb (install postgresql-15: scripts/install-deps.sh --test)" >&2
        return 1
    fi
    command -v openssl >/dev/null || { echo "postgres.sh: openssl is missing" >&2; return 1; }
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cc-pg.XXXXXX") || return 1
    chmod 755 "$PG_DIR"
    PG_SOCK="$PG_DIR/sock"
    mkdir -p "$PG_DIR/data" "$PG_SOCK" "$PG_DIR/log"
    # A CA and a server certificate for 127.0.0.1 and localhost.
    (
        cd "$PG_DIR" &&
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cc-test-ca" \
                -keyout ca.key -out ca.crt 2>/dev/null &&
            openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext &&
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
                -extfile san.ext -out server.crt 2>/dev/null
    ) || { echo "postgres.sh: cannot make the test certificates" >&2; return 1; }
    chmod 600 "$PG_DIR/server.key" "$PG_DIR/ca.key"
    chmod 644 "$PG_DIR/ca.crt" "$PG_DIR/server.crt"
    PG_CA="$PG_DIR/ca.crt"
    printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pwfile"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "postgres.sh: no postgres user to run the server as" >&2; return 1; }
        chown -R postgres: "$PG_DIR/data" "$PG_SOCK" "$PG_DIR/log" "$PG_DIR/server.key" "$PG_DIR/server.crt" "$PG_DIR/pwfile"
    fi
    if ! _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust --auth-host=reject \
        -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1; then
        echo "postgres.sh: initdb failed:" >&2
        tail -n 20 "$PG_DIR/initdb.log" >&2
        return 1
    fi
    cat >"$PG_DIR/data/pg_hba.conf" <<EOF
local   all  postgres                 trust
hostssl all  cc        127.0.0.1/32   scram-sha-256
EOF
    PG_PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})') ||
        return 1
    if ! _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_SOCK -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$PG_DIR/server.crt -c ssl_key_file=$PG_DIR/server.key -c max_connections=200 -c unix_socket_permissions=0770" \
        start >/dev/null 2>&1; then
        echo "postgres.sh: the server did not start:" >&2
        tail -n 20 "$PG_DIR/log/server.log" >&2
        return 1
    fi
    PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)
    pg_psql postgres -c "CREATE ROLE cc LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >/dev/null || return 1
    return 0
}

# psql as the superuser over the socket: pg_psql DBNAME [psql args...]
pg_psql() {
    local db=$1
    shift
    _pg_as "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d "$db" "$@"
}

pg_createdb() {
    pg_psql postgres -c "CREATE DATABASE \"$1\" OWNER cc" >/dev/null
}

pg_url() {
    printf 'postgresql://cc:%s@127.0.0.1:%s/%s?sslmode=verify-full&sslrootcert=%s' "$PG_PASSWORD" "$PG_PORT" "$1" "$PG_CA"
}

pg_stop() {
    if [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null; then
        kill -INT "$PG_PID" 2>/dev/null # fast shutdown
        for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
        kill -QUIT "$PG_PID" 2>/dev/null || true
    fi
    PG_PID=""
    if [ -n "$PG_DIR" ] && [ -z "${PG_KEEP:-}" ]; then rm -rf "$PG_DIR"; fi
}
