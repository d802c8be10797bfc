import { describe, expect, it } from 'vitest';
import { speechTranscribe } from '../../../src/adapters/ai_ml/speech.js';
import { translateDetect, translateText } from '../../../src/adapters/ai_ml/translate.js';
import { ttsSynthesize, wavDurationSeconds } from '../../../src/adapters/ai_ml/tts.js';
import { aiConfig, call, failure, run, sentWithKey, sentWithToken, useAiMlFake } from './helpers.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('Translation v2, Speech-to-Text v1 and Text-to-Speech v1 against fakes', () => {
  const fake = useAiMlFake();

  describe('google_translate_text / google_translate_detect', () => {
    it('translates several texts in one v2 call and reports the detected source language', async () => {
      const result = await run(translateText, { texts: ['Hello', 'Good night'], target: 'fr' }, aiConfig(fake, 'key'));
      const req = fake.last('/language/translate/v2');
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/language/translate/v2');
      sentWithKey(req);
      expect(JSON.parse(req.body)).toEqual({ q: ['Hello', 'Good night'], target: 'fr', format: 'text' });
      expect(result).toEqual({
        target: 'fr',
        translations: [
          { text: '[fr] Hello', detected_source_language: 'en' },
          { text: '[fr] Good night', detected_source_language: 'en' },
        ],
      });
      expect(translateText.output!.safeParse(result).success).toBe(true);
    });

    it('sends the given source language and html format with OAuth', async () => {
      const result = await run(translateText, { texts: ['<b>Hi</b>'], target: 'de', source: 'en', format: 'html' }, aiConfig(fake, 'oauth'));
      sentWithToken(fake.last('/language/translate/v2'));
      expect(fake.lastBody('/language/translate/v2')).toEqual({ q: ['<b>Hi</b>'], target: 'de', format: 'html', source: 'en' });
      expect(result.translations).toEqual([{ text: '[de] <b>Hi</b>', detected_source_language: 'en' }]);
    });

    it('maps the v2 error body (no status field) to upstream_error 400 "Invalid Value"', async () => {
      const err = await failure(run(translateText, { texts: ['Hi'], target: 'zz' }, aiConfig(fake, 'key')));
      expect(err.code).toBe('upstream_error');
      expect(err.details).toMatchObject({ upstream_status: 400, upstream_code: 'INVALID_ARGUMENT' });
      expect(err.message).toContain('Invalid Value');
    });

    it('caps the total characters at validation', () => {
      expect(translateText.input.safeParse({ texts: ['x'.repeat(20_000), 'y'.repeat(10_001)], target: 'fr' }).success).toBe(false);
      expect(translateText.input.safeParse({ texts: [], target: 'fr' }).success).toBe(false);
    });

    it('detects languages, picking the most confident candidate per text', async () => {
      const result = await run(translateDetect, { texts: ['Bonjour tout le monde', 'Hello'] }, aiConfig(fake, 'key'));
      const req = fake.last('/language/translate/v2/detect');
      sentWithKey(req);
      expect(JSON.parse(req.body)).toEqual({ q: ['Bonjour tout le monde', 'Hello'] });
      expect(result).toEqual({
        detections: [
          { index: 0, language: 'fr', confidence: 0.97, is_reliable: false },
          { index: 1, language: 'en', confidence: 1, is_reliable: false },
        ],
      });
    });
  });

  describe('google_speech_transcribe', () => {
    it('sends base64 audio with the recognition config and joins the results into one transcript', async () => {
      const audio = b64('hello world|second part');
      const result = await run(
        speechTranscribe,
        { audio, encoding: 'LINEAR16', sample_rate_hertz: 16000, language_code: 'en-GB', model: 'latest_short' },
        aiConfig(fake, 'key'),
      );
      const req = fake.last('/v1/speech:recognize');
      expect(req.method).toBe('POST');
      sentWithKey(req);
      expect(JSON.parse(req.body)).toEqual({
        config: { languageCode: 'en-GB', encoding: 'LINEAR16', sampleRateHertz: 16000, model: 'latest_short', enableAutomaticPunctuation: true },
        audio: { content: audio },
      });
      expect(result).toEqual({
        transcript: 'hello world second part',
        segments: [
          { transcript: 'hello world', confidence: 0.93, language_code: 'en-gb', end_time: '2.500s' },
          { transcript: ' second part', confidence: 0.93, language_code: 'en-gb', end_time: '4.500s' },
        ],
        billed_time: '15s',
        request_id: '1234567890',
        truncated: false,
      });
      expect(speechTranscribe.output!.safeParse(result).success).toBe(true);
    });

    it('passes a gs:// URI as audio.uri with OAuth', async () => {
      const result = await run(speechTranscribe, { audio: 'gs://bucket/call.flac' }, aiConfig(fake, 'oauth'));
      sentWithToken(fake.last('/v1/speech:recognize'));
      expect(fake.lastBody('/v1/speech:recognize')).toEqual({
        config: { languageCode: 'en-US', enableAutomaticPunctuation: true },
        audio: { uri: 'gs://bucket/call.flac' },
      });
      expect(result.transcript).toBe('audio from gs://bucket/call.flac');
    });

    it('returns an empty transcript when no speech is recognised', async () => {
      const result = await run(speechTranscribe, { audio: 'AAAA' }, aiConfig(fake, 'key'));
      expect(fake.lastBody('/v1/speech:recognize').audio).toEqual({ content: 'AAAA' });
      expect(result).toEqual({ transcript: '', segments: [], billed_time: '0s', request_id: '42', truncated: false });
    });

    it('refuses https:// audio at validation (Speech reads only inline audio or Cloud Storage)', () => {
      const parsed = speechTranscribe.input.safeParse({ audio: 'https://example.com/a.wav' });
      expect(parsed.success).toBe(false);
      expect(JSON.stringify(parsed.error?.issues)).toContain('gs://');
    });

    it('maps an INVALID_ARGUMENT answer to upstream_error with the API message', async () => {
      const err = await failure(run(speechTranscribe, { audio: b64('raw'), encoding: 'LINEAR16' }, aiConfig(fake, 'key')));
      expect(err.code).toBe('upstream_error');
      expect(err.details.upstream_status).toBe(400);
      expect(err.message).toContain('sample_rate_hertz must be specified');
    });
  });

  describe('google_tts_synthesize', () => {
    it('attaches the MP3 audio as MCP audio content and returns only metadata', async () => {
      const { ctx, result } = call(ttsSynthesize, { text: 'Hello there', voice_name: 'en-US-Neural2-F', speaking_rate: 1.25 }, aiConfig(fake, 'key'));
      const out = await result;
      const req = fake.last('/v1/text:synthesize');
      expect(req.method).toBe('POST');
      sentWithKey(req);
      expect(JSON.parse(req.body)).toEqual({
        input: { text: 'Hello there' },
        voice: { languageCode: 'en-US', name: 'en-US-Neural2-F' },
        audioConfig: { audioEncoding: 'MP3', speakingRate: 1.25 },
      });
      expect(ctx.media).toHaveLength(1);
      expect(ctx.media[0]!.type).toBe('audio');
      expect(ctx.media[0]!.mimeType).toBe('audio/mpeg');
      expect(Buffer.from(ctx.media[0]!.data, 'base64').toString()).toBe('ID3Hello there');
      expect(out).toEqual({
        attached: true,
        mime_type: 'audio/mpeg',
        audio_encoding: 'MP3',
        bytes: 14,
        duration_s: null,
        voice: { language_code: 'en-US', name: 'en-US-Neural2-F' },
        input_characters: 11,
      });
      expect(JSON.stringify(out)).not.toContain(ctx.media[0]!.data);
      expect(ttsSynthesize.output!.safeParse(out).success).toBe(true);
    });

    it('returns WAV for LINEAR16 with its duration from the header, and sends SSML as ssml (OAuth)', async () => {
      const ssml = '<speak>Twenty characters.</speak>';
      const { ctx, result } = call(ttsSynthesize, { text: ssml, input_type: 'ssml', audio_encoding: 'LINEAR16', ssml_gender: 'FEMALE' }, aiConfig(fake, 'oauth'));
      const out = await result;
      sentWithToken(fake.last('/v1/text:synthesize'));
      expect(fake.lastBody('/v1/text:synthesize')).toEqual({
        input: { ssml },
        voice: { languageCode: 'en-US', ssmlGender: 'FEMALE' },
        audioConfig: { audioEncoding: 'LINEAR16' },
      });
      expect(ctx.media[0]!.mimeType).toBe('audio/wav');
      expect(out).toMatchObject({ mime_type: 'audio/wav', duration_s: 3.3 });
    });

    it('uses audio/ogg for OGG_OPUS', async () => {
      const { ctx, result } = call(ttsSynthesize, { text: 'x', audio_encoding: 'OGG_OPUS' }, aiConfig(fake, 'key'));
      expect(await result).toMatchObject({ mime_type: 'audio/ogg', bytes: 5 });
      expect(ctx.media[0]!.mimeType).toBe('audio/ogg');
    });

    it('maps an unknown voice to upstream_error and attaches nothing', async () => {
      const { ctx, result } = call(ttsSynthesize, { text: 'x', voice_name: 'en-US-Nope' }, aiConfig(fake, 'key'));
      const err = await failure(result);
      expect(err.code).toBe('upstream_error');
      expect(err.details.upstream_status).toBe(400);
      expect(err.message).toContain("Voice 'en-US-Nope' does not exist");
      expect(ctx.media).toHaveLength(0);
    });

    it('enforces the 5000-byte input limit in UTF-8 bytes', () => {
      expect(ttsSynthesize.input.safeParse({ text: 'é'.repeat(2501) }).success).toBe(false);
      expect(ttsSynthesize.input.safeParse({ text: 'é'.repeat(2500) }).success).toBe(true);
    });

    it('reads WAV durations only from well-formed headers', () => {
      expect(wavDurationSeconds(Buffer.from('not a wav file at all, definitely not one'))).toBeNull();
    });
  });
});
