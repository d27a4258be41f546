#!/bin/bash
# git_seq.sh: git init, add, commit, log, diff, status, branch, merge, gc, fsck in a temp dir, then
# clones (hard links, upload-pack over pipes), a push to a bare repository, stash, a worktree and
# archive; fixed author and committer names, emails and dates make every hash the same on every run.
set -e
d=$(mktemp -d /tmp/rt-git.XXXXXX)
trap 'rm -rf "$d"' EXIT
cd "$d"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$d"
export GIT_AUTHOR_NAME="Ada Author" GIT_AUTHOR_EMAIL=ada@example.com
export GIT_COMMITTER_NAME="Cy Committer" GIT_COMMITTER_EMAIL=cy@example.com
export GIT_AUTHOR_DATE="1700000000 +0000" GIT_COMMITTER_DATE="1700000000 +0000"
git init -q -b main repo
cd repo
for i in 1 2 3 4 5; do seq "$i" 40 >"file$i.txt"; done
mkdir -p src/lib
printf 'int main(void) { return 0; }\n' >src/main.c
printf 'lib\n' >src/lib/readme
git add .
git commit -q -m "first commit"
git rev-parse HEAD
sed -i 's/^7$/seven/' file1.txt file3.txt
rm file5.txt
printf 'new\n' >new.txt
git status --short
git diff --stat
git diff file1.txt
git add -A
export GIT_AUTHOR_DATE="1700000100 +0000" GIT_COMMITTER_DATE="1700000100 +0000"
git commit -q -m "second: edit, delete, add"
git checkout -q -b topic
printf 'topic line\n' >>src/lib/readme
git commit -q -am "topic change"
git checkout -q main
git log --oneline --all --graph
git log --format='%H %an <%ae> %cn %ad %s' --date=iso-strict
git show --stat --format='%h %s' HEAD~1
git diff main topic
git merge -q --no-edit topic
git cat-file -p 'HEAD^{tree}'
git ls-files | wc -l
git status
git gc -q
git count-objects -v | grep -E '^(count|in-pack|packs):'
git fsck --no-progress --strict && echo fsck ok
cd ..
git clone -q repo clone-local
git clone -q --no-local repo clone-pack
git clone -q --bare repo bare.git
git -C clone-pack log --oneline | wc -l
cd clone-local
printf 'from the clone\n' >clone.txt
git add clone.txt
git commit -q -m "clone commit"
git push -q ../bare.git main
git -C ../bare.git log -1 --format='%h %s'
printf 'dirty\n' >>file2.txt
git stash -q
git stash list
git status --short | wc -l
git stash pop -q
git diff --stat
git checkout -q file2.txt
git worktree add -q ../wt HEAD~2
git -C ../wt log -1 --format=%s
git archive --format=tar HEAD | tar -t | sort
