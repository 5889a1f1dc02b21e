/**
 * One bot log record after its format is decoded: the fields rules match against and where its
 * lines sit in the file.
 */
export interface DecodedRecord {
  /** Fields the rules match against. */
  fields: Record<string, unknown>;
  /** JSON text the fields were parsed from, re-read losslessly for big ids; null for text. */
  jsonText: string | null;
  /** False when the bot line was not JSON and `fields` is the container envelope around it. */
  structured: boolean;
  /** Time from the container or pm2 envelope, used when a rule names no time field. */
  envelopeTime?: unknown;
  /** File offset of the first line of the record. */
  offset: number;
  /** File offset just past the last line of the record and its newline. */
  end: number;
}

/** Decoding result of one log line, for the line counters. */
export type DecodeStatus = 'decoded' | 'not_json';

/**
 * Decodes the lines of one file in one log format. A decoder may hold parts of a record that
 * spans several lines; it reports the offset of the oldest such line.
 */
export interface FormatDecoder {
  /**
   * Decodes one line (without its newline, BOM, leading NULs or trailing `\r`; never empty) and
   * appends the records it completes to `out`. Returns `not_json` when the line is not in the
   * format.
   */
  decode(line: string, offset: number, end: number, out: DecodedRecord[]): DecodeStatus;
  /** File offset of the first line of a record still being assembled, or null. */
  pendingOffset(): number | null;
  /** Forgets assembled parts, after a truncation. */
  reset(): void;
}
