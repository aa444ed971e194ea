#!/bin/sh
# Golden-output tests of jt-wallet's offline contracts (ARCHITECTURE.md):
# the values are those the Jingtum JS libraries produced (tests/vectors).
set -u
W=${JT_BUILD:-build/test}/bin/jt-wallet
fails=0
ok()     { echo "ok $1"; }
not_ok() { echo "not ok $1"; [ $# -gt 1 ] && echo "#   $2"; fails=$((fails + 1)); }
check()  { # name expected actual
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2] got [$3]"; fi
}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

SECRET=ssYbHr1cQKt1orBJ9k6uJJowgRQVV
TX='{"Flags":0,"Fee":10000,"TransactionType":"Payment","Account":"jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2","Amount":"1000000","Destination":"jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb","Sequence":1}'
BLOB=120000220000000024000000016140000000000F4240684000000000002710732102F9D5E96648F13F30480991B128BDFA39BB6DBF9D85368E36D01A9DC43A514DB774463044022057DD06C831899DE4DC817CFE29D77360B76A870646E802E88998708BB008201E02204FED24D667122DF8CE7E04F12B41A6B93134A43A9AD2F8CCCCE735B80F3200E8811437AC194C7DE25083DDAAEA0A77FEA905EAAE071683143048D7827863657B7641FFDCAB48C5FAB2A692B9
HASH=809DD0B313AD01216AF2B503D8C61831D7409BB7B46834DC2B5B30A354CEECC5

ED_SECRET=sEd7seVsARST9mmVPB7A4n41CMkYQuz
ED_TX='{"Flags":0,"Fee":10000,"TransactionType":"Payment","Account":"jfKWKUYhtHjCoLA9kSvJ1Nuw1WfCpMpAFX","Amount":"2000000","Destination":"jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb","Sequence":1}'
ED_BLOB=120000220000000024000000016140000000001E84806840000000000027107321EDA241E4808488E16E3BCFC442C229A19275D56EFC7D3CD0EA56FD5572F9CEFDAD744002F081D52102267B71800F33AA68CC5E8B65503B2810A637F8F1B14063A9A1BB0F620D4283460F7D2AEC82099BF901C366F14F7CF167DB8F035A0EF3410BAD0581144550B64075DBEE49F96E765E8ACF0493576840D683143048D7827863657B7641FFDCAB48C5FAB2A692B9
ED_HASH=CAE4A62E5F3AE66905B676F53F553331A62F83F0283B01FF297DAEF9C72428EC

# address
check "address of a secp256k1 secret" jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2 "$(echo $SECRET | $W address)"
check "address of an ed25519 secret" jfKWKUYhtHjCoLA9kSvJ1Nuw1WfCpMpAFX "$(echo $ED_SECRET | $W address)"
check "address of the genesis secret" jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh "$(echo snoPBjXtMeMyMHUVTgbuqAfg1SUTb | $W address)"
echo ssYbHr1cQKt1orBJ9k6uJJowgRQVW | $W address >/dev/null 2>"$T/err"; rc=$?
check "address: mistyped secret exits 2" 2 $rc
grep -q checksum "$T/err" && ok "address: mistyped secret says checksum" || not_ok "address: checksum message" "$(cat "$T/err")"
if grep -q ssYbHr1cQKt1orBJ9k6uJJowgRQVW "$T/err"; then not_ok "address: the secret is not echoed in errors"; else ok "address: the secret is not echoed in errors"; fi

# sign: byte-identical to jingtum-lib (secp256k1) and @swtc/transaction (ed25519)
check "sign secp256k1 payment" "{\"tx_blob\":\"$BLOB\",\"hash\":\"$HASH\"}" "$(printf '%s\n%s\n' $SECRET "$TX" | $W sign)"
check "sign ed25519 payment" "{\"tx_blob\":\"$ED_BLOB\",\"hash\":\"$ED_HASH\"}" "$(printf '%s\n%s\n' $ED_SECRET "$ED_TX" | $W sign)"
printf '%s\n%s\n' $SECRET '{"Flags":0,"Bogus":1}' | $W sign >/dev/null 2>"$T/err"; rc=$?
check "sign: unknown field exits 2" 2 $rc
grep -q Bogus "$T/err" && ok "sign: error names the unknown field" || not_ok "sign: error names the field" "$(cat "$T/err")"
$W sign "$SECRET" </dev/null >/dev/null 2>&1; rc=$?
check "sign: refuses a secret on argv" 2 $rc

# encode / decode / hash / verify
UNSIGNED=$(echo "$TX" | $W encode)
check "encode unsigned payment" 120000220000000024000000016140000000000F4240684000000000002710811437AC194C7DE25083DDAAEA0A77FEA905EAAE071683143048D7827863657B7641FFDCAB48C5FAB2A692B9 "$UNSIGNED"
DECODED=$($W decode $BLOB)
check "decode: skywelld JSON form" '{"TransactionType":"Payment","Flags":0,"Sequence":1,"Amount":"1000000","Fee":"10000","SigningPubKey":"02F9D5E96648F13F30480991B128BDFA39BB6DBF9D85368E36D01A9DC43A514DB7","TxnSignature":"3044022057DD06C831899DE4DC817CFE29D77360B76A870646E802E88998708BB008201E02204FED24D667122DF8CE7E04F12B41A6B93134A43A9AD2F8CCCCE735B80F3200E8","Account":"jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2","Destination":"jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb"}' "$DECODED"
check "decode | encode round trip" "$BLOB" "$(echo "$DECODED" | $W encode)"
check "decode reads stdin" "$DECODED" "$(echo $BLOB | $W decode)"
check "hash" "$HASH" "$($W hash $BLOB)"
check "hash of lower-case hex" "$HASH" "$($W hash "$(echo $BLOB | tr A-F a-f)")"
$W verify $BLOB 2>/dev/null; check "verify valid secp256k1" 0 $?
$W verify $ED_BLOB 2>/dev/null; check "verify valid ed25519" 0 $?
# Flip one byte of the Amount: still well-formed, signature now wrong.
BAD=$(echo $BLOB | sed 's/6140000000000F4240/6140000000000F4241/')
$W verify $BAD 2>"$T/err"; check "verify tampered amount exits 1" 1 $?
$W verify $UNSIGNED 2>/dev/null; check "verify unsigned exits 1" 1 $?
$W verify 12000022 2>"$T/err"; check "verify truncated exits 2" 2 $?
grep -q offset "$T/err" && ok "verify: malformed input message names the offset" || not_ok "verify: offset message" "$(cat "$T/err")"
$W verify XYZ 2>/dev/null; check "verify non-hex exits 2" 2 $?
$W decode 1200002200000000240000000161400000000000000068 >/dev/null 2>"$T/err"; check "decode truncated exits 2" 2 $?

# keygen: fresh keys, distinct, whose secret gives back the address
K1=$($W keygen); K2=$($W keygen --ed25519)
S1=$(echo "$K1" | sed 's/.*"secret":"\([^"]*\)".*/\1/'); A1=$(echo "$K1" | sed 's/.*"address":"\([^"]*\)".*/\1/')
S2=$(echo "$K2" | sed 's/.*"secret":"\([^"]*\)".*/\1/'); A2=$(echo "$K2" | sed 's/.*"address":"\([^"]*\)".*/\1/')
check "keygen secp256k1 secret maps to its address" "$A1" "$(echo "$S1" | $W address)"
check "keygen ed25519 secret maps to its address" "$A2" "$(echo "$S2" | $W address)"
case "$S2" in sEd*) ok "keygen --ed25519 makes an sEd secret";; *) not_ok "keygen --ed25519 secret form" "$S2";; esac
case "$(echo "$K1" | sed 's/.*"public_key":"\(..\).*/\1/')" in 02|03) ok "keygen secp256k1 public key";; *) not_ok "keygen secp256k1 public key" "$K1";; esac
[ "$S1" != "$($W keygen | sed 's/.*"secret":"\([^"]*\)".*/\1/')" ] && ok "keygen makes distinct keys" || not_ok "keygen distinct"
$W --help >/dev/null && ok "--help" || not_ok "--help"
$W sign --help | grep -q "usage: jt-wallet sign" && ok "sign --help" || not_ok "sign --help"
$W frobnicate 2>/dev/null; check "unknown command exits 2" 2 $?
[ $fails -eq 0 ]
