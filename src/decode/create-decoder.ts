import type { BotConfig } from '../config/schema.js';
import { createCriDecoder } from './cri-decoder.js';
import { createDockerDecoder } from './docker-decoder.js';
import { createJsonDecoder } from './json-decoder.js';
import { createPm2Decoder } from './pm2-decoder.js';
import type { FormatDecoder } from './record.js';
import { createTextDecoder } from './text-decoder.js';

/**
 * Creates the decoder of one file in the bot's format. `textPattern` is required for the
 * `text` format. Joined multi-part lines are limited to `maxLineBytes` UTF-16 characters, an
 * approximation of bytes that is exact for ASCII.
 */
export function createFormatDecoder(bot: BotConfig, textPattern?: RegExp): FormatDecoder {
  const maxLineChars = bot.maxLineBytes ?? 1024 * 1024;
  switch (bot.format ?? 'json') {
    case 'json':
      return createJsonDecoder();
    case 'docker':
      return createDockerDecoder(maxLineChars);
    case 'cri':
      return createCriDecoder(maxLineChars);
    case 'pm2':
      return createPm2Decoder(maxLineChars);
    case 'text':
      if (textPattern === undefined)
        throw new Error(`bot '${bot.name}': text format needs a pattern`);
      return createTextDecoder(textPattern);
  }
}
