import { z } from 'zod';
import { capItems, capText } from '../../tools/limits.js';
import { defineTool } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { KEY_OR_OAUTH, languageCodeField, mediaField, mediaRef } from './shared.js';

/**
 * Speech-to-Text v1 synchronous recognition (speech:recognize): up to about one minute of audio, given inline as
 * base64 or as a gs:// URI. https:// URLs are refused at validation rather than fetched by the hub: fetching arbitrary
 * URLs from the gateway would be a server-side request forgery path, and Speech itself only reads Cloud Storage.
 */
const SPEECH_HOST = 'speech.googleapis.com';
export const MAX_SEGMENTS = 100;

const ENCODINGS = ['LINEAR16', 'FLAC', 'MULAW', 'AMR', 'AMR_WB', 'OGG_OPUS', 'SPEEX_WITH_HEADER_BYTE', 'WEBM_OPUS'] as const;
const MODELS = ['default', 'latest_long', 'latest_short', 'command_and_search', 'phone_call', 'video'] as const;

interface RecognizeResponse {
  results?: Array<{
    alternatives?: Array<{ transcript?: string; confidence?: number }>;
    channelTag?: number;
    resultEndTime?: string;
    languageCode?: string;
  }>;
  totalBilledTime?: string;
  requestId?: string;
}

export const speechTranscribe = defineTool({
  name: 'google_speech_transcribe',
  system: 'ai_ml',
  title: 'Transcribe speech (Speech-to-Text)',
  description:
    'Transcribe up to ~1 minute of audio with Speech-to-Text. Audio is base64 (or a data: URL) or a gs:// URI; https:// URLs are not fetched. WAV and FLAC headers give encoding and rate; set them for raw audio.',
  level: 'MEDIUM',
  input: z.object({
    audio: mediaField('audio', false),
    encoding: z
      .enum(ENCODINGS)
      .optional()
      .describe('Audio encoding; omit for WAV (LINEAR16 with header) and FLAC files, required for raw or compressed streams (e.g. OGG_OPUS, MULAW)'),
    sample_rate_hertz: z
      .number()
      .int()
      .min(8000)
      .max(48000)
      .optional()
      .describe('Sample rate in Hz (8000-48000); omit for WAV/FLAC where the header carries it'),
    language_code: languageCodeField.default('en-US').describe('Spoken language as BCP-47, e.g. en-US, fr-FR, ja-JP'),
    alternative_language_codes: z
      .array(languageCodeField.describe('A BCP-47 language code'))
      .max(3)
      .optional()
      .describe('Up to 3 other languages the speech may be in'),
    model: z.enum(MODELS).optional().describe('Recognition model: latest_long for media/long form, latest_short for commands, phone_call for telephony audio'),
    audio_channel_count: z.number().int().min(1).max(8).optional().describe('Channels in the audio (for multi-channel files)'),
    enable_automatic_punctuation: z.boolean().default(true).describe('Add punctuation to the transcript'),
  }),
  output: z.object({
    transcript: z.string(),
    segments: z.array(
      z.object({ transcript: z.string(), confidence: z.number().nullable(), language_code: z.string().nullable(), end_time: z.string().nullable() }),
    ),
    billed_time: z.string().nullable(),
    request_id: z.string().nullable(),
    truncated: z.boolean(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async run(args, ctx) {
    const ref = mediaRef(args.audio);
    const config = {
      languageCode: args.language_code,
      encoding: args.encoding,
      sampleRateHertz: args.sample_rate_hertz,
      alternativeLanguageCodes: args.alternative_language_codes,
      model: args.model,
      audioChannelCount: args.audio_channel_count,
      enableAutomaticPunctuation: args.enable_automatic_punctuation,
    };
    const res = await googleRequest<RecognizeResponse>(ctx, {
      host: SPEECH_HOST,
      path: '/v1/speech:recognize',
      method: 'POST',
      body: { config, audio: ref.kind === 'base64' ? { content: ref.data } : { uri: ref.uri } },
      auth: KEY_OR_OAUTH,
      idempotent: true,
    });
    const all = (res.results ?? []).map((r) => {
      const best = r.alternatives?.[0];
      return {
        transcript: best?.transcript ?? '',
        confidence: best?.confidence ?? null,
        language_code: r.languageCode ?? null,
        end_time: r.resultEndTime ?? null,
      };
    });
    const segments = capItems(all, MAX_SEGMENTS);
    // Results are consecutive stretches of the audio, some with a leading space: trimmed and joined with one.
    const transcript = capText(all.map((s) => s.transcript.trim()).filter(Boolean).join(' '));
    return {
      transcript: transcript.text,
      segments: segments.items,
      billed_time: res.totalBilledTime ?? null,
      request_id: res.requestId ?? null,
      truncated: transcript.truncated || segments.truncated,
    };
  },
});
