#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "zone-attach-tmux": `kratactl zone attach` in a real terminal
# against a real zone. A detached tmux session on this machine runs
# `tools/devhost exec -t kratactl zone attach` (a pty in dom0 over ssh) to a
# zone running an interactive busybox sh on its TTY:
#  - keys typed into the pane reach the shell and its output comes back;
#  - Ctrl+] detaches, kratactl exits 0 and dom0's terminal settings are the
#    same as before (stty -g), and the pane's own shell works afterwards;
#  - a re-attach finds the same shell (a variable set before the detach);
#  - resizing the tmux window reaches the zone: the foreground process gets
#    SIGWINCH and `stty size` there reports the new size (kratactl → Resize →
#    krata-consoled → xenstore krata/winsize → krata-init → TIOCSWINSZ).
# Output is waited for by polling the pane, with generous bounds.
scenario=zone-attach-tmux
. "$(dirname "$0")/zone-lib.sh"
command -v tmux >/dev/null || fail "tmux is missing: run tools/install-deps"
e2e_up || fail "tools/devhost up failed"
zone_image_push || fail "could not push the test image"
zone_kernel_install || fail "could not install the zone kernel"

zone=e2e-tty
sock=krata-e2e-attach-$$
tm() { tmux -L "$sock" "$@"; }
sock_path=
tmux_down() {
	tm kill-server >/dev/null 2>&1 || true
	[ -z "$sock_path" ] || rm -f "$sock_path" # tmux leaves it behind
}
cleanup() {
	tmux_down
	dx kratactl zone destroy "$zone" >/dev/null 2>&1 || true
}
trap cleanup EXIT
base=$(zone_leak_snapshot)
M=$RANDOM$RANDOM # this run's marker

# The whole pane, history included, wrapped lines joined, trailing blanks cut.
screen() { tm capture-pane -p -J -S - -t t | sed 's/[[:space:]]*$//'; }
# has_line REGEX: a whole line of the pane matches (no early-closing pipe
# under pipefail: the pane is read whole first).
has_line() {
	local s
	s=$(screen)
	grep -Eq -- "^$1\$" <<<"$s"
}
# wait_line REGEX WHAT [TRIES]: until a whole line of the pane matches.
wait_line() {
	local i
	for ((i = 0; i < ${3:-120}; i++)); do
		has_line "$1" && return 0
		sleep 0.5
	done
	fail "waited for $2 (a line matching '$1'); the pane:
$(screen | tail -n 40)
the zone's console (zone logs, what the guest echoed):
$(dx kratactl zone logs "$zone" 2>&1 | tail -n 20 | cat -v)"
}
count_lines() {
	local s
	s=$(screen)
	grep -Ec -- "^$1\$" <<<"$s" || true
}
type_line() { tm send-keys -t t -l -- "$1" && tm send-keys -t t Enter; }
pane_size() { tm display-message -p -t t '#{pane_height} #{pane_width}'; }

# --- a zone with a TTY running an interactive shell ---
dx kratactl zone launch -t -n "$zone" -e PS1=zone-sh# "$E2E_IMAGE" /bin/sh >/dev/null || fail "launch $zone"
domid=$(dx kratactl -o json zone inspect "$zone" | jq -r .DomainId)
[ "$domid" -gt 0 ] || fail "no domain id for $zone"
for _ in $(seq 120); do
	st=$(dx sh -c "xenstore-read /local/domain/$domid/krata/status 2>/dev/null" || true)
	[ "$st" = running ] && break
	sleep 0.5
done
[ "$st" = running ] || fail "krata-init did not report running (krata/status='$st')"
pass "zone $zone (domain $domid) runs /bin/sh on its TTY"

# --- attach in a real terminal: 100x30, no status line ---
tm -f /dev/null new-session -d -s t -x 100 -y 30 "env PS1='host\$ ' bash --norc --noprofile -i"
tm set-option -t t status off
sock_path=$(tm display-message -p '#{socket_path}')
wait_line 'host\$' "the pane's shell"
type_line "echo host-pre=\$(stty -g | md5sum | cut -c1-8)"
wait_line 'host-pre=[0-9a-f]{8}' "the host terminal's settings"
host_pre=$(screen | sed -n 's/^host-pre=\([0-9a-f]\{8\}\)$/\1/p' | tail -n1)
# dom0's pty settings before and after, so kratactl's restore is what is checked
type_line "$devhost exec -t sh -c 'echo dom0-pre=\$(stty -g | md5sum | cut -c1-8); kratactl zone attach $zone; echo dom0-post=\$? \$(stty -g | md5sum | cut -c1-8)'"
wait_line "Attached to zone $zone\. Press Ctrl\+\] to detach\." "the attach banner"
pass "zone attach runs in a real terminal (a pty in dom0 through devhost exec -t)"

type_line "echo typed-\$((40 + 2))-$M"
wait_line "typed-42-$M" "the shell's answer to a typed command"
pass "a typed command reaches the zone's shell and its output comes back (typed-42-$M)"

want=$(pane_size)
type_line 'echo size=$(busybox stty size)'
wait_line "size=$want" "the zone to see the terminal's size ($want)"
pass "the zone's console takes the attaching terminal's size ($want) on attach"

type_line "X=kept-$M"
tm send-keys -t t C-]
wait_line "Detached from zone $zone\." "the detach message"
wait_line 'dom0-post=[0-9]+ [0-9a-f]{8}' "kratactl to exit after Ctrl+]"
dom0_pre=$(screen | sed -n 's/^dom0-pre=\([0-9a-f]\{8\}\)$/\1/p' | tail -n1)
dom0_post=$(screen | sed -n 's/^dom0-post=\([0-9]*\) \([0-9a-f]\{8\}\)$/\1 \2/p' | tail -n1)
[ "$dom0_post" = "0 $dom0_pre" ] || fail "after Ctrl+]: exit status and terminal settings '$dom0_post', want '0 $dom0_pre'"
pass "Ctrl+] detaches: kratactl exits 0 and dom0's terminal settings are as before (stty -g)"
wait_line 'host\$' "the pane's shell after the detach"
type_line "echo host-post=\$(stty -g | md5sum | cut -c1-8) \$((1 + 1))"
wait_line "host-post=$host_pre 2" "the pane's shell to answer with its settings unchanged"
pass "the terminal is back to its shell, settings unchanged"

# --- re-attach: the same shell, still alive ---
type_line "$devhost exec -t kratactl zone attach $zone"
for _ in $(seq 120); do
	[ "$(count_lines "Attached to zone $zone\. Press Ctrl\+\] to detach\.")" -ge 2 ] && break
	sleep 0.5
done
type_line 'echo "x=$X"'
wait_line "x=kept-$M" "the variable set before the detach"
pass "a re-attach finds the same shell, alive and with its state (X=kept-$M)"

# --- resize: SIGWINCH in the zone, and the new size ---
type_line "busybox sh -c 'trap \"echo winch=\\\$(busybox stty size); exit 0\" WINCH; echo armed-\$((1 + 1))-$M; while :; do busybox sleep 1; done'"
wait_line "armed-2-$M" "the SIGWINCH trap to be set"
tm resize-window -t t -x 120 -y 40
want=$(pane_size)
[ "$want" = "40 120" ] || fail "tmux did not resize the pane: $want"
wait_line "winch=$want" "SIGWINCH with the new size in the zone"
pass "resizing the terminal sends SIGWINCH to the zone's foreground process, which sees $want"
wait_line 'zone-sh#' "the shell's prompt"
tm resize-window -t t -x 90 -y 25
want=$(pane_size)
for i in $(seq 60); do
	type_line "echo size$i=\$(busybox stty size)"
	has_line "size[0-9]+=$want" && break
	sleep 1
done
wait_line "size[0-9]+=$want" "the zone to see the second size ($want)"
pass "a second resize follows ($want)"
perms=$(dx xenstore-ls -p "/local/domain/$domid/krata")
perms=$(grep '^winsize ' <<<"$perms" || true)
# krata/ is the guest's own directory (so what it writes there counts against
# its xenstore quota); dom0 writes winsize into it, the guest can read it.
grep -Eq "\((n$domid,|n0,[rb]$domid\))" <<<"$perms" || fail "krata/winsize is not readable by the guest: $perms"
pass "krata/winsize is readable by the guest: $perms"

tm send-keys -t t C-]
for _ in $(seq 120); do
	[ "$(count_lines "Detached from zone $zone\.")" -ge 2 ] && break
	sleep 0.5
done
[ "$(count_lines "Detached from zone $zone\.")" -ge 2 ] || fail "the second detach did not happen: $(screen | tail -n 20)"
tmux_down
dx kratactl zone destroy "$zone" || fail "destroy $zone"
zone_assert_no_leaks "$base" "the TTY zone"
pass "the TTY zone leaves nothing behind"
