# 4xx and 5xx from smtp-sink at every stage (-r, -f), a drop after DATA and
# after the final dot (-q), an abort in the middle of the data (-A), a slow
# greeting (-W) against timeoutremote: qmail-remote's result for each.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"

printf 'Subject: errors\n\nbody\n' > "$T/msg"
cases=0
# case "smtp-sink options" "expected output (shell pattern, NULs as |)"
case_() {
  cases=$((cases + 1))
  port=$(free_port)
  start_sink s$cases "$port" $1
  echo ":127.0.0.1:$port" > "$CONTROLDIR/smtproutes"
  out=$(remote example.com s@qfleet.test a@example.com b@example.com < "$T/msg")
  stop_sink s$cases
  case $out in $2) ;; *) fail "smtp-sink $1: got '$out', want '$2'" ;; esac
}

case_ "-r CONNECT" "ZConnected to 127.0.0.1 but greeting failed.*Remote host said: 4*|"
case_ "-f CONNECT" "DConnected to 127.0.0.1 but greeting failed.*Remote host said: 5*|"
case_ "-f EHLO" "r|r|K127.0.0.1 accepted message.*"   # HELO fallback
case_ "-r EHLO,HELO" "ZConnected to 127.0.0.1 but my name was rejected.*|"
case_ "-r MAIL" "ZConnected to 127.0.0.1 but sender was rejected.*Remote host said: 4*|"
case_ "-f MAIL" "DConnected to 127.0.0.1 but sender was rejected.*Remote host said: 5*|"
case_ "-r RCPT" "s127.0.0.1 does not like recipient.*Remote host said: 4*|s127.0.0.1 does not like*|DGiving up on 127.0.0.1.*|"
case_ "-f RCPT" "h127.0.0.1 does not like recipient.*Remote host said: 5*|h*|DGiving up on 127.0.0.1.*|"
case_ "-r DATA" "r|r|Z127.0.0.1 failed on DATA command.*Remote host said: 4*|"
case_ "-f DATA" "r|r|D127.0.0.1 failed on DATA command.*Remote host said: 5*|"
case_ "-r ." "r|r|Z127.0.0.1 failed after I sent the message.*Remote host said: 4*|"
case_ "-f ." "r|r|D127.0.0.1 failed after I sent the message.*Remote host said: 5*|"
case_ "-q DATA" "r|r|ZConnected to 127.0.0.1 but connection died*|"
case_ "-q ." "r|r|ZConnected to 127.0.0.1 but connection died*|"
case_ "-Q MAIL" "ZConnected to 127.0.0.1 but sender was rejected.*Remote host said: 421*|"
case_ "-A 0" "r|r|D127.0.0.1 failed after I sent the message.*Remote host said: 550*|"

# A slow greeting: within timeoutremote it is waited for, beyond it times out.
echo 1 > "$CONTROLDIR/timeoutremote"
case_ "-W CONNECT:3" "ZConnected to 127.0.0.1 but timed out waiting for the greeting*|"
echo 10 > "$CONTROLDIR/timeoutremote"
case_ "-W CONNECT:2" "r|r|K127.0.0.1 accepted message.*"
ok "$cases error shapes"
