import type { LoadedConfig } from '../config/load.js';
import { classifyAnswer } from '../delivery/answer-policy.js';
import { createSender } from '../delivery/sender.js';

/**
 * Event name of the credentials probe. The tracker accepts names outside its list of event types
 * but does not count them, so the probe leaves the region's statistics untouched.
 */
export const PROBE_EVENT_NAME = 'mfc_agent_credentials_check';

/**
 * Sends one probe event to the configured tracker and prints what its response means for the app
 * id and token. Returns the exit status: 0 when the credentials were accepted, 1 otherwise.
 */
export async function checkCredentialsOnline(loaded: LoadedConfig): Promise<number> {
  const { tracker } = loaded.config;
  const sender = createSender({ tracker, token: loaded.token });
  const bot = loaded.config.bots[0]?.name ?? 'mfc_bot';
  const result = await sender.send({
    name: PROBE_EVENT_NAME,
    userId: '1',
    timestamp: Math.floor(Date.now() / 1000),
    bot,
  });
  await sender.close();
  if (result.kind === 'aborted') return 1;

  const decision = classifyAnswer(result);
  const where = `${tracker.url} (app ${tracker.appId}, region ${tracker.region})`;
  switch (decision.kind) {
    case 'acknowledged':
      process.stdout.write(
        `online check: the tracker at ${where} accepted the app id and token.\n`
      );
      return 0;
    case 'pause':
      process.stdout.write(
        decision.reason === 'token_rejected'
          ? `online check failed: ${where} answered 403 Forbidden: the token is wrong or does not belong to app ${tracker.appId}. Check tracker.token or tracker.tokenFile and tracker.appId.\n`
          : `online check failed: ${where} answered ${decision.status} ${decision.error ?? ''}: the URL or the API version is wrong. Check tracker.url (the default is https://tracker-s2s.my.com/v1/customEvent/).\n`
      );
      return 1;
    case 'dead-letter':
      process.stdout.write(
        `online check: ${where} answered 400 Bad Request to the probe event; the token was not rejected, but check tracker.region and the bot name (${bot}).\n`
      );
      return 1;
    case 'retry':
      process.stdout.write(
        `online check failed: the tracker at ${where} could not be reached or failed (${decision.detail}). Check the network, the proxy variables (HTTPS_PROXY, NO_PROXY) and tracker.caFile, then try again.\n`
      );
      return 1;
  }
}
