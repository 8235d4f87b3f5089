#!/bin/sh
# kazoo_ctl.sh ENV stop|run N - stop or start member N of the ensemble that
# tests/compat/kazoo-ensemble.sh runs kazoo's suite against, for the tests
# that stop servers (qfs_kazoo_control.py). ENV (written by that script)
# says how the member was started; the member's current pid is in
# $QK_DIR/pid.N.
#
# stop: SIGTERM, as kazoo's harness stops a Java server, and wait until the
# process is gone (30 s, then SIGKILL) and its mount with it.
# run: start the member as before and wait until it serves as a leader or
# follower (60 s): kazoo's next step expects a working ensemble.
set -u
. "$1"
. "$QK_SRCDIR/tests/lib.sh"
verb=$2
i=$3
case $i in 1 | 2 | 3) ;; *)
	echo "kazoo_ctl: no member $i"
	exit 2
	;;
esac
eval "data=\$QK_DATA_$i mnt=\$QK_MNT_$i port=\$QK_CPORT_$i"
pidf=$QK_DIR/pid.$i
pid=$(cat "$pidf" 2>/dev/null)
alive() { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
gone() { ! kill -0 "$pid" 2>/dev/null; }
serving() { fourlw_at 127.0.0.1 "$port" srvr | grep -Eq '^Mode: (leader|follower)$'; }

case $verb in
stop)
	alive || exit 0
	kill -TERM "$pid"
	if ! wait_until 30 gone; then
		echo "kazoo_ctl: member $i (pid $pid) ignored SIGTERM for 30 s; killing it"
		kill -KILL "$pid"
		wait_until 10 gone
	fi
	is_mounted "$mnt" && fusermount3 -u -z "$mnt"
	echo "=== kazoo_ctl stopped member $i $(date +%T.%N)" >>"$data.log"
	;;
run)
	if ! alive; then
		is_mounted "$mnt" && fusermount3 -u -z "$mnt"
		echo "=== kazoo_ctl start $(date +%T.%N)" >>"$data.log"
		"$QUORUMFS" -f -d -o "myid=$i,dataDir=$data,clientPort=$port" -o "$QK_SASL" \
			"$QK_CFG" "$mnt" >>"$data.log" 2>&1 &
		pid=$!
		echo "$pid" >"$pidf"
	fi
	if ! wait_until 60 serving; then
		echo "kazoo_ctl: member $i (pid $pid) is not serving after 60 s; its log ends:"
		tail -5 "$data.log"
		exit 1
	fi
	;;
*)
	echo "usage: kazoo_ctl.sh ENV stop|run N"
	exit 2
	;;
esac
