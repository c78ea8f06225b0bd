#!/usr/bin/env bash
# Contract test: serve the app with gunicorn on a fresh SQLite file, register a user, open and
# fund accounts, then let schemathesis drive every operation in the OpenAPI schema with a real
# token. Fails on any 5xx and on any response (status, content type, headers, body) that does
# not match the schema. Bounded: CONTRACT_MAX_EXAMPLES cases per operation and phase.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${CONTRACT_PORT:-8101}"
BASE="http://127.0.0.1:${PORT}"
MAX_EXAMPLES="${CONTRACT_MAX_EXAMPLES:-50}"
BIN=.venv/bin
WORK="$(mktemp -d)"
SERVER_PID=""

stop() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap stop EXIT

export DEBUG=false SECURE_SSL_REDIRECT=false AUTH_COOKIE_SECURE=false
export JWT_SECRET="contract-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export LEDGER_SIGNING_KEY="$(head -c 32 /dev/urandom | base64)"
# A fresh SQLite file unless CONTRACT_DATABASE_URL names another (empty) database.
export DATABASE_URL="${CONTRACT_DATABASE_URL:-sqlite:///${WORK}/contract.sqlite3}"
unset REDIS_URL
# schemathesis registers many users and fails many logins: keep throttling out of its way.
export LOGIN_FAILURES_PER_ADDRESS=1000000
# ...and the per-caller rate limits: its one user sends far more than a client would.
export RATE_LIMIT_WRITES=1000000/second RATE_LIMIT_READS=1000000/second RATE_LIMIT_REGISTER=1000000/second

$BIN/python manage.py migrate --noinput >/dev/null
$BIN/python manage.py createcachetable >/dev/null
SYSTEM_PASSWORD="system-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
$BIN/python manage.py create_system_user --email system@contract.test --password "$SYSTEM_PASSWORD" >/dev/null

# The app's request log goes to the server log too (shown when the run fails), not to the output.
# No request-line limit here: gunicorn's own 414 (an HTML page, for the negative cases' huge query
# strings) is the front server's answer, not the app's, and the app's answer is what is checked.
$BIN/gunicorn bankledger.wsgi --bind "127.0.0.1:${PORT}" --workers 2 --log-level warning \
  --limit-request-line 0 \
  --error-logfile "$WORK/server.log" >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do curl -fsS "$BASE/api/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$BASE/api/health" >/dev/null

json() { $BIN/python -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -fsS -X POST "$BASE$1" -H 'Content-Type: application/json' -H "Authorization: Bearer $2" -d "$3"; }

TOKEN=$(curl -fsS -X POST "$BASE/api/auth/register" -H 'Content-Type: application/json' \
  -d '{"name":"Contract","email":"contract@contract.test","password":"correct-horse-battery"}' | json '["token"]')
SYSTEM_TOKEN=$(curl -fsS -X POST "$BASE/api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"system@contract.test\",\"password\":\"$SYSTEM_PASSWORD\"}" | json '["token"]')
ACCOUNT=$(post /api/accounts "$TOKEN" '{}' | json '["account"]["_id"]')
OTHER=$(post /api/accounts "$TOKEN" '{}' | json '["account"]["_id"]')
EMPTY=$(post /api/accounts "$TOKEN" '{}' | json '["account"]["_id"]')
# Enough that generated transfers keep finding funds (each seeding is the per-call maximum).
for seed in 1 2 3 4 5; do
  post /api/transactions/system/initial-funds "$SYSTEM_TOKEN" \
    "{\"toAccount\":\"$ACCOUNT\",\"amount\":\"100000000000\",\"idempotencyKey\":\"contract-seed-$seed\"}" >/dev/null
done
CONTRACT_TRANSACTION=$(post /api/transactions "$TOKEN" \
  "{\"fromAccount\":\"$ACCOUNT\",\"toAccount\":\"$OTHER\",\"amount\":\"1.00\",\"idempotencyKey\":\"contract-1\"}" \
  | json '["transaction"]["_id"]')
CONTRACT_HOLD=$(post /api/holds "$TOKEN" \
  "{\"fromAccount\":\"$ACCOUNT\",\"toAccount\":\"$OTHER\",\"amount\":\"1.00\",\"idempotencyKey\":\"contract-hold-1\"}" \
  | json '["hold"]["_id"]')
export CONTRACT_ACCOUNT="$ACCOUNT" CONTRACT_OTHER="$OTHER" CONTRACT_EMPTY_ACCOUNT="$EMPTY" CONTRACT_TRANSACTION
export CONTRACT_HOLD

CHECKS="${CONTRACT_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}"
REPORTS="${CONTRACT_REPORT_DIR:-$WORK/report}"
mkdir -p "$REPORTS"
run() {
  local report="$1"; shift
  $BIN/schemathesis --config-file tests/contract/schemathesis.toml run "$BASE/api/schema/?format=json" --url "$BASE" \
    --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --phases examples,coverage,fuzzing \
    --seed "${CONTRACT_SEED:-2000}" --no-color --suppress-health-check all \
    --report junit --report-junit-path "$REPORTS/schemathesis-$report.xml" "$@"
}
# Operations whose refusals of schema-valid data depend on state or on the world, not on the
# data's shape, run with the mismatch warning off (schemathesis applies `fail-on` per run, not per
# operation): registering (an email already taken, a password like the name), posting money (the
# same generated idempotencyKey sent again with another amount is 409; an amount's decimals are
# checked against the paying account's currency, which the schema cannot know; batch items name
# accounts the config cannot pin), closing (final: every close after the first is refused for
# the account's state), webhooks (the URL's host must resolve to a public address) and the public
# log's consistency proofs (sizes beyond the log's current size are refused), holds (created like
# transfers; a capture or void is refused once the hold is no longer PENDING, and the payer may
# not void) and limits (decimals checked against the account's currency; an overdraft below
# what the account already uses is refused). Every
# response is still checked. One filter per run: schemathesis ANDs filters of different kinds.
USER_SEMANTIC='auth_register_create|transactions_create|transactions_batch_create|accounts_close_create|webhooks_create|log_consistency_retrieve|holds_create|holds_capture_create|holds_void_create'
SYSTEM_STRICT='accounts_freeze_create|accounts_unfreeze_create|transactions_reverse_create'
SYSTEM_SEMANTIC='transactions_system_initial_funds_create|accounts_limits_update'
status=0
# As an ordinary user, everything except logout (it would revoke the token mid-run) and the
# system-only calls (all 403 for this user; unit tests cover that).
as_user=(-H "Authorization: Bearer $TOKEN")
run user "${as_user[@]}" \
  --exclude-operation-id-regex "^(auth_logout_create|$USER_SEMANTIC|$SYSTEM_STRICT|$SYSTEM_SEMANTIC)$" \
  || status=$?
run user-semantic "${as_user[@]}" --include-operation-id-regex "^($USER_SEMANTIC)$" --warnings off \
  || status=$?
# As the system user, the system-only calls.
as_system=(-H "Authorization: Bearer $SYSTEM_TOKEN")
run system "${as_system[@]}" --include-operation-id-regex "^($SYSTEM_STRICT)$" || status=$?
run system-semantic "${as_system[@]}" --include-operation-id-regex "^($SYSTEM_SEMANTIC)$" \
  --warnings off || status=$?
if [[ $status -ne 0 && -s "$WORK/server.log" ]]; then
  echo "---- server log ----"; tail -n 100 "$WORK/server.log"
fi
exit $status
