# jobs_signals.sh: background jobs and wait, $!, trap on signals and EXIT, kill, statuses of
# signalled children, ignored signals inherited, timeout.
# shells: busybox bash
d=$(mktemp -d)
(sleep 0.05; echo job1 >"$d/1") &
p1=$!
(echo job2 >"$d/2"; exit 5) &
p2=$!
wait $p1; echo "wait p1 $?"
wait $p2; echo "wait p2 $?"
cat "$d/1" "$d/2"
for i in 1 2 3 4; do (echo "bg $i" >"$d/bg$i") & done
wait
cat "$d"/bg1 "$d"/bg2 "$d"/bg3 "$d"/bg4
sleep 10 &
p=$!
sleep 0.05
kill $p
wait $p; echo "killed sleep: $?"
sleep 10 &
p=$!
sleep 0.05
kill -KILL $p
wait $p; echo "SIGKILLed sleep: $?"
trap 'echo got USR1' USR1
kill -USR1 $$
echo "after USR1"
trap 'echo got TERM' TERM
kill -TERM $$
trap - TERM USR1
sh -c 'kill -TERM $$'; echo "child killed by TERM: $?"
sh -c 'kill -INT $$'; echo "child killed by INT: $?"
sh -c 'exit 77'; echo "child exit: $?"
trap '' USR2
sh -c 'kill -USR2 $$; echo "ignored USR2 inherited"'
trap - USR2
kill -0 $$ && echo "kill -0 self ok"
kill -0 999999 2>/dev/null || echo "kill -0 missing pid fails"
timeout 0.2 sleep 5; echo "timeout status $?"
timeout -s KILL 0.2 sleep 5; echo "timeout KILL status $?"
# A trapped signal interrupts wait; the job is still there to wait for.
sleep 0.4 &
p=$!
trap 'echo trapped USR1 during wait' USR1
(sleep 0.05; kill -USR1 $$) &
k=$!
wait $p; echo "wait interrupted: $(( $? > 128 ))"
wait $p; echo "then the job: $?"
wait $k
trap - USR1
sh -c 'trap "echo exit trap runs" EXIT; exit 3'; echo "exit trap status $?"
sh -c 'trap "echo TERM trap; exit 11" TERM; kill -TERM $$; echo not reached'; echo "TERM trap status $?"
rm -rf "$d"
echo done
