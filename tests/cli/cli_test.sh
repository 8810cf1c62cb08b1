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
# courier invoke: one output line per input line, errors as lines, the run goes on.
invoke_script='{"service":"sqs","operation":"CreateQueue","request":{"QueueName":"q","Attributes":{"DelaySeconds":"5"}}}
not json
{"clock":{"advance_seconds":30}}
{"service":"sqs","operation":"GetQueueAttributes","request":{"QueueUrl":"q","AttributeNames":["DelaySeconds","CreatedTimestamp"]}}
{"service":"sqs","operation":"GetQueueUrl","request":{"QueueName":"none"}}
{"service":"nope","operation":"X"}'
invoke_want='{"response":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/q"}}
{"error":{"code":"SerializationException","message":"invalid JSON: syntax error"}}
{"response":{"now":"2026-01-01T00:00:30.000Z"}}
{"response":{"Attributes":{"CreatedTimestamp":"1767225600","DelaySeconds":"5"}}}
{"error":{"code":"QueueDoesNotExist","message":"The specified queue does not exist."}}
{"error":{"code":"InvalidAction","message":"The action X is not valid for this endpoint: no service '"'"'nope'"'"' is linked into this program."}}'
expect "invoke: JSON lines" "$invoke_want" 0 \
  bash -c 'printf "%s\n" "$1" | "$0" invoke' "$courier" "$invoke_script"
expect "invoke: identity" '{"response":{"QueueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/q"}}' 0 \
  bash -c 'echo "{\"service\":\"sqs\",\"operation\":\"CreateQueue\",\"request\":{\"QueueName\":\"q\"}}" |
    "$0" invoke --account 123456789012 --region eu-west-1' "$courier"
expect "invoke: no clock steps on the system clock" \
  '{"error":{"code":"UnsupportedOperation","message":"Clock steps need --clock manual."}}' 0 \
  bash -c 'echo "{\"clock\":{\"advance_seconds\":1}}" | "$0" invoke --clock system' "$courier"
expect "invoke: a bad flag exits 2" "" 2 "$courier" invoke --clock sundial
expect "invoke: a states line" \
  '{"response":{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:m","creationDate":1.7672256E9}}' 0 \
  bash -c 'printf "%s\n" "$1" | "$0" invoke' "$courier" \
  '{"service":"states","operation":"CreateStateMachine","request":{"name":"m","roleArn":"arn:aws:iam::000000000000:role/r","definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"}}'
expect "invoke: sns lines" \
  '{"response":{"TopicArn":"arn:aws:sns:us-east-1:000000000000:t"}}
{"error":{"code":"InvalidParameter","message":"Invalid parameter: Empty message"}}' 0 \
  bash -c 'printf "%s\n" "$1" "$2" | "$0" invoke' "$courier" \
  '{"service":"sns","operation":"CreateTopic","request":{"Name":"t"}}' \
  '{"service":"sns","operation":"Publish","request":{"TopicArn":"arn:aws:sns:us-east-1:000000000000:t","Message":""}}'
expect "invoke: events and scheduler lines, a schedule fired by a clock step" \
  '{"response":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/ticks"}}
{"response":{"ScheduleArn":"arn:aws:scheduler:us-east-1:000000000000:schedule/default/tick"}}
{"response":{"now":"2026-01-01T00:01:00.000Z"}}
{"response":{"Messages":[{"Body":"{\"job\":1}"}]}}
{"response":{"RuleArn":"arn:aws:events:us-east-1:000000000000:rule/r"}}' 0 \
  bash -c 'printf "%s\n" "$@" | "$0" invoke | sed -E "s/\"(MessageId|ReceiptHandle|MD5OfBody)\":\"[^\"]*\",?//g"' "$courier" \
  '{"service":"sqs","operation":"CreateQueue","request":{"QueueName":"ticks"}}' \
  '{"service":"scheduler","operation":"CreateSchedule","request":{"Name":"tick","ScheduleExpression":"rate(1 minute)","FlexibleTimeWindow":{"Mode":"OFF"},"Target":{"Arn":"arn:aws:sqs:us-east-1:000000000000:ticks","RoleArn":"arn:aws:iam::000000000000:role/r","Input":"{\"job\":1}"}}}' \
  '{"clock":{"advance_seconds":60}}' \
  '{"service":"sqs","operation":"ReceiveMessage","request":{"QueueUrl":"ticks"}}' \
  '{"service":"events","operation":"PutRule","request":{"Name":"r","ScheduleExpression":"rate(5 minutes)"}}'
rm -f /tmp/courier_cli_stderr.$$ /tmp/courier_cli_bad.$$.json
echo "$((15 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
