#!/bin/sh
# Builds the Debian package mfc-events-agent_<version>_all.deb with dpkg-deb.
#
# Usage: packaging/deb/build.sh [--version VERSION] [--bundle FILE] [--out DIR]
#   --version  package version (default: "version" in package.json)
#   --bundle   an existing single-file bundle (default: build one with packaging/bundle.mjs)
#   --out      directory for the .deb (default: dist/)
#
# Node.js is not a dependency: Debian 12 ships nodejs 18, older than the 20.19 the agent needs,
# and servers often have Node from NodeSource or a tarball instead. /usr/bin/mfc-events-agent
# looks for a recent enough node at run time, and the package only recommends nodejs (>= 20.19).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NAME=mfc-events-agent
VERSION=""
BUNDLE=""
OUT="$ROOT/dist"

while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION=$2; shift 2 ;;
    --bundle) BUNDLE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "build.sh: unknown argument '$1'; see the usage at the top of $0" >&2; exit 2 ;;
  esac
done

command -v dpkg-deb >/dev/null || { echo "build.sh: dpkg-deb not found; apt-get install dpkg" >&2; exit 1; }
if [ -z "$VERSION" ]; then
  VERSION=$(node -p "require('$ROOT/package.json').version")
fi
case "$VERSION" in
  [0-9]*) ;;
  *) echo "build.sh: invalid version '$VERSION': a Debian version starts with a digit" >&2; exit 2 ;;
esac

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

if [ -z "$BUNDLE" ]; then
  BUNDLE="$STAGE/bundle.cjs"
  node "$ROOT/packaging/bundle.mjs" --outfile "$BUNDLE" >/dev/null
fi
[ -f "$BUNDLE" ] || { echo "build.sh: bundle not found: $BUNDLE" >&2; exit 1; }

PKG="$STAGE/pkg"
DOC="$PKG/usr/share/doc/$NAME"
install -d "$PKG/DEBIAN" "$PKG/usr/bin" "$PKG/usr/lib/$NAME" "$PKG/lib/systemd/system" \
  "$PKG/etc/$NAME" "$DOC"
install -m 0644 "$BUNDLE" "$PKG/usr/lib/$NAME/$NAME.cjs"
install -m 0755 "$HERE/mfc-events-agent.sh" "$PKG/usr/bin/$NAME"
install -m 0644 "$ROOT/packaging/systemd/$NAME.service" "$PKG/lib/systemd/system/$NAME.service"
# 0640 from the start; postinst gives the group to the service user.
chmod 0750 "$PKG/etc/$NAME"
install -m 0640 "$HERE/config.yaml" "$PKG/etc/$NAME/config.yaml"
install -m 0644 "$HERE/copyright" "$DOC/copyright"
if [ -f "$ROOT/docs/ru/README.md" ]; then
  install -m 0644 "$ROOT/docs/ru/README.md" "$DOC/README.ru.md"
fi
for script in postinst prerm postrm; do
  install -m 0755 "$HERE/$script" "$PKG/DEBIAN/$script"
done
echo "/etc/$NAME/config.yaml" >"$PKG/DEBIAN/conffiles"

INSTALLED_KB=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
cat >"$PKG/DEBIAN/control" <<CONTROL
Package: $NAME
Version: $VERSION
Architecture: all
Maintainer: ${DEB_MAINTAINER:-mfc-events-agent maintainers <root@localhost>}
Section: admin
Priority: optional
Installed-Size: $INSTALLED_KB
Depends: adduser | passwd
Recommends: nodejs (>= 20.19)
Description: forwards MFC bot appointment events to the federal tracker
 Follows the JSON log files of MFC chat bots on the MAX messenger, recognises
 "appointment booked" and "appointment cancelled" lines by rules written in
 YAML, and sends each as one event to the federal tracker's S2S API with the
 event's original time, exactly once across restarts, rotations and crashes.
 .
 Needs Node.js 20.19 or newer at /usr/local/bin/node or /usr/bin/node.
CONTROL

(cd "$PKG" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) \
  >"$PKG/DEBIAN/md5sums"

mkdir -p "$OUT"
DEB="$OUT/${NAME}_${VERSION}_all.deb"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
echo "$DEB"
