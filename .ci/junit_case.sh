#!/usr/bin/env bash
# junit_case.sh FILE NAME STATUS SECONDS: a JUnit report of one test case, failed unless STATUS is 0.
set -euo pipefail
file="$1" name="$2" status="$3" seconds="$4"
name="${name//&/&amp;}"; name="${name//</&lt;}"; name="${name//\"/&quot;}"
if [[ "$status" == 0 ]]; then
  body="<testcase classname=\"ci\" name=\"$name\" time=\"$seconds\"/>"
else
  body="<testcase classname=\"ci\" name=\"$name\" time=\"$seconds\"><failure message=\"exit status $status\"/></testcase>"
fi
printf '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="ci">%s</testsuite></testsuites>\n' "$body" > "$file"
