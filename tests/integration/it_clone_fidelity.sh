#!/usr/bin/env bash
# chainproxy clone: a clone verified against the cloned store gives what the
# original gives against the original store, error number and depth, at
# dates before and after each incident (openssl verify, OpenSSL 3 defaults,
# and the 1.0.2/1.0.1-style path building of tests/integration/clients/oldssl_verify);
# `openssl x509 -text` is the same but for keys, key identifiers and
# signatures; --shift-to-now brings 2021-09-30 15:01:15Z to now; clone keys
# are reused across runs; bad input is refused with a message.
. "$(dirname "$0")/lib.sh"
need openssl
OV=$CP_BUILD/tests/oldssl_verify
[ -x "$OV" ] || fail "oldssl_verify was not built"
R=$CP_SRC/certs/real
X=$R/extra
CA=$WORK/ca
TABLE=$WORK/fidelity.txt

# leaf.pem (first certificate) and inter.pem (the rest) of a chain file.
split_chain() {
  awk -v d="$2" '/BEGIN CERT/{n++} {print > (d (n == 1 ? "/leaf.pem" : "/inter.pem"))}' "$1"
  [ -f "$2/inter.pem" ] || : >"$2/inter.pem"
  return 0
}

# "OK" or every "error N at D" openssl verify printed, as "N@D N@D".
summary() {
  if grep -q ': OK$' <<<"$1"; then
    echo OK
  else
    grep -o 'error [0-9]* at [0-9]*' <<<"$1" | sed 's/error \([0-9]*\) at /\1@/' |
      paste -sd' ' -
  fi
}

# verify DIR STORE EPOCH|now: openssl verify's output with paths (and the
# thread id of its error queue lines) removed.
verify() {
  local at=() un=()
  [ "$3" = now ] || at=(-attime "$3")
  [ -s "$1/inter.pem" ] && un=(-untrusted "$1/inter.pem")
  openssl verify -no-CApath -no-CAstore -CAfile "$2" "${un[@]}" \
    "${at[@]}" -show_chain "$1/leaf.pem" 2>&1 |
    sed -E "s#$1/leaf.pem#LEAF#g; s/^[0-9A-F]+:error:/THREAD:error:/"
}

# The certificate text minus what a clone changes on purpose: public key
# and signature hex dumps (lower-case) and key identifier values.
text_of() {
  openssl x509 -noout -text -certopt no_sigdump -in "$1" | awk '
    /Subject Key Identifier|Authority Key Identifier/ { ids = 1; print; next }
    ids && /^ +(keyid:)?[0-9A-F][0-9A-F](:[0-9A-F][0-9A-F])*$/ { next }
    { ids = 0 }
    /^ +[0-9a-f][0-9a-f](:[0-9a-f][0-9a-f])*:?$/ { next }
    { print }'
}

# Every certificate of a PEM file, one per file, as DIR/N.pem.
explode() {
  mkdir -p "$2"
  awk -v d="$2" '/BEGIN CERT/{n++} n {print > (d "/" n ".pem")}' "$1"
}

printf '%-11s %-10s %-11s %-15s %-15s %-14s %-14s\n' chain store date \
  original clone "1.0.2 orig" "1.0.2 clone" | tee "$TABLE"
rows=0
# oldssl_verify's "error N at D: text" as "N@D".
short() { sed -e 's/^error \([0-9]*\) at \([0-9]*\):.*/\1@\2/' -e 's/^ok$/OK/' <<<"$1"; }
# case NAME CHAIN STORE-NAME STORE DATE...
case_() {
  local name=$1 chain=$2 sname=$3 store=$4 d t o c lo lc
  shift 4
  local D=$WORK/$name-$sname
  mkdir -p "$D/o" "$D/c"
  "$CP_BIN" clone "$chain" --store "$store" --out "$D/clone" --ca-dir "$CA" \
    >"$D/clone.log" 2>&1 || { cat "$D/clone.log"; fail "clone $name/$sname"; }
  split_chain "$chain" "$D/o"
  split_chain "$D/clone/chain.pem" "$D/c"
  for d in "$@"; do
    t=$(date -u -d "$d" +%s)
    o=$(verify "$D/o" "$store" "$t")
    c=$(verify "$D/c" "$D/clone/store.pem" "$t")
    lo=$("$OV" 1.0.2 "$store" "$D/o/inter.pem" "$D/o/leaf.pem" "$t")
    lc=$("$OV" 1.0.2 "$D/clone/store.pem" "$D/c/inter.pem" "$D/c/leaf.pem" "$t")
    printf '%-11s %-10s %-11s %-15s %-15s %-14s %-14s\n' "$name" "$sname" \
      "${d%%T*}" "$(summary "$o")" "$(summary "$c")" "$(short "$lo")" \
      "$(short "$lc")" | tee -a "$TABLE"
    [ "$o" = "$c" ] || fail "$name/$sname at $d: openssl verify differs:
--- original
$o
--- clone
$c"
    [ "$lo" = "$lc" ] || fail "$name/$sname at $d: 1.0.2-style: '$lo' vs '$lc'"
    for m in current 1.0.1; do
      assert_eq "$("$OV" $m "$D/clone/store.pem" "$D/c/inter.pem" "$D/c/leaf.pem" "$t")" \
        "$("$OV" $m "$store" "$D/o/inter.pem" "$D/o/leaf.pem" "$t")" \
        "$name/$sname at $d, $m-style"
    done
    rows=$((rows + 1))
  done
}

cat "$X/gnutls-alt-chain-new-ca.pem" "$X/gnutls-alt-chain-old-ca.pem" >"$WORK/gnutls-both.pem"
D21=(2021-09-29T00:00:00Z 2021-10-01T00:00:00Z 2024-10-01T00:00:00Z)
D20=(2020-05-29T00:00:00Z 2020-06-01T00:00:00Z 2021-10-01T00:00:00Z)
DGT=(2017-05-10T00:00:00Z 2017-08-01T00:00:00Z 2018-08-23T00:00:00Z)
start=$(date +%s.%N)
case_ 2021-long "$X/served-2021-default-leaf+R3+X1cross.pem" both "$R/store-2021-dst+isrg.pem" "${D21[@]}"
cold=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
case_ 2021-long "$X/served-2021-default-leaf+R3+X1cross.pem" dst "$R/dst-root-ca-x3.pem" "${D21[@]}"
warm=$(echo "$(date +%s.%N) - $start" | bc)
case_ 2021-long "$X/served-2021-default-leaf+R3+X1cross.pem" isrg "$R/isrg-root-x1.pem" "${D21[@]}"
case_ 2021-short "$X/served-2021-short-leaf+R3cross.pem" both "$R/store-2021-dst+isrg.pem" "${D21[@]}"
case_ 2021-short "$X/served-2021-short-leaf+R3cross.pem" dst "$R/dst-root-ca-x3.pem" "${D21[@]}"
case_ 2021-short "$X/served-2021-short-leaf+R3cross.pem" isrg "$R/isrg-root-x1.pem" "${D21[@]}"
case_ 2021-leaf "$R/le-leaf-2021.pem" isrg "$R/isrg-root-x1.pem" 2021-10-01T00:00:00Z
case_ 2020 "$X/served-2020-leaf+SectigoDV+UTcross.pem" both "$R/store-2020-addtrust+usertrust.pem" "${D20[@]}"
case_ 2020 "$X/served-2020-leaf+SectigoDV+UTcross.pem" addtrust "$R/addtrust-external-root.pem" "${D20[@]}"
case_ 2020 "$X/served-2020-leaf+SectigoDV+UTcross.pem" usertrust "$R/usertrust-rsa.pem" "${D20[@]}"
case_ gnutls-alt "$X/gnutls-alt-chain.pem" both "$WORK/gnutls-both.pem" "${DGT[@]}"
case_ gnutls-alt "$X/gnutls-alt-chain.pem" new-ca "$X/gnutls-alt-chain-new-ca.pem" "${DGT[@]}"
case_ gnutls-alt "$X/gnutls-alt-chain.pem" old-ca "$X/gnutls-alt-chain-old-ca.pem" "${DGT[@]}"
# Every defect fixture of fixture_pki.sh (made with the openssl command
# line), before the legacy root expired and now.
FX=$WORK/fx
bash "$CP_IT/fixture_pki.sh" "$FX" >"$WORK/fixture.log" 2>&1 ||
  fail "fixture_pki.sh failed: $(tail -3 "$WORK/fixture.log")"
# The modern and legacy roots and the expired one (the corporate root stays
# out: untrusted-root must not verify).
cat "$FX/store-both.pem" "$FX/gone-root.pem" >"$WORK/fx-store.pem"
fixtures=0
for f in "$FX"/*.chain.pem; do
  c=$(basename "$f" .chain.pem)
  case_ "fx-$c" "$f" both "$WORK/fx-store.pem" 2019-07-01T00:00:00Z now
  fixtures=$((fixtures + 1))
done
say "$fixtures defect fixtures: each clone verifies as its original"
say "$rows rows, clone of the 2021 chain with new keys ${cold}s (incl. 3x3 verifies), with cached keys ${warm}s"
cp "$TABLE" "$CP_BUILD/clone-fidelity.txt" 2>/dev/null || true

# The 2021 truth for OpenSSL 1.0.2 with both roots: error 10 at depth 3.
L=$WORK/2021-long-both
t=$(date -u -d 2021-10-01T00:00:00Z +%s)
assert_contains "$("$OV" 1.0.2 "$L/clone/store.pem" "$L/c/inter.pem" "$L/c/leaf.pem" "$t")" \
  "error 10 at 3" "2021 long chain, both cloned roots, 1.0.2-style"
assert_contains "$("$OV" 1.0.2 "$R/store-2021-dst+isrg.pem" "$L/o/inter.pem" "$L/o/leaf.pem" "$t")" \
  "error 10 at 3" "2021 long chain, both real roots, 1.0.2-style"

# Field by field, every certificate of the chain and the store.
for D in "$L" "$WORK/2020-both" "$WORK/gnutls-alt-both"; do
  explode "$D/clone/chain.pem" "$D/xc"
  explode "$D/clone/store.pem" "$D/xs"
  i=0
  for f in "$D/o/leaf.pem" "$D/o/inter.pem"; do
    explode "$f" "$D/xo$i"
    i=$((i + 1))
  done
  for f in "$D"/xc/*.pem; do
    n=$(basename "$f" .pem)
    [ "$n" = 1 ] && o=$D/xo0/1.pem || o=$D/xo1/$((n - 1)).pem
    diff <(text_of "$o") <(text_of "$f") >"$D/text.diff" ||
      { cat "$D/text.diff"; fail "$D: x509 -text of chain certificate $n differs"; }
  done
done
say "x509 -text identical but for keys, key identifiers and signatures"

# Keys: 0600, one per original SPKI, reused by a second run (the 2020 chain
# is RSA all through, and PKCS#1 v1.5 signatures are deterministic, so the
# clones are byte for byte the same).
assert_eq "$(stat -c %a "$CA/clones/keys")" 700 "key cache dir mode"
for k in "$CA"/clones/keys/*.pem "$L"/clone/keys/*.pem "$L/clone/leaf.key"; do
  assert_eq "$(stat -c %a "$k")" 600 "$k mode"
done
assert_eq "$(ls "$L"/clone/keys | wc -l)" 4 "2021 long chain + 2 roots: 4 distinct keys (X1 and its cross-sign share one)"
openssl x509 -in "$L/c/leaf.pem" -noout -pubkey >"$WORK/leafpub.pem"
openssl pkey -in "$L/clone/leaf.key" -pubout >"$WORK/keypub.pem"
cmp -s "$WORK/leafpub.pem" "$WORK/keypub.pem" || fail "leaf.key is not the cloned leaf's key"
"$CP_BIN" clone "$X/served-2020-leaf+SectigoDV+UTcross.pem" \
  --store "$R/store-2020-addtrust+usertrust.pem" --out "$WORK/again" \
  --ca-dir "$CA" >/dev/null || fail "second clone"
cmp -s "$WORK/again/chain.pem" "$WORK/2020-both/clone/chain.pem" ||
  fail "a second clone with the same CA dir differs"
python3 - "$L/clone/map.json" <<'PY' || fail "map.json"
import json, sys
m = json.load(open(sys.argv[1]))
roles = [(e["source"], e["role"], e["subject"].split(",")[0]) for e in m]
assert roles == [("chain", "leaf", "CN=geoip.elastic.dev"),
                 ("chain", "intermediate", "CN=R3"),
                 ("chain", "cross-sign", "CN=ISRG Root X1"),
                 ("store", "root", "CN=DST Root CA X3"),
                 ("store", "root", "CN=ISRG Root X1")], roles
assert all(len(e["original"]) == 95 and e["original"] != e["clone"] for e in m)
PY

# Shift: DST Root CA X3's notAfter (2021-09-30 14:01:15Z) becomes now - 1h.
S=$WORK/shift
mkdir -p "$S/c"
"$CP_BIN" clone "$X/served-2021-default-leaf+R3+X1cross.pem" \
  --store "$R/store-2021-dst+isrg.pem" --out "$S/clone" --ca-dir "$CA" \
  --shift-to-now 2021-09-30T15:01:15Z >/dev/null || fail "shifted clone"
explode "$S/clone/store.pem" "$S/xs"
end=$(openssl x509 -in "$S/xs/1.pem" -noout -enddate | cut -d= -f2)
left=$(($(date -u -d "$end" +%s) - $(date +%s)))
[ "$left" -le -3500 ] && [ "$left" -ge -3700 ] ||
  fail "shifted DST root expires $end, $left s from now (want about -3600)"
say "shifted DST Root CA X3 clone: notAfter=$end (now $((left)) s)"
split_chain "$S/clone/chain.pem" "$S/c"
t=$(date -u -d 2021-09-30T15:01:15Z +%s)
O=$WORK/2021-long-both/o
assert_eq "$(summary "$(verify "$S/c" "$S/clone/store.pem" now)")" \
  "$(summary "$(verify "$O" "$R/store-2021-dst+isrg.pem" "$t")")" "shifted, both roots, now"
explode "$S/clone/store.pem" "$S/roots"
assert_eq "$(summary "$(verify "$S/c" "$S/roots/1.pem" now)")" \
  "$(summary "$(verify "$O" "$R/dst-root-ca-x3.pem" "$t")")" "shifted, DST only, now"
assert_contains "$("$OV" 1.0.2 "$S/clone/store.pem" "$S/c/inter.pem" "$S/c/leaf.pem" now)" \
  "error 10 at 3" "shifted, both roots, 1.0.2-style at now"

# Bad input.
bad() { # EXPECTED-EXIT EXPECTED-MESSAGE ARGS...
  local want=$1 msg=$2 got out
  shift 2
  out=$("$CP_BIN" clone "$@" 2>&1)
  got=$?
  assert_eq "$got" "$want" "exit of clone $*"
  assert_contains "$out" "$msg" "stderr of clone $*"
}
echo "not a certificate" >"$WORK/text.pem"
: >"$WORK/empty.pem"
printf -- '-----BEGIN CERTIFICATE-----\nMIIBroken@@\n-----END CERTIFICATE-----\n' >"$WORK/broken.pem"
openssl req -x509 -newkey ed25519 -keyout /dev/null -nodes -subj /CN=ed \
  -out "$WORK/ed.pem" 2>/dev/null || fail "ed25519 cert"
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 \
  -out "$WORK/dsa.param" 2>/dev/null
openssl req -x509 -newkey "dsa:$WORK/dsa.param" -keyout /dev/null -nodes \
  -subj /CN=dsa -out "$WORK/dsa.pem" 2>/dev/null || fail "dsa cert"
bad 2 "no PEM certificate" "$WORK/text.pem" --out "$WORK/b1"
bad 2 "no PEM certificate" "$WORK/empty.pem" --out "$WORK/b2"
bad 2 "malformed PEM" "$WORK/broken.pem" --out "$WORK/b3"
bad 2 "cannot read $WORK/nope.pem" "$WORK/nope.pem" --out "$WORK/b4"
bad 2 "no PEM certificate" "$R/le-leaf-2021.pem" --store "$WORK/empty.pem" --out "$WORK/b5"
bad 1 "unsupported key type ED25519" "$WORK/ed.pem" --out "$WORK/b6" --ca-dir "$CA"
bad 1 "unsupported key type DSA" "$WORK/dsa.pem" --out "$WORK/b7" --ca-dir "$CA"
bad 2 "--out DIR is required" "$R/le-leaf-2021.pem"
bad 2 "not an RFC 3339 time" "$R/le-leaf-2021.pem" --out "$WORK/b8" --shift-to-now yesterday
say "ok"
