# irflow exec-triage collector (POSIX sh; dash, bash, busybox ash).
# Read-only: it writes no file and reads no input. Every byte it gathers
# is printed base64 (or od hex) between @B and @E lines, so nothing from
# the container reaches the terminal raw. Args: nonce root maxfile maxbin
# maxhash pid path sha256 ("-" for none); sizes in bytes. No single quotes in this file:
# the whole script travels as one single-quoted word.
exec </dev/null 2>/dev/null
N=$1 R=$2 MF=$3 MB=$4 MH=$5 TP=$6 TX=$7 TS=$8
[ "$R" = - ] && R=
P=$R/proc nb=0 ID= MF=$(((MF + 4095) / 4096))
has() { command -v "$1" >/dev/null; }
if has base64; then E=b64; else E=hex; fi
has readlink && RL=1
has stat && ST=1
has sha256sum && SH=1
enc() { if [ $E = b64 ]; then base64; else od -An -v -tx1; fi; }
cl() { case $1 in "" | *[!0-9A-Za-z._:-]*) printf -- - ;; *) printf %s "$1" ;; esac; }
# put KIND ATTRS CMD...: CMD output as one block; @E carries its status.
put() {
	nb=$((nb + 1))
	k=$1 a=$2
	shift 2
	printf "\n@B %s %s%s %s %s\n" "$N" "$ID" "$nb" "$k" "$a"
	{ rc=$({ { "$@"; echo $? >&3; } | enc >&4; } 3>&1); } 4>&1
	printf "\n@E %s %s%s %s\n" "$N" "$ID" "$nb" "$(cl "$rc")"
}
rd() { dd if="$1" bs=4096 count="$2"; }
lnk() { if [ -n "$RL" ]; then readlink "$1"; else ls -ld "$1"; fi; }
pth() { printf %s "${1#"$R"}"; }
# hs FILE: " size=.. sha256=.." (and mtime, mode, uid, inode with stat).
hs() {
	if [ -n "$ST" ]; then
		set -- "$1" $(stat -L -c "%s %Y %a %u %i" "$1")
		printf " size=%s mtime=%s mode=%s uid=%s ino=%s" "$(cl "$2")" "$(cl "$3")" "$(cl "$4")" "$(cl "$5")" "$(cl "$6")"
		s=$2
	else
		set -- "$1" $(ls -lLn "$1")
		printf " size=%s uid=%s" "$(cl "$6")" "$(cl "$4")"
		s=$6
	fi
	case $s in "" | *[!0-9]*) return ;; esac
	if [ -n "$SH" ] && [ "$s" -le "$MH" ]; then
		set -- $(sha256sum <"$1")
		printf " sha256=%s" "$(cl "$1")"
	fi
}
# cp1 KIND ATTRS FILE: the bytes of a regular FILE of at most MB bytes.
cp1() {
	if [ ! -f "$3" ]; then
		put "$1" "$2 skip=not-a-regular-file" true
		return
	fi
	a="$2$(hs "$3")"
	s=${a##* size=}
	s=${s%% *}
	case $s in "" | *[!0-9]*) put "$1" "$a skip=unreadable" true ;;
	*) if [ "$s" -gt "$MB" ]; then put "$1" "$a skip=too-large" true; else put "$1" "$a" rd "$3" $((s / 4096 + 2)); fi ;;
	esac
}
fds() {
	n=0
	for f in "$1"/fd/*; do
		[ -L "$f" ] || continue
		n=$((n + 1))
		[ $n -gt 1024 ] && return 3
		printf "%s\t%s\000" "${f##*/}" "$(lnk "$f")"
	done
}
# wk DIR DEPTH: executables under DIR; symlinks are not followed.
wk() (
	ID=$ID$nb. nb=0 c=0
	for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		[ -L "$f" ] && continue
		if [ -d "$f" ]; then
			[ "$2" -gt 0 ] && nb=$((nb + 1)) && wk "$f" $(($2 - 1))
			continue
		fi
		[ -f "$f" ] && [ -x "$f" ] || continue
		c=$((c + 1))
		[ $c -gt 64 ] && break
		put xfile "$(hs "$f")" pth "$f"
	done
)
printf "\n@H %s irflow-triage/1 enc=%s rl=%s stat=%s sha=%s\n" "$N" $E "${RL:-0}" "${ST:-0}" "${SH:-0}"
if [ "$TP" != - ] && [ -d "$P/$TP" ]; then
	cp1 bin "pid=$TP from=exe" "$P/$TP/exe"
	put maps "pid=$TP" rd "$P/$TP/maps" "$MF"
elif [ "$TP" != - ]; then
	put bin "pid=$TP from=exe skip=no-such-process" true
fi
[ "$TX" != - ] && cp1 bin from=path "$R$TX"
put procstat - rd "$P/stat" 16
for t in tcp tcp6 udp udp6 raw raw6; do put net "proto=$t" rd "$P/net/$t" 256; done
np=0
for d in "$P"/[0-9]*; do
	p=${d##*/}
	case $p in *[!0-9]*) continue ;; esac
	np=$((np + 1))
	[ $np -gt 4096 ] && break
	put stat "pid=$p" rd "$d/stat" 4
	put status "pid=$p" rd "$d/status" 4
	put cmdline "pid=$p" rd "$d/cmdline" "$MF"
	x=$(hs "$d/exe")
	put exe "pid=$p$x" lnk "$d/exe"
	put cwd "pid=$p" lnk "$d/cwd"
	put fds "pid=$p" fds "$d"
	[ "$TS" != - ] && case $x in *" sha256=$TS"*) cp1 bin "pid=$p from=sha256" "$d/exe" ;; esac
done
for w in /tmp /dev/shm /var/tmp; do
	nb=$((nb + 1))
	[ -d "$R$w" ] && wk "$R$w" 3
done
np=0
for d in "$P"/[0-9]*; do
	np=$((np + 1))
	[ $np -gt 32 ] && break
	nb=$((nb + 1))
	[ -d "$d/cwd" ] && wk "$d/cwd" 0
done
printf "\n@T %s end\n" "$N"
