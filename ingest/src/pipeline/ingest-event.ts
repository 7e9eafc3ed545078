import type { IngestEvent } from '@anlian/protocol';

export type { IngestEvent };

/** A listener of {@link IngestPipeline.onEvent}: called synchronously, before the message is stored. */
export type IngestEventListener = (event: IngestEvent) => void;
