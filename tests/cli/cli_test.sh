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
# courier invoke --storage: a second process on the same file goes on where the first stopped.
db=/tmp/courier_cli_db.$$.db
strip_ids='s/"(MessageId|ReceiptHandle|MD5OfBody|MD5OfMessageBody)":"[^"]*",?//g'
expect "invoke --storage: the first run creates and sends" \
  '{"response":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/jobs"}}
{"response":{}}
{"response":{"now":"2026-01-01T00:00:10.000Z"}}' 0 \
  bash -c 'printf "%s\n" "${@:3}" | "$0" invoke --storage "$1" | sed -E "$2"' "$courier" "$db" \
  "$strip_ids" \
  '{"service":"sqs","operation":"CreateQueue","request":{"QueueName":"jobs"}}' \
  '{"service":"sqs","operation":"SendMessage","request":{"QueueUrl":"jobs","MessageBody":"kept"}}' \
  '{"clock":{"advance_seconds":10}}'
expect "invoke --storage: a second run receives it, its clock where the first left it (a long poll of 5 s moves it on)" \
  '{"response":{"now":"2026-01-01T00:00:10.000Z"}}
{"response":{"Messages":[{"Body":"kept"}]}}
{"response":{}}' 0 \
  bash -c 'printf "%s\n" "${@:3}" | "$0" invoke --storage "$1" | sed -E "$2"' "$courier" "$db" \
  "$strip_ids" \
  '{"clock":{"advance_seconds":0}}' \
  '{"service":"sqs","operation":"ReceiveMessage","request":{"QueueUrl":"jobs","VisibilityTimeout":60}}' \
  '{"service":"sqs","operation":"ReceiveMessage","request":{"QueueUrl":"jobs","WaitTimeSeconds":5}}'
# courier inspect: what the file holds, as of the latest time its records name (00:00:15, where
# the long poll left the clock).
printf '%s\n' \
  '{"service":"sqs","operation":"CreateQueue","request":{"QueueName":"orders.fifo","Attributes":{"FifoQueue":"true","ContentBasedDeduplication":"true"}}}' \
  '{"service":"sqs","operation":"SendMessage","request":{"QueueUrl":"orders.fifo","MessageBody":"a","MessageGroupId":"g"}}' \
  '{"service":"sqs","operation":"SendMessage","request":{"QueueUrl":"orders.fifo","MessageBody":"b","MessageGroupId":"g"}}' \
  '{"service":"sqs","operation":"SendMessage","request":{"QueueUrl":"jobs","MessageBody":"later","DelaySeconds":900}}' \
  '{"service":"states","operation":"CreateStateMachine","request":{"name":"waits","roleArn":"arn:aws:iam::000000000000:role/r","definition":"{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":3600,\"End\":true}}}"}}' \
  '{"service":"states","operation":"CreateStateMachine","request":{"name":"passes","roleArn":"arn:aws:iam::000000000000:role/r","definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"}}' \
  '{"service":"states","operation":"StartExecution","request":{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:waits"}}' \
  '{"service":"states","operation":"StartExecution","request":{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:passes"}}' \
  '{"service":"states","operation":"StartExecution","request":{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:passes"}}' \
  '{"service":"sns","operation":"CreateTopic","request":{"Name":"news"}}' \
  '{"service":"sns","operation":"Subscribe","request":{"TopicArn":"arn:aws:sns:us-east-1:000000000000:news","Protocol":"sqs","Endpoint":"arn:aws:sqs:us-east-1:000000000000:jobs"}}' \
  '{"service":"sns","operation":"Subscribe","request":{"TopicArn":"arn:aws:sns:us-east-1:000000000000:news","Protocol":"email","Endpoint":"a@example.com"}}' \
  '{"service":"events","operation":"CreateEventBus","request":{"Name":"shop"}}' \
  '{"service":"events","operation":"PutRule","request":{"Name":"all","EventBusName":"shop","EventPattern":"{\"source\":[\"shop\"]}"}}' \
  '{"service":"events","operation":"CreateArchive","request":{"ArchiveName":"kept","EventSourceArn":"arn:aws:events:us-east-1:000000000000:event-bus/shop"}}' \
  '{"service":"events","operation":"PutEvents","request":{"Entries":[{"Source":"shop","DetailType":"x","Detail":"{}","EventBusName":"shop"}]}}' \
  '{"service":"scheduler","operation":"CreateSchedule","request":{"Name":"tick","ScheduleExpression":"rate(1 hour)","FlexibleTimeWindow":{"Mode":"OFF"},"Target":{"Arn":"arn:aws:sqs:us-east-1:000000000000:jobs","RoleArn":"arn:aws:iam::000000000000:role/r"}}}' |
  "$courier" invoke --storage "$db" | grep -v '^{"response"'
cp "$db" "$db.before"
# What both inspections print after the queues (nothing of it depends on the time).
inspected_rest="topics: 1
  arn:aws:sns:us-east-1:000000000000:news
    subscriptions: 1 confirmed, 1 pending
event buses: 2
  default arn:aws:events:us-east-1:000000000000:event-bus/default
    rules: 0 enabled, 0 disabled
  shop arn:aws:events:us-east-1:000000000000:event-bus/shop
    rules: 1 enabled, 0 disabled
archives: 1
  kept of arn:aws:events:us-east-1:000000000000:event-bus/shop
    events: 1 (196 bytes)
schedules: 1
  default/tick rate(1 hour) ENABLED
state machines: 2
  passes (STANDARD) arn:aws:states:us-east-1:000000000000:stateMachine:passes
    executions: 2 SUCCEEDED
  waits (STANDARD) arn:aws:states:us-east-1:000000000000:stateMachine:waits
    executions: 1 RUNNING"
expect "inspect: queues with their counts, topics, buses, archives, schedules, machines with their executions" \
  "$db, as of 2026-01-01T00:00:15.000Z
queues: 2
  jobs (standard) arn:aws:sqs:us-east-1:000000000000:jobs
    messages: 0 visible, 1 in flight, 1 delayed
  orders.fifo (fifo) arn:aws:sqs:us-east-1:000000000000:orders.fifo
    messages: 2 visible, 0 in flight, 0 delayed
$inspected_rest" 0 \
  "$courier" inspect "$db"
expect "inspect --at: the in-flight message visible again; nothing runs" \
  "$db, as of 2026-01-01T00:02:00.000Z
queues: 2
  jobs (standard) arn:aws:sqs:us-east-1:000000000000:jobs
    messages: 1 visible, 0 in flight, 1 delayed
  orders.fifo (fifo) arn:aws:sqs:us-east-1:000000000000:orders.fifo
    messages: 2 visible, 0 in flight, 0 delayed
$inspected_rest" 0 \
  "$courier" inspect "$db" --at 2026-01-01T00:02:00Z
expect "inspect --json" \
  '{"file":"'"$db"'","as_of":"2026-01-01T00:00:15.000Z","queues":[{"name":"jobs","kind":"standard","arn":"arn:aws:sqs:us-east-1:000000000000:jobs","url":"https://sqs.us-east-1.amazonaws.com/000000000000/jobs","messages":{"visible":0,"in_flight":1,"delayed":1}},{"name":"orders.fifo","kind":"fifo","arn":"arn:aws:sqs:us-east-1:000000000000:orders.fifo","url":"https://sqs.us-east-1.amazonaws.com/000000000000/orders.fifo","messages":{"visible":2,"in_flight":0,"delayed":0}}],"topics":[{"arn":"arn:aws:sns:us-east-1:000000000000:news","subscriptions":{"confirmed":1,"pending":1}}],"event_buses":[{"name":"default","arn":"arn:aws:events:us-east-1:000000000000:event-bus/default","rules":{"enabled":0,"disabled":0}},{"name":"shop","arn":"arn:aws:events:us-east-1:000000000000:event-bus/shop","rules":{"enabled":1,"disabled":0}}],"archives":[{"name":"kept","source":"arn:aws:events:us-east-1:000000000000:event-bus/shop","events":1,"bytes":196}],"schedules":[{"group":"default","name":"tick","expression":"rate(1 hour)","state":"ENABLED"}],"state_machines":[{"name":"passes","type":"STANDARD","arn":"arn:aws:states:us-east-1:000000000000:stateMachine:passes","executions":{"SUCCEEDED":2}},{"name":"waits","type":"STANDARD","arn":"arn:aws:states:us-east-1:000000000000:stateMachine:waits","executions":{"RUNNING":1}}]}' 0 \
  "$courier" inspect --json "$db"
cmp -s "$db" "$db.before" || { echo "FAIL: inspect changed the file"; failures=$((failures + 1)); }
inspect_refuses() {  # description, file, expected error name
  expect "inspect: $1" "" 1 "$courier" inspect "$2"
  grep -q "^courier inspect: $3: " /tmp/courier_cli_stderr.$$ ||
    { echo "FAIL: inspect: $1: no $3 on stderr"; cat /tmp/courier_cli_stderr.$$; failures=$((failures + 1)); }
}
inspect_refuses "a missing file" /tmp/courier_cli_none.$$.db StorageUnavailable
[ -e /tmp/courier_cli_none.$$.db ] && { echo "FAIL: inspect created a file"; failures=$((failures + 1)); }
inspect_refuses "a damaged file" /tmp/courier_cli_bad.$$.json StorageCorrupt
# The SQLite header's application id (offset 68) and user version (offset 60), big-endian.
cp "$db.before" "$db.foreign"
printf '\x00\x00\x00\x01' | dd of="$db.foreign" bs=1 seek=68 conv=notrunc status=none
inspect_refuses "another program's SQLite file" "$db.foreign" StorageCorrupt
cp "$db.before" "$db.newer"
printf '\x00\x00\x00\x63' | dd of="$db.newer" bs=1 seek=60 conv=notrunc status=none
inspect_refuses "a newer format" "$db.newer" StorageVersion
# --keys: a queue encrypted under a KMS key of a key file; without the file neither command can
# open its messages (KmsNotFound), with it both do, and the file holds no plaintext body.
kdb=/tmp/courier_cli_kms.$$.db
keys=/tmp/courier_cli_kms.$$.keys
printf 'key 1234abcd-12ab-34cd-56ef-1234567890ab %s\n' "$(printf '1%.0s' $(seq 64))" >"$keys"
expect "invoke --keys: a queue under a KMS key of the key file" \
  '{"response":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/secret"}}
{"response":{}}' 0 \
  bash -c 'printf "%s\n" "${@:4}" | "$0" invoke --storage "$1" --keys "$2" | sed -E "$3"' \
  "$courier" "$kdb" "$keys" "$strip_ids" \
  '{"service":"sqs","operation":"CreateQueue","request":{"QueueName":"secret","Attributes":{"KmsMasterKeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}}}' \
  '{"service":"sqs","operation":"SendMessage","request":{"QueueUrl":"secret","MessageBody":"hidden-body-text"}}'
grep -q -a hidden-body-text "$kdb" "$kdb-wal" 2>/dev/null &&
  { echo "FAIL: --keys: the file holds the plaintext body"; failures=$((failures + 1)); }
inspect_refuses "a KMS queue without --keys" "$kdb" KmsNotFound
expect "inspect --keys" \
  "$kdb, as of 2026-01-01T00:00:00.000Z
queues: 1
  secret (standard) arn:aws:sqs:us-east-1:000000000000:secret
    messages: 1 visible, 0 in flight, 0 delayed" 0 \
  bash -c '"$0" inspect "$1" --keys "$2" | head -4' "$courier" "$kdb" "$keys"
rm -f "$kdb" "$kdb-wal" "$kdb-shm" "$keys"
# A file open in a running invoke is refused to a second one; the first goes on. The first run
# reads from a pipe held open here, so it is surely open (it answered a line) when the second
# starts.
fifo=/tmp/courier_cli_fifo.$$
mkfifo "$fifo.in" "$fifo.out"
"$courier" invoke --storage "$db" <"$fifo.in" >"$fifo.out" &
first=$!
exec 3>"$fifo.in" 4<"$fifo.out"
echo '{"service":"sqs","operation":"GetQueueUrl","request":{"QueueName":"jobs"}}' >&3
read -r answer <&4
[ "$answer" = '{"response":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/jobs"}}' ] ||
  { echo "FAIL: the first run answered '$answer'"; failures=$((failures + 1)); }
expect "invoke --storage: a second opener is refused" "" 1 \
  "$courier" invoke --storage "$db" </dev/null
grep -q '^courier invoke: StorageLocked: ' /tmp/courier_cli_stderr.$$ ||
  { echo "FAIL: a second opener: no StorageLocked on stderr"; failures=$((failures + 1)); }
inspect_refuses "a file in use" "$db" StorageLocked
exec 3>&-
wait "$first"
exec 4>&-
expect "invoke --storage: a foreign file is refused" "" 1 \
  "$courier" invoke --storage /tmp/courier_cli_bad.$$.json </dev/null
grep -q '^courier invoke: StorageCorrupt: ' /tmp/courier_cli_stderr.$$ ||
  { echo "FAIL: a foreign file: no StorageCorrupt on stderr"; failures=$((failures + 1)); }
rm -f /tmp/courier_cli_stderr.$$ /tmp/courier_cli_bad.$$.json "$db" "$db.before" "$db.foreign" "$db.newer" "$fifo.in" "$fifo.out"
echo "$((37 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
