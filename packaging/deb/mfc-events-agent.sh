#!/bin/sh
# /usr/bin/mfc-events-agent: runs the bundled agent with the first Node.js >= 20.19 it finds.
# Debian 12's own nodejs package is 18.x, so Node usually comes from elsewhere (NodeSource,
# the official tarball). Set MFC_EVENTS_AGENT_NODE to pick a node binary explicitly.

BUNDLE=/usr/lib/mfc-events-agent/mfc-events-agent.cjs

# Exits 0 when the node binary in $1 is version 20.19 or newer.
node_is_recent() {
  "$1" -e 'const [major, minor] = process.versions.node.split(".").map(Number);
process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)' 2>/dev/null
}

for candidate in "${MFC_EVENTS_AGENT_NODE:-}" /usr/local/bin/node /usr/bin/node \
  /usr/bin/nodejs "$(command -v node 2>/dev/null)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && node_is_recent "$candidate"; then
    # exec, so that systemd's and pm2's signals reach node itself. A 1 MiB young generation
    # semi-space keeps the agent's resident memory low; the bundle adds --optimize-for-size.
    exec "$candidate" --max-semi-space-size=1 --single-threaded-gc --v8-pool-size=1 "$BUNDLE" "$@"
  fi
done

echo "mfc-events-agent: Node.js 20.19 or newer was not found" \
  "(looked at \$MFC_EVENTS_AGENT_NODE, /usr/local/bin/node, /usr/bin/node, /usr/bin/nodejs, PATH)." \
  "Install Node.js 20.19+ there, or set MFC_EVENTS_AGENT_NODE=/path/to/node." >&2
exit 127
