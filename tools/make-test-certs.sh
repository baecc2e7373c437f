#!/usr/bin/env bash
# Makes a throwaway PKI for trying Granary's TLS: a CA, a silo certificate and a client certificate it signed.
# For tests and development only: the keys are unencrypted and the CA key sits beside them.
#
#   tools/make-test-certs.sh DIR [SILO_HOST...]
#
# DIR gets ca.pem/ca.key, silo.pem/silo.key (SAN localhost, 127.0.0.1 and each SILO_HOST; EKU serverAuth and
# clientAuth, because a silo is both ends of silo-to-silo connections) and client.pem/client.key (EKU clientAuth).
# Needs openssl (Debian/Ubuntu: apt-get install -y openssl).
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [SILO_HOST...]" >&2
  exit 2
fi
command -v openssl >/dev/null 2>&1 || { echo "openssl not found (Debian/Ubuntu: apt-get install -y openssl)" >&2; exit 1; }
dir=$1
shift
days=${DAYS:-825}
mkdir -p "$dir"
cd "$dir"
umask 077

# Subject alternative names: clients check the silo's certificate against the host they were told (TargetHost).
san="DNS:localhost,IP:127.0.0.1"
for host in "$@"; do
  if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then san="$san,IP:$host"; else san="$san,DNS:$host"; fi
done

openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -days "$days" \
  -subj "/CN=Granary Test CA" -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" 2>/dev/null

issue() { # name subject extensions
  local name=$1 subject=$2 extensions=$3
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -subj "$subject" \
    -keyout "$name.key" -out "$name.csr" 2>/dev/null
  printf '%b' "$extensions" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

issue silo "/CN=granary-silo" \
  "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=$san\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
issue client "/CN=granary-client" \
  "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
rm -f ca.srl
# The certificates are public; the keys stay readable by the owner only (umask above).
chmod 644 ca.pem silo.pem client.pem

openssl verify -CAfile ca.pem -purpose sslserver silo.pem >/dev/null
openssl verify -CAfile ca.pem -purpose sslclient silo.pem >/dev/null
openssl verify -CAfile ca.pem -purpose sslclient client.pem >/dev/null
echo "made $(pwd)/{ca,silo,client}.{pem,key} (silo SAN: $san)"
