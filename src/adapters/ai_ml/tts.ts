import { z } from 'zod';
import { HubError } from '../../tools/errors.js';
import { defineTool } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { KEY_OR_OAUTH, languageCodeField } from './shared.js';

const TTS_HOST = 'texttospeech.googleapis.com';
/** The API's own input limit (bytes of text or SSML). */
export const MAX_INPUT_BYTES = 5000;

/** LINEAR16 comes back as a WAV file (header included); OGG_OPUS in an Ogg container. */
export const MIME_TYPES = { MP3: 'audio/mpeg', LINEAR16: 'audio/wav', OGG_OPUS: 'audio/ogg' } as const;

export const ttsSynthesize = defineTool({
  name: 'google_tts_synthesize',
  system: 'ai_ml',
  title: 'Synthesize speech (Text-to-Speech)',
  description:
    'Turn text or SSML (≤ 5000 bytes) into speech with Cloud Text-to-Speech. The audio is returned as MCP audio content (MP3, WAV or Ogg Opus); the JSON result holds only its metadata.',
  level: 'MEDIUM',
  input: z.object({
    text: z
      .string()
      .min(1)
      .max(MAX_INPUT_BYTES)
      .refine((t) => Buffer.byteLength(t, 'utf8') <= MAX_INPUT_BYTES, `must be at most ${MAX_INPUT_BYTES} bytes (UTF-8)`)
      .describe('The text to speak, or an SSML document when input_type is ssml (≤ 5000 bytes)'),
    input_type: z.enum(['text', 'ssml']).default('text').describe('text for plain text; ssml for <speak>…</speak> markup'),
    language_code: languageCodeField.default('en-US').describe('Voice language as BCP-47, e.g. en-US, en-GB, de-DE'),
    voice_name: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a voice name such as en-US-Neural2-F')
      .optional()
      .describe('Exact voice, e.g. en-US-Neural2-F or en-US-Chirp3-HD-Aoede; the API picks one for the language when omitted'),
    ssml_gender: z.enum(['FEMALE', 'MALE', 'NEUTRAL']).optional().describe('Preferred voice gender when voice_name is omitted'),
    audio_encoding: z.enum(['MP3', 'LINEAR16', 'OGG_OPUS']).default('MP3').describe('MP3 (audio/mpeg), LINEAR16 (WAV) or OGG_OPUS (audio/ogg)'),
    speaking_rate: z.number().min(0.25).max(4).optional().describe('Speed, 0.25-4.0; 1.0 is normal'),
    pitch: z.number().min(-20).max(20).optional().describe('Pitch shift in semitones, -20 to 20'),
    sample_rate_hertz: z.number().int().min(8000).max(48000).optional().describe('Output sample rate in Hz; the voice default when omitted'),
  }),
  output: z.object({
    attached: z.boolean(),
    mime_type: z.string(),
    audio_encoding: z.string(),
    bytes: z.number(),
    duration_s: z.number().nullable(),
    voice: z.object({ language_code: z.string(), name: z.string().nullable() }),
    input_characters: z.number(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async run(args, ctx) {
    const res = await googleRequest<{ audioContent?: string }>(ctx, {
      host: TTS_HOST,
      path: '/v1/text:synthesize',
      method: 'POST',
      body: {
        input: args.input_type === 'ssml' ? { ssml: args.text } : { text: args.text },
        voice: { languageCode: args.language_code, name: args.voice_name, ssmlGender: args.ssml_gender },
        audioConfig: {
          audioEncoding: args.audio_encoding,
          speakingRate: args.speaking_rate,
          pitch: args.pitch,
          sampleRateHertz: args.sample_rate_hertz,
        },
      },
      auth: KEY_OR_OAUTH,
      idempotent: true,
    });
    if (!res.audioContent) throw new HubError('upstream_error', 'Text-to-Speech returned no audio', { upstream_status: 200 });
    const audio = Buffer.from(res.audioContent, 'base64');
    const mimeType = MIME_TYPES[args.audio_encoding];
    ctx.attach({ type: 'audio', data: res.audioContent, mimeType });
    return {
      attached: true,
      mime_type: mimeType,
      audio_encoding: args.audio_encoding,
      bytes: audio.length,
      duration_s: args.audio_encoding === 'LINEAR16' ? wavDurationSeconds(audio) : null,
      voice: { language_code: args.language_code, name: args.voice_name ?? null },
      input_characters: args.text.length,
    };
  },
});

/** Duration of a PCM WAV file from its header, or null when the header is not the canonical RIFF/WAVE one. */
export function wavDurationSeconds(wav: Buffer): number | null {
  if (wav.length < 44 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') return null;
  const byteRate = wav.readUInt32LE(28);
  if (byteRate === 0) return null;
  // Walk the chunks to the data chunk: its size is the audio length.
  let offset = 12;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === 'data') return Math.round((Math.min(size, wav.length - offset - 8) / byteRate) * 1000) / 1000;
    offset += 8 + size + (size % 2);
  }
  return null;
}
