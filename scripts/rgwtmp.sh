#!/usr/bin/env bash
# rgwtmp.sh: a throwaway S3 service on loopback (Ceph radosgw, single node:
# one monitor, one manager, one memstore OSD and the gateway, all plain
# processes with their files in DIR), for tests and the local stack.  It
# enforces SigV4 signatures, as a real S3 does.  Takes about 15 seconds.
#
#   rgwtmp.sh start DIR [PORT]   start it; creates a user with random keys
#                                the bucket "pprl" and the role
#                                "pprl-client" for temporary client
#                                credentials; prints S3_* lines
#                                (also left in DIR/s3.env)
#   rgwtmp.sh stop DIR           stop every daemon (memstore: data is gone)
#   rgwtmp.sh pause DIR | resume DIR
#                                stop / start only the gateway (fault tests)
#
# Needs Debian's ceph-mon, ceph-mgr, ceph-osd and radosgw packages
# (scripts/setup-debian.sh installs them).  Runs as root or as any user.
set -euo pipefail

usage() { echo "usage: rgwtmp.sh start DIR [PORT] | stop DIR | pause DIR | resume DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage

free_port() { echo $((20000 + RANDOM % 20000)); }

# Start the gateway and wait until it answers HTTP.
start_rgw() {
	local port
	port=$(cat "$dir/rgw.port")
	radosgw -c "$dir/ceph.conf" -n client.rgw.a --keyring "$dir/rgw.keyring" \
		--rgw-frontends "beast endpoint=127.0.0.1:$port"
	for _ in $(seq 1 600); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.1
	done
	echo "rgwtmp: radosgw did not answer on port $port (see $dir/log)" >&2
	return 1
}

# Stop one daemon by its pid file and wait for it to exit.
stop_daemon() {
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$f"
}

case $cmd in
start)
	port=${3:-$(free_port)}
	rm -rf "$dir"
	mkdir -p "$dir"/{mon,mgr,osd,run,log}
	dir=$(cd "$dir" && pwd)
	echo "$port" >"$dir/rgw.port"
	fsid=$(cat /proc/sys/kernel/random/uuid)
	mon_v2=$(free_port)
	mon_v1=$((mon_v2 + 1))
	sts_key=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]
public addr = 127.0.0.1
keyring = $dir/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon allow pool size one = true
mon warn on pool no redundancy = false
auth allow insecure global id reclaim = false
osd crush chooseleaf type = 0
run dir = $dir/run
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
mon data = $dir/mon/\$name
osd data = $dir/osd/\$name
mgr data = $dir/mgr/\$name
osd objectstore = memstore
memstore device bytes = ${PPRL_RGW_BYTES:-2147483648}
[client.rgw.a]
rgw dns name = localhost
rgw s3 auth use sts = true
rgw sts key = $sts_key
EOF
	C=(-c "$dir/ceph.conf")
	ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
		--cap mgr 'allow *' --cap mds 'allow *' >/dev/null
	monmaptool --create --addv a "[v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]" --fsid "$fsid" \
		"$dir/monmap" >/dev/null
	ceph-mon "${C[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
	ceph-mon "${C[@]}" -i a
	ceph "${C[@]}" -s --connect-timeout 20 >/dev/null
	mkdir -p "$dir/mgr/mgr.x"
	ceph "${C[@]}" auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
		>"$dir/mgr/mgr.x/keyring"
	ceph-mgr "${C[@]}" -i x --keyring "$dir/mgr/mgr.x/keyring"
	osd_uuid=$(cat /proc/sys/kernel/random/uuid)
	id=$(ceph "${C[@]}" osd new "$osd_uuid")
	mkdir -p "$dir/osd/osd.$id"
	ceph "${C[@]}" auth get-or-create "osd.$id" mon 'allow profile osd' mgr 'allow profile osd' \
		osd 'allow *' >"$dir/osd/osd.$id/keyring"
	ceph-osd "${C[@]}" -i "$id" --mkfs --osd-uuid "$osd_uuid" --keyring "$dir/osd/osd.$id/keyring" \
		>/dev/null 2>&1
	ceph-osd "${C[@]}" -i "$id" --keyring "$dir/osd/osd.$id/keyring" 2>/dev/null
	for _ in $(seq 1 60); do
		ceph "${C[@]}" osd stat 2>/dev/null | grep -q "1 up" && break
		sleep 1
	done
	ceph "${C[@]}" auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' \
		>"$dir/rgw.keyring"
	start_rgw
	access=AK$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
	secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
	radosgw-admin "${C[@]}" user create --uid=pprl --display-name=pprl \
		--access-key="$access" --secret-key="$secret" >/dev/null
	# The role the service assumes to give clients temporary credentials
	# (external uploads, result downloads); each grant narrows it further
	# with a session policy.
	radosgw-admin "${C[@]}" caps add --uid=pprl --caps="roles=*" >/dev/null
	radosgw-admin "${C[@]}" role create --role-name=pprl-client --path=/ \
		--assume-role-policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/pprl"]},"Action":["sts:AssumeRole"]}]}' >/dev/null
	radosgw-admin "${C[@]}" role-policy put --role-name=pprl-client --policy-name=objects \
		--policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject","s3:AbortMultipartUpload","s3:ListMultipartUploadParts"],"Resource":["arn:aws:s3:::pprl/*"]}]}' >/dev/null
	curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "http://127.0.0.1:$port/pprl" >/dev/null
	umask 077
	cat >"$dir/s3.env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$port
S3_REGION=us-east-1
S3_ACCESS_KEY_ID=$access
S3_SECRET_ACCESS_KEY=$secret
S3_BUCKET=pprl
S3_STS_ROLE_ARN=arn:aws:iam:::role/pprl-client
EOF
	cat "$dir/s3.env"
	;;
stop)
	[ -d "$dir" ] || exit 0
	for f in "$dir"/run/client.rgw.a.pid "$dir"/run/osd.*.pid "$dir"/run/mgr.x.pid "$dir"/run/mon.a.pid; do
		stop_daemon "$f"
	done
	;;
pause)
	stop_daemon "$dir/run/client.rgw.a.pid"
	;;
resume)
	start_rgw
	;;
*)
	usage
	;;
esac
