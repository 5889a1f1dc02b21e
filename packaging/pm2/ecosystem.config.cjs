// pm2 process file that runs mfc-events-agent next to a bot pm2 already manages:
//
//   pm2 start /path/to/ecosystem.config.cjs && pm2 save
//
// It expects the single-file bundle (mfc-events-agent.cjs from `npm run bundle`) and config.yaml
// in the directory of this file. These environment variables override the paths:
//   MFC_AGENT_BUNDLE   path of the bundle, or of bin/mfc-events-agent.js in a repository checkout
//   MFC_AGENT_CONFIG   path of the configuration file
//   MFC_AGENT_LOG_DIR  directory of the agent's own logs (default: logs/ beside this file)
//
// The agent's own logs must not match any bot's `include` globs, or it would read itself.
const path = require('node:path');

const bundle = process.env.MFC_AGENT_BUNDLE || path.join(__dirname, 'mfc-events-agent.cjs');
const config = process.env.MFC_AGENT_CONFIG || path.join(__dirname, 'config.yaml');
const logDir = process.env.MFC_AGENT_LOG_DIR || path.join(__dirname, 'logs');

/** Default of `shutdownTimeoutMs` in the configuration: the time requests in flight get on stop. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

module.exports = {
  apps: [
    {
      name: 'mfc-events-agent',
      script: bundle,
      args: ['run', '--config', config],
      interpreter: 'node',
      // A 1 MiB young-generation semi-space keeps resident memory low (the bundle adds
      // --optimize-for-size itself).
      node_args: ['--max-semi-space-size=1', '--single-threaded-gc', '--v8-pool-size=1'],
      // One process only: the agent locks its state directory, so a second copy would exit.
      exec_mode: 'fork',
      instances: 1,
      autorestart: true,
      // Exit status 2 is an unusable configuration: restarting cannot fix it, so pm2 stops.
      // NOTE: pm2 7 then lists the app as "waiting restart" although it does not restart it.
      stop_exit_codes: [2],
      // Restarts after a crash back off from 1 s by a factor of 1.5 up to 15 s (pm2 7).
      exp_backoff_restart_delay: 1000,
      // pm2 stops with SIGINT and sends SIGKILL after kill_timeout ms. The agent handles SIGINT
      // like SIGTERM and needs shutdownTimeoutMs plus the final state save; raise both together.
      kill_timeout: SHUTDOWN_TIMEOUT_MS + 20_000,
      watch: false,
      out_file: path.join(logDir, 'mfc-events-agent.out.log'),
      error_file: path.join(logDir, 'mfc-events-agent.err.log'),
      merge_logs: true,
      // The agent's JSON log lines carry their own time.
      time: false,
      env: {
        NODE_ENV: 'production',
      },
    },
  ],
};
