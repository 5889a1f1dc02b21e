/** A statistical event found in a bot log, in the form it is queued in the outbox. */
export interface TrackerEvent {
  /** `customEventName`, for example `appointment_open`. */
  name: string;
  /** MAX user id as its exact decimal digits. */
  userId: string;
  /** When the event happened: unix time in whole seconds. */
  timestamp: number;
  /** Bot nickname without the leading `@`. */
  bot: string;
}

/** Where an event's line sits in its source file. */
export interface EventSource {
  /** Checkpoint key of the file (see the tail module's file identity). */
  fileKey: string;
  /** Byte offset of the first byte of the line. */
  offset: number;
  /** Byte offset just past the line and its newline. */
  end: number;
}

/** Builds the request body exactly as the tracker's contract lays it out. */
export function buildRequestBody(event: TrackerEvent, region: string): string {
  // customUserId is spliced in as digits so ids above 2^53 never pass through a double.
  return (
    `{"customUserId":${JSON.stringify(event.userId)},` +
    `"customEventName":${JSON.stringify(event.name)},` +
    `"customEventParams":{"bot_name":${JSON.stringify(event.bot)},"region":${JSON.stringify(region)}},` +
    `"eventTimestamp":${Math.trunc(event.timestamp)}}`
  );
}
