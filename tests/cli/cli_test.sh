#!/usr/bin/env bash
# The `courier` program's contracts: output and exit codes (usage: cli_test.sh COURIER TESTS_DIR).
set -u
courier=$1
tests=$2
failures=0
expect() {  # description, expected stdout, expected exit code, command...
  local what=$1 want_out=$2 want_rc=$3; shift 3
  local out rc
  out=$("$@" 2>/tmp/courier_cli_stderr.$$); rc=$?
  if [ "$out" != "$want_out" ] || [ "$rc" != "$want_rc" ]; then
    echo "FAIL: $what: got '$out' (exit $rc), want '$want_out' (exit $want_rc)"
    cat /tmp/courier_cli_stderr.$$
    failures=$((failures + 1))
  fi
}
expect "pattern matches" true 0 \
  "$courier" test-event-pattern --pattern '{"source":["shop"]}' --event '{"source":"shop"}'
expect "pattern does not match" false 0 \
  "$courier" test-event-pattern --pattern '{"source":["shop"]}' --event '{"source":"x"}'
expect "invalid pattern exits 2" "" 2 \
  "$courier" test-event-pattern --pattern '{"source":"shop"}' --event '{"source":"x"}'
grep -q '^InvalidEventPatternException: ' /tmp/courier_cli_stderr.$$ ||
  { echo "FAIL: invalid pattern: no InvalidEventPatternException on stderr"; failures=$((failures + 1)); }
expect "SNS attribute policy" true 0 \
  "$courier" test-event-pattern --sns-filter-policy attributes --pattern '{"kind":["new"]}' \
  --event '{"kind":{"Type":"String","Value":"new"}}'
expect "SNS body policy" false 0 \
  "$courier" test-event-pattern --sns-filter-policy body --pattern '{"a":{"b":[1]}}' \
  --event '{"a":{"b":2}}'
expect "valid definition" OK 0 \
  "$courier" validate "$tests/conformance/asl/choice_numeric_operators/definition.json"
echo '{"StartAt":"X","States":{}}' > /tmp/courier_cli_bad.$$.json
"$courier" validate /tmp/courier_cli_bad.$$.json >/dev/null 2>&1 &&
  { echo "FAIL: an invalid definition validated"; failures=$((failures + 1)); }
rm -f /tmp/courier_cli_stderr.$$ /tmp/courier_cli_bad.$$.json
echo "$((8 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
