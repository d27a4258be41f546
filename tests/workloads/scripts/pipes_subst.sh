# pipes_subst.sh: pipelines, subshells, command substitution, here-documents, pipefail.
# shells: busybox bash
seq 1 200 | grep 7 | sort -rn | head -3
echo "a b c d" | tr ' ' '\n' | wc -l
printf '3\n1\n2\n' | sort | tr '\n' ' '; echo
echo "nested $(echo "inner $(echo deepest)")"
echo "backticks `echo old style`"
lines=$(printf 'x\ny\nz\n'); echo "lines: $lines" | head -1
count=$(seq 1 1000 | wc -l); echo "count $((count))"
(cd /tmp && pwd)
pwd >/dev/null
(echo sub1; echo sub2) | cat -n
{ echo grouped1; echo grouped2; } | sort -r
v=outer; (v=inner; echo "in subshell $v"); echo "after subshell $v"
cat <<EOT
here-doc with $v and $(echo substitution)
  indented line
EOT
cat <<'EOT'
quoted here-doc keeps $v and $(echo this)
EOT
cat <<-EOT
	tab-stripped here-doc
	EOT
set -o pipefail
false | true; echo "pipefail $?"
set +o pipefail
false | true; echo "no pipefail $?"
yes hello | head -n 3
seq 1 100000 | tail -n 1
seq 1 20000 | sort -n | uniq | wc -l
echo done
