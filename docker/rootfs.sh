#!/bin/bash
# The container image's runtime tree without a container engine: what
# docker/Dockerfile's runtime stage holds, assembled from the Debian
# package (the same .deb the image installs) plus the shared libraries,
# trust store and OpenSSL configuration it needs, copied from this Debian
# system, and a passwd entry for the chainproxy user. Run the image's
# entrypoint in it with a plain chroot (docs/install.md):
#   docker/rootfs.sh build/chainproxy_0.1.0_amd64.deb /tmp/rootfs
#   CHAINPROXY_HOME=/var/lib/chainproxy chroot --userspec=10001:10001 \
#     /tmp/rootfs /usr/bin/chainproxy ...
set -euo pipefail
deb=${1:?usage: rootfs.sh PACKAGE.deb DIR}
root=${2:?usage: rootfs.sh PACKAGE.deb DIR}
uid=${CP_ROOTFS_UID:-10001}

mkdir -p "$root"
dpkg-deb -x "$deb" "$root"
# The loader and every library the binary links, at the same paths.
for lib in $(ldd "$root/usr/bin/chainproxy" | awk '/\// {print ($2 == "=>") ? $3 : $1}'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# Trust: the system store and the distribution's roots (for
# private_root); OpenSSL's configuration (its security level).
mkdir -p "$root/etc/ssl/certs" "$root/usr/share/ca-certificates" \
  "$root/usr/lib/ssl" "$root/tmp" "$root/dev" "$root/var/lib/chainproxy"
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
cp -a /usr/share/ca-certificates/mozilla "$root/usr/share/ca-certificates/"
cp -L /etc/ssl/openssl.cnf "$root/etc/ssl/openssl.cnf"
ln -sfn /etc/ssl/openssl.cnf "$root/usr/lib/ssl/openssl.cnf"
ln -sfn /etc/ssl/certs "$root/usr/lib/ssl/certs"
chmod 1777 "$root/tmp"
# Name resolution as in any Debian image (files, then DNS).
cp -L /etc/nsswitch.conf "$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' \
  > "$root/etc/hosts"
[ -e "$root/dev/null" ] || mknod -m 666 "$root/dev/null" c 1 3
# The user the package's postinst would make, with a fixed uid.
printf 'root:x:0:0:root:/root:/bin/false\nchainproxy:x:%s:%s::/var/lib/chainproxy:/bin/false\n' \
  "$uid" "$uid" > "$root/etc/passwd"
printf 'root:x:0:\nchainproxy:x:%s:\n' "$uid" > "$root/etc/group"
chown "$uid:$uid" "$root/var/lib/chainproxy"
chmod 0700 "$root/var/lib/chainproxy"
echo "runtime tree in $root ($(du -sh "$root" | cut -f1))"
