import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HubError } from '../../tools/errors.js';
import { defineTool } from '../../tools/types.js';
import { DOT_SEGMENT_MESSAGE, isDotSegment } from '../google/path.js';
import { googleRequest } from '../google/rest.js';
import { GOOGLEAPIS_HOST, SCOPES, WRITE_ANNOTATIONS, segment } from './shared.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;

const when = (which: string) =>
  z
    .string()
    .refine((v) => DATE.test(v) || DATE_TIME.test(v), 'must be YYYY-MM-DD (all-day) or an RFC 3339 date-time such as 2025-06-01T09:00:00')
    .describe(`${which}: "2025-06-01T09:00:00" (local to time_zone), "2025-06-01T09:00:00+02:00", or "2025-06-01" for an all-day event`);

interface EventTime {
  date?: string;
  dateTime?: string;
  timeZone?: string;
}

function eventTime(value: string, timeZone: string | undefined): EventTime {
  if (DATE.test(value)) return { date: value };
  return { dateTime: value.length === 16 ? `${value}:00` : value, ...(timeZone ? { timeZone } : {}) };
}

interface CalendarEvent {
  id?: string;
  status?: string;
  htmlLink?: string;
  summary?: string;
  start?: EventTime;
  end?: EventTime;
  attendees?: { email?: string; responseStatus?: string }[];
  hangoutLink?: string;
  organizer?: { email?: string };
}

export const calendarCreateEvent = defineTool({
  name: 'google_calendar_create_event',
  system: 'workspace',
  title: 'Create a Google Calendar event',
  description:
    'Create an event in a Google Calendar: title, start/end (date-time with time zone, or all-day dates), description, location, attendees (optionally emailed invitations) and an optional Google Meet link. Returns the event id and link.',
  level: 'MEDIUM',
  input: z.object({
    summary: z.string().min(1).max(1024).describe('Event title'),
    start: when('Start'),
    end: when('End (exclusive day for all-day events: a one-day event on 2025-06-01 ends 2025-06-02)'),
    time_zone: z.string().regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+){0,2}$|^UTC$/).max(64).optional().describe('IANA time zone for start/end without an offset, e.g. Europe/Paris; default: the calendar\'s zone'),
    calendar_id: z.string().min(1).max(255).refine((v) => !isDotSegment(v), DOT_SEGMENT_MESSAGE).default('primary').describe('Calendar id: "primary" (the account\'s calendar) or a calendar\'s email-like id'),
    description: z.string().max(8000).optional().describe('Event description (plain text or simple HTML)'),
    location: z.string().max(1024).optional().describe('Free-text location or address'),
    attendees: z.array(z.email().max(320).describe('Attendee email address')).max(100).optional().describe('Guests to invite (≤ 100)'),
    send_updates: z.enum(['all', 'externalOnly', 'none']).default('none').describe('Email invitations: all guests, only non-Google-Calendar guests, or none'),
    create_meet_link: z.boolean().default(false).describe('Attach a new Google Meet video conference'),
  }),
  output: z.object({
    id: z.string(),
    status: z.string(),
    html_link: z.string().nullable(),
    summary: z.string(),
    start: z.object({ date: z.string().optional(), dateTime: z.string().optional(), timeZone: z.string().optional() }),
    end: z.object({ date: z.string().optional(), dateTime: z.string().optional(), timeZone: z.string().optional() }),
    attendees: z.array(z.object({ email: z.string(), response_status: z.string().nullable() })),
    meet_link: z.string().nullable(),
  }),
  annotations: WRITE_ANNOTATIONS,
  async run(args, ctx) {
    const allDay = DATE.test(args.start);
    if (allDay !== DATE.test(args.end)) {
      throw new HubError('invalid_arguments', 'start and end must both be dates (all-day) or both be date-times', { field: 'end' });
    }
    const startMs = Date.parse(args.start);
    const endMs = Date.parse(args.end);
    // Without offsets both are read in the same zone, so comparing them as UTC is exact.
    if (!Number.isNaN(startMs) && !Number.isNaN(endMs) && endMs <= startMs) {
      throw new HubError('invalid_arguments', 'end must be after start', { field: 'end' });
    }
    const body = {
      summary: args.summary,
      start: eventTime(args.start, args.time_zone),
      end: eventTime(args.end, args.time_zone),
      ...(args.description ? { description: args.description } : {}),
      ...(args.location ? { location: args.location } : {}),
      ...(args.attendees?.length ? { attendees: args.attendees.map((email) => ({ email })) } : {}),
      ...(args.create_meet_link ? { conferenceData: { createRequest: { requestId: randomUUID(), conferenceSolutionKey: { type: 'hangoutsMeet' } } } } : {}),
    };
    const ev = await googleRequest<CalendarEvent>(ctx, {
      host: GOOGLEAPIS_HOST,
      path: `/calendar/v3/calendars/${segment(args.calendar_id)}/events`,
      method: 'POST',
      query: { sendUpdates: args.send_updates, ...(args.create_meet_link ? { conferenceDataVersion: 1 } : {}) },
      body,
      auth: SCOPES.calendarEvents,
      // A retried insert would create a second event.
      idempotent: false,
    });
    return {
      id: ev.id ?? '',
      status: ev.status ?? 'confirmed',
      html_link: ev.htmlLink ?? null,
      summary: ev.summary ?? args.summary,
      start: ev.start ?? body.start,
      end: ev.end ?? body.end,
      attendees: (ev.attendees ?? []).map((a) => ({ email: a.email ?? '', response_status: a.responseStatus ?? null })),
      meet_link: ev.hangoutLink ?? null,
    };
  },
});
