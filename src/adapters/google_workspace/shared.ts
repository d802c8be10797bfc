
/** Hosts as Google documents them; GOOGLE_API_BASE_URL replaces all of them with one origin. */
export const GMAIL_HOST = 'gmail.googleapis.com';
export const GOOGLEAPIS_HOST = 'www.googleapis.com';
export const SHEETS_HOST = 'sheets.googleapis.com';

const AUTH = 'https://www.googleapis.com/auth';

/** The narrowest scope each call needs (a service-account token is minted per scope set). */
export const SCOPES: Record<'gmailSend' | 'gmailRead' | 'driveRead' | 'driveFile' | 'sheetsRead' | 'sheetsWrite' | 'calendarEvents', { scopes: string[] }> = {
  gmailSend: { scopes: [`${AUTH}/gmail.send`] },
  gmailRead: { scopes: [`${AUTH}/gmail.readonly`] },
  driveRead: { scopes: [`${AUTH}/drive.readonly`] },
  driveFile: { scopes: [`${AUTH}/drive.file`] },
  sheetsRead: { scopes: [`${AUTH}/spreadsheets.readonly`] },
  sheetsWrite: { scopes: [`${AUTH}/spreadsheets`] },
  calendarEvents: { scopes: [`${AUTH}/calendar.events`] },
};

export const WRITE_ANNOTATIONS = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true };
export const READ_ANNOTATIONS = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };

/** Path segment encoding for ids that may hold '@', '#', '!' or spaces (calendar ids, A1 ranges); "." and ".." refused. */
export { pathSegment as segment } from '../google/path.js';
