#!/bin/bash
# fixture_pki.sh OUTDIR: builds, with the openssl command line only (never
# the code under test), the chains of the diagnosis tests: a modern root, a
# legacy root that expired at the AddTrust instant, the modern root
# cross-signed by it, an intermediate, and one leaf per defect. Past and
# future validity comes from `openssl ca -startdate/-enddate`, which
# OpenSSL 3.0's req/x509 cannot set.
#
# Output (PEM): roots/*.pem, chain files served as-is by s_server
# (<case>.chain.pem: leaf first; <case>.key), and trust stores
# store-*.pem.
set -eu

out=$1
mkdir -p "$out"
cd "$out"
export SAN=DNS:localhost

cat > ca.cnf <<'EOF'
[ca]
default_ca = fixture

[fixture]
dir = .
database = ./index.txt
serial = ./serial
new_certs_dir = ./issued
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no

[any]
commonName = supplied
organizationName = optional

[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN

[v3_ca_nc]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
nameConstraints = critical,permitted;DNS:.corp.test

[v3_ca_p0]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_ca_pol]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
policyConstraints = critical,requireExplicitPolicy:0

[v3_notca]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_leaf_crit]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN
1.3.6.1.4.1.55555.1 = critical,ASN1:NULL

[v3_leaf_aia]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN
authorityInfoAccess = caIssuers;URI:http://ca.fixture.test/inter.crt

[v3_leaf_sct]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN
1.3.6.1.4.1.11129.2.4.2 = ASN1:FORMAT:HEX,OCTETSTRING:0000

[v3_clientonly]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN
EOF
mkdir -p issued
: > index.txt
echo 1000 > serial

# key NAME [rsa BITS]
key() {
  if [ "${2:-ec}" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$3" \
      -out "$1.key" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
      -out "$1.key" 2>/dev/null
  fi
  chmod 600 "$1.key"
}

# csr NAME CN
csr() {
  openssl req -new -config ca.cnf -key "$1.key" -subj "/CN=$2" \
    -out "$1.csr" 2>/dev/null
}

# sign NAME ISSUER EXT START END [MD]: ISSUER "self" self-signs.
sign() {
  local name=$1 issuer=$2 ext=$3 start=$4 end=$5 md=${6:-sha256}
  if [ "$issuer" = self ]; then
    openssl ca -batch -config ca.cnf -selfsign -keyfile "$name.key" \
      -in "$name.csr" -out "$name.pem" -extensions "$ext" -md "$md" \
      -startdate "$start" -enddate "$end" -notext 2>ca.log ||
      { cat ca.log >&2; exit 1; }
  else
    openssl ca -batch -config ca.cnf -cert "$issuer.pem" \
      -keyfile "$issuer.key" -in "$name.csr" -out "$name.pem" \
      -extensions "$ext" -md "$md" -startdate "$start" -enddate "$end" \
      -notext 2>ca.log || { cat ca.log >&2; exit 1; }
  fi
}

legacy_end=20200530104838Z

# The legacy hierarchy of 2020, in miniature.
key modern-root; csr modern-root "Fixture Modern Root"
sign modern-root self v3_root 20150101000000Z 20450101000000Z
key legacy-root; csr legacy-root "Fixture Legacy Root"
sign legacy-root self v3_root 20000530104838Z $legacy_end
# The cross-sign: the modern root's subject and key, issued by the legacy
# root, ending with it.
cp modern-root.csr cross.csr
cp modern-root.key cross.key
sign cross legacy-root v3_ca 20100101000000Z $legacy_end
key inter; csr inter "Fixture Intermediate"
sign inter modern-root v3_ca 20190101000000Z 20400101000000Z

# leaf NAME CN ISSUER START END [MD] [EXT]
leaf() {
  key "$1" "${KEYTYPE:-ec}" "${KEYBITS:-}"
  csr "$1" "$2"
  sign "$1" "$3" "${7:-v3_leaf}" "$4" "$5" "${6:-sha256}"
}

leaf good localhost inter 20190601000000Z 20390101000000Z
leaf expired-leaf localhost inter 20200101000000Z 20210101000000Z
leaf future-leaf localhost inter 20350101000000Z 20390101000000Z
leaf sha1-leaf localhost inter 20190601000000Z 20390101000000Z sha1
KEYTYPE=rsa KEYBITS=1024 leaf rsa1024-leaf localhost inter \
  20190601000000Z 20390101000000Z
leaf clientonly-leaf localhost inter 20190601000000Z 20390101000000Z \
  sha256 v3_clientonly
SAN=DNS:other.test leaf wronghost-leaf other.test inter \
  20190601000000Z 20390101000000Z

# An intermediate that expired while its root is fine.
key old-inter; csr old-inter "Fixture Old Intermediate"
sign old-inter modern-root v3_ca 20150101000000Z 20200101000000Z
leaf oldinter-leaf localhost old-inter 20190601000000Z 20390101000000Z

# A root that expired, held by the store.
key gone-root; csr gone-root "Fixture Expired Root"
sign gone-root self v3_root 20050101000000Z 20150101000000Z
key gone-inter; csr gone-inter "Fixture Orphan Intermediate"
sign gone-inter gone-root v3_ca 20100101000000Z 20400101000000Z
leaf goneroot-leaf localhost gone-inter 20190601000000Z 20390101000000Z

# A private (corporate) root nobody was given, presented in the chain.
key corp-root; csr corp-root "Fixture Corporate Root"
sign corp-root self v3_root 20150101000000Z 20450101000000Z
key corp-inter; csr corp-inter "Fixture Corporate Intermediate"
sign corp-inter corp-root v3_ca 20190101000000Z 20400101000000Z
leaf corp-leaf localhost corp-inter 20190601000000Z 20390101000000Z

# Chains that break a rule of path validation (RFC 5280 6.1): a leaf
# outside its issuer's name constraints, a leaf with a critical extension
# nobody knows, a CA below an issuer with pathlen:0, a leaf issued by a
# certificate that is no CA, a policy required and never asserted, and a
# leaf that names where its issuer can be fetched (AIA).
key nc-inter; csr nc-inter "Fixture Constrained Intermediate"
sign nc-inter modern-root v3_ca_nc 20190101000000Z 20400101000000Z
leaf nc-leaf localhost nc-inter 20190601000000Z 20390101000000Z
leaf crit-leaf localhost inter 20190601000000Z 20390101000000Z sha256 \
  v3_leaf_crit
key p0-inter; csr p0-inter "Fixture Pathlen0 Intermediate"
sign p0-inter modern-root v3_ca_p0 20190101000000Z 20400101000000Z
key sub-inter; csr sub-inter "Fixture Sub Intermediate"
sign sub-inter p0-inter v3_ca 20190101000000Z 20400101000000Z
leaf pathlen-leaf localhost sub-inter 20190601000000Z 20390101000000Z
key notca; csr notca "Fixture Not A CA"
sign notca modern-root v3_notca 20190101000000Z 20400101000000Z
leaf notca-leaf localhost notca 20190601000000Z 20390101000000Z
key pol-inter; csr pol-inter "Fixture Policy Intermediate"
sign pol-inter modern-root v3_ca_pol 20190101000000Z 20400101000000Z
leaf pol-leaf localhost pol-inter 20190601000000Z 20390101000000Z
leaf aia-leaf localhost inter 20190601000000Z 20390101000000Z sha256 \
  v3_leaf_aia

# Browser policies: a leaf issued after 2020-09-01 for nine years, and a
# short one with an (empty) embedded SCT list.
leaf long-leaf localhost inter 20210101000000Z 20300101000000Z
leaf sct-leaf localhost inter 20260101000000Z 20261201000000Z sha256 \
  v3_leaf_sct

# A leaf whose signature was altered after signing (its last byte).
openssl x509 -in good.pem -outform DER -out tampered.der
printf '\001' | dd of=tampered.der bs=1 seek=$(($(stat -c %s tampered.der) - 1)) \
  conv=notrunc 2>/dev/null
openssl x509 -inform DER -in tampered.der -out tampered-leaf.pem

# A self-signed leaf.
key selfsigned-leaf; csr selfsigned-leaf localhost
sign selfsigned-leaf self v3_leaf 20190601000000Z 20390101000000Z

# Revocation: a leaf revoked by its intermediate, the CRLs of the
# intermediate and the root, and OCSP responses to staple: good,
# revoked, and one signed by a responder nobody authorized.
leaf revoked-leaf localhost inter 20190601000000Z 20390101000000Z
openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key \
  -revoke revoked-leaf.pem -crl_reason keyCompromise 2>ca.log ||
  { cat ca.log >&2; exit 1; }
openssl ca -batch -config ca.cnf -gencrl -cert inter.pem -keyfile inter.key \
  -crldays 7000 -out inter.crl.pem 2>ca.log || { cat ca.log >&2; exit 1; }
openssl ca -batch -config ca.cnf -gencrl -cert modern-root.pem \
  -keyfile modern-root.key -crldays 7000 -out root.crl.pem 2>ca.log ||
  { cat ca.log >&2; exit 1; }
cat inter.crl.pem root.crl.pem > crls.pem
ocsp() { # LEAF SIGNER OUT
  openssl ocsp -index index.txt -rsigner "$2.pem" -rkey "$2.key" \
    -CA inter.pem -issuer inter.pem -cert "$1.pem" -ndays 3650 \
    -respout "$3" > /dev/null 2>ca.log || { cat ca.log >&2; exit 1; }
}
ocsp good inter good.ocsp.der
ocsp revoked-leaf inter revoked.ocsp.der
ocsp good corp-inter badsigner.ocsp.der

# Chains as the servers present them, leaf first.
# <case>.chain.pem is the whole chain; <case>.leaf.pem and
# <case>.extra.pem (possibly empty) are what s_server takes.
chain() {
  local name=$1; shift
  cat "$@" > "$name.chain.pem"
  cp "$1" "$name.leaf.pem"
  shift
  cat /dev/null "$@" > "$name.extra.pem"
}
chain valid good.pem inter.pem
chain legacy good.pem inter.pem cross.pem
chain expired-leaf expired-leaf.pem inter.pem
chain expired-inter oldinter-leaf.pem old-inter.pem
chain expired-root goneroot-leaf.pem gone-inter.pem
chain incomplete good.pem
chain self-signed selfsigned-leaf.pem
chain untrusted-root corp-leaf.pem corp-inter.pem corp-root.pem
chain wrong-host wronghost-leaf.pem inter.pem
chain not-yet-valid future-leaf.pem inter.pem
chain sha1 sha1-leaf.pem inter.pem
chain rsa1024 rsa1024-leaf.pem inter.pem
chain bad-usage clientonly-leaf.pem inter.pem
chain name-constraints nc-leaf.pem nc-inter.pem
chain critical-ext crit-leaf.pem inter.pem
chain path-length pathlen-leaf.pem sub-inter.pem p0-inter.pem
chain invalid-ca notca-leaf.pem notca.pem
chain policy pol-leaf.pem pol-inter.pem
chain incomplete-aia aia-leaf.pem
chain revoked revoked-leaf.pem inter.pem
chain long long-leaf.pem inter.pem
chain bad-signature tampered-leaf.pem inter.pem
chain sct sct-leaf.pem inter.pem
for c in valid legacy incomplete; do cp good.key "$c.key"; done
cp oldinter-leaf.key expired-inter.key
cp goneroot-leaf.key expired-root.key
cp selfsigned-leaf.key self-signed.key
cp corp-leaf.key untrusted-root.key
cp wronghost-leaf.key wrong-host.key
cp future-leaf.key not-yet-valid.key
cp sha1-leaf.key sha1.key
cp rsa1024-leaf.key rsa1024.key
cp clientonly-leaf.key bad-usage.key
cp nc-leaf.key name-constraints.key
cp crit-leaf.key critical-ext.key
cp pathlen-leaf.key path-length.key
cp notca-leaf.key invalid-ca.key
cp pol-leaf.key policy.key
cp aia-leaf.key incomplete-aia.key
cp revoked-leaf.key revoked.key
cp long-leaf.key long.key
cp good.key bad-signature.key
cp sct-leaf.key sct.key

# Trust stores.
cp modern-root.pem store-modern.pem
cp legacy-root.pem store-legacy.pem
cat modern-root.pem legacy-root.pem > store-both.pem
cat modern-root.pem gone-root.pem > store-goneroot.pem
