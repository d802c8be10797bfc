import type { SystemDefinition } from '../../tools/types.js';
import { googleMissingConfig } from '../google/credentials.js';
import { calendarCreateEvent } from './calendar.js';
import { checkWorkspace } from './check.js';
import { driveList, driveUpload } from './drive.js';
import { gmailSearch, gmailSend } from './gmail.js';
import { sheetsRead, sheetsWrite } from './sheets.js';

/**
 * Google Workspace (Gmail, Drive, Sheets, Calendar) over REST with googleRequest (undici). These APIs take OAuth
 * tokens only (an API key cannot reach user data): GOOGLE_OAUTH_TOKEN, a service-account key, or ADC.
 */
export const system: SystemDefinition = {
  id: 'workspace',
  title: 'Google Workspace',
  tools: [gmailSend, gmailSearch, driveList, driveUpload, sheetsRead, sheetsWrite, calendarCreateEvent],
  missingConfig: (config) => googleMissingConfig(config),
  check: checkWorkspace,
};
