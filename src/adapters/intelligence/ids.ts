import { createHash } from 'node:crypto';

const digest = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 32);

/** Document id of an Auto Builder result: derived from the call's correlation id, so one call stores one document. */
export const autobuilderDocumentId = (correlationId: string): string => `ab_${digest(correlationId)}`;

/** Document id of an Auto Builder callback: derived from its correlation id, so a repeated callback is a duplicate. */
export const callbackDocumentId = (correlationId: string): string => `cb_${digest(correlationId)}`;
